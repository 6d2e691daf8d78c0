// A counterparty whose account refuses ETH (EIP-7702 code that reverts) cannot keep the honest side's money in the
// channel: the SDK pays a whole outcome when it can and its own allocation alone, by index, when the other side
// refuses its part. Found by a review of the ADR 0005 redesign; these tests failed before the fallback.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { concat, parseEther } from "ethers";
import {
  ChannelWatcher,
  findRegistration,
  gasSpentSince,
  type SignedVariablePart,
  SqliteChannelStore,
  stateHash,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");
const PAID = 7n * PRICE;
const MAX_TURN = (1n << 48n) - 1n;
/** Runtime code that reverts on any call, ETH transfers included. */
const REVERT_ALWAYS = "0x60006000fd";

describe("SDK: a counterparty that refuses its payout cannot keep ours in the channel", function () {
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];

  async function clientFor(signer: Signer) {
    const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
    stores.push(store);
    return sdkClient(f, signer, store);
  }

  async function paidChannel() {
    const payer = await clientFor(f.alice);
    const payee = await clientFor(f.bob);
    const { id, fixedPart } = await payer.open({ payee: f.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(id);
    for (let i = 0; i < 7; i++) payee.receive(await payer.pay(id, PRICE));
    const funding = payer.store.getSupportedState(id);
    if (!funding) throw new Error("no funding state");
    return { payer, payee, id, fixedPart, funding, startBlock: await ethers.provider.getBlockNumber() };
  }

  /** An EIP-7702 delegation of `account` to code that reverts on every call: the key still signs, ETH bounces. */
  async function delegateToReverter(account: string) {
    const target = ethers.Wallet.createRandom().address;
    await networkHelpers.setCode(target, REVERT_ALWAYS);
    await networkHelpers.setCode(account, concat(["0xef0100", target]));
  }

  async function receivedSince(account: string, before: bigint, block: number): Promise<bigint> {
    const [gas] = await gasSpentSince(ethers.provider, [account], block);
    return (await ethers.provider.getBalance(account)) - before + gas;
  }

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-review-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a hostile payee whose account refuses ETH (EIP-7702 code): the payer's watcher pays her allocation alone", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    // The payee registers its largest voucher (legitimately), then delegates its account to code that reverts.
    await payee.challenge(id);
    await delegateToReverter(f.bob.address);
    await networkHelpers.time.increaseTo((await f.adjudicator.statusOf(id))[1]);
    const logs: string[] = [];
    const watcher = new ChannelWatcher(payer, { log: (e, x) => logs.push(`${e} ${String(x.error ?? "")}`) });
    for (let i = 0; i < 3; i++) await watcher.scanOnce();
    // transferAllAssets pays both in one call and the payee's refusal reverts it: the watcher pays hers alone, at
    // the first scan, and then stops (no failed scan, no second transaction).
    expect(logs.join("\n"), "no scan failed").to.not.include("EthPayoutFailed");
    expect(logs.filter((l) => l.startsWith("paid-out"))).to.have.length(1);
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
  });

  it("a hostile payer whose account refuses ETH: the payee's redeem pays it its vouchers alone", async function () {
    const { payee, id, startBlock } = await paidChannel();
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    await delegateToReverter(f.alice.address);
    let error: unknown;
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) }).catch((e) => (error = e));
    expect(error, "redeem pays the payee its allocation alone").to.equal(undefined);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
  });

  it("a payer whose account refuses ETH offers a close: the payee's close concludes, then pays its own allocation", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const offer = await payer.offerClose(id);
    await delegateToReverter(f.alice.address);
    await payee.close(offer);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect(payee.store.getChannel(id)?.phase).to.equal("withdrawn");
  });

  it("against that payee the payer's funds are not lost on chain: a payout by index of her allocation alone pays her", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    await payee.challenge(id);
    await delegateToReverter(f.bob.address);
    await networkHelpers.time.increaseTo((await f.adjudicator.statusOf(id))[1]);
    const { variablePart, owed, heldEth } = await payer.registration(id);
    // What the SDK's payout could fall back to: its own allocation (index 0 for the payer), by index.
    await f.adjudicator.connect(f.alice).transfer(0n, id, stateHash(id, variablePart), owed, heldEth, [0n]);
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    // ... and the SDK still finds the registration afterwards (the payee's PAID is what is left owed).
    expect((await payer.registration(id)).owed[0].allocations[1].amount).to.equal(PAID);
  });

  it("a hostile payee registering at turn 2^48 - 1 (empty signature slot) cannot be answered, and the payer's watcher still pays her", async function () {
    const { payer, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const bob = f.adjudicator.connect(f.bob);
    const low = sentByPayee(await voucherState(f.alice, id, funding.variablePart, 1n, PRICE));
    await bob.challenge(fixedPart, [funding], low, "0x", await registrationNow(f.adjudicator, fixedPart));
    const top = sentByPayee(await voucherState(f.alice, id, funding.variablePart, MAX_TURN, PAID));
    await bob.checkpoint(fixedPart, [funding], top, await registrationNow(f.adjudicator, fixedPart));
    const registration = await registrationNow(f.adjudicator, fixedPart);
    // Nothing follows the record: respond reverts with the app's error, not an overflow panic.
    const same = sentByPayee(await voucherState(f.alice, id, top.variablePart, 0n, PAID, PAID));
    await bob
      .respond(fixedPart, top.variablePart, same, registration.heldEth)
      .then(() => expect.fail("respond after the top turn"))
      .catch((e) => expect(String(e)).to.include("TurnNumberNotNext"));
    await networkHelpers.time.increaseTo((await f.adjudicator.statusOf(id))[1]);
    expect((await new ChannelWatcher(payer).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect((await findRegistration(f.adjudicator, id))?.owed).to.deep.equal([]);
  });
});

function sentByPayee(vp: VariablePart): SignedVariablePart {
  return toSigned(vp, new Map([[1, "0x"]]));
}
