// The SDK's actions on Hardhat's in-process chain: open, pay, close, and the disputes, each with who ends with
// what, to the wei. Stores are real SQLite files in a temporary directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BrowserProvider, parseEther, ZeroAddress } from "ethers";
import {
  ContractRevertError,
  PiecepayClient,
  type PiecepayClientOptions,
  PiecepayError,
  SqliteChannelStore,
  signVoucher,
  VoucherError,
  variablePartFromEvent,
} from "../../../sdk/node.js";
import { TestToken__factory } from "../../../typechain-types/index.js";
import { connection, deployFixture, ethers, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");
/** Safety settings for an automining chain: answers are mined in the block they are sent. */

async function setup() {
  const f = await deployFixture();
  const dir = mkdtempSync(join(tmpdir(), "piecepay-client-"));
  const stores: SqliteChannelStore[] = [];
  async function clientFor(signer: Signer, extra: Partial<PiecepayClientOptions> = {}) {
    const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
    stores.push(store);
    return sdkClient(f, signer, store, extra);
  }
  const payer = await clientFor(f.alice);
  const payee = await clientFor(f.bob);
  const cleanup = () => {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { ...f, payer, payee, clientFor, cleanup };
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string) {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    expect(error).to.be.instanceOf(PiecepayError);
    expect((error as PiecepayError).code).to.equal(code);
    return error as PiecepayError;
  }
  expect.fail(`expected ${code}`);
}

describe("PiecepayClient", function () {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    t = await setup();
  });
  afterEach(() => t.cleanup());

  it("opens, pays three times and closes in one transaction: the payee gets 3 x price, the payer the rest", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    expect(await t.adjudicator.holdings(ZeroAddress, channel.id)).to.equal(DEPOSIT);
    for (let i = 0; i < 3; i++) {
      const { delta } = await t.payee.receive(await t.payer.pay(channel.id, PRICE));
      expect(delta).to.equal(PRICE);
    }
    const offer = await t.payer.offerClose(channel.id);
    const [aliceBefore, bobBefore] = await balances(t.alice, t.bob);
    const receipt = await t.payee.close(offer);
    const [aliceAfter, bobAfter] = await balances(t.alice, t.bob);
    expect(aliceAfter - aliceBefore).to.equal(DEPOSIT - 3n * PRICE);
    expect(bobAfter - bobBefore).to.equal(3n * PRICE - receipt.gasUsed * receipt.gasPrice);
    expect(await t.adjudicator.holdings(ZeroAddress, channel.id)).to.equal(0n);
    expect((await t.payee.store.getChannel(channel.id))?.phase).to.equal("withdrawn");
  });

  it("lets the payee alone redeem its latest voucher: challenge, timeout, payout; the payer gets the rest", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    await t.payee.receive(await t.payer.pay(channel.id, PRICE));
    await t.payee.receive(await t.payer.pay(channel.id, PRICE));
    // The payer vanishes. The payee enforces 2 x price on chain.
    const bobBefore = await ethers.provider.getBalance(t.bob.address);
    const aliceBefore = await ethers.provider.getBalance(t.alice.address);
    const receipt = await t.payee.redeem(channel.id, {
      waitFor: (finalizesAt) => networkHelpers.time.increaseTo(finalizesAt),
    });
    expect(receipt.status).to.equal(1);
    expect(await ethers.provider.getBalance(t.alice.address)).to.equal(aliceBefore + DEPOSIT - 2n * PRICE);
    const spent = await gasSpentBy(t.bob.address, 2);
    expect(await ethers.provider.getBalance(t.bob.address)).to.equal(bobBefore + 2n * PRICE - spent);
  });

  it("answers the payer's stale challenge (the funding state) with the latest voucher: the payer gains nothing", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    await t.payee.receive(await t.payer.pay(channel.id, 5n * PRICE));
    await t.payer.challenge(channel.id); // registers turn 0: all to the payer
    const [event] = await t.adjudicator.queryFilter(t.adjudicator.filters.ChallengeRegistered(channel.id));
    const receipt = await t.payee.answer(channel.id, variablePartFromEvent(event.args));
    expect(receipt?.status).to.equal(1);
    // The answer is the payee's own challenge with its voucher (turn 1 over the payer's 0): its timer now runs.
    const registered = await t.payee.registeredState(channel.id);
    expect(registered.turnNum).to.equal(1n);
    expect(registered.outcome[0].allocations[1].amount).to.equal(5n * PRICE);
    const aliceBefore = await ethers.provider.getBalance(t.alice.address);
    await t.payee.redeem(channel.id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect(await t.adjudicator.holdings(ZeroAddress, channel.id)).to.equal(0n);
    expect(await ethers.provider.getBalance(t.alice.address)).to.equal(aliceBefore + DEPOSIT - 5n * PRICE);
  });

  it("settles for what was delivered when the payer paid ahead: the payee accepts no less than its minimum", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    await t.payee.receive(await t.payer.pay(channel.id, 4n * PRICE)); // 4 pieces paid ahead, 3 delivered
    await expectCode(t.payer.offerClose(channel.id, { paid: 5n * PRICE }), "INVALID_CLOSE_AMOUNT");
    const offer = await t.payer.offerClose(channel.id, { paid: 3n * PRICE });
    await expectCode(t.payee.close(offer), "INVALID_CLOSE_OFFER"); // by default the payee wants all 4
    await expectCode(t.payee.close(offer, { minimum: 3n * PRICE + 1n }), "INVALID_CLOSE_OFFER");
    const aliceBefore = await ethers.provider.getBalance(t.alice.address);
    await t.payee.close(offer, { minimum: 3n * PRICE });
    expect(await ethers.provider.getBalance(t.alice.address)).to.equal(aliceBefore + DEPOSIT - 3n * PRICE);
  });

  it("credits vouchers received back to back once each, by amount minus the one stored before; pays made at once sign rising vouchers", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    // Five payments started together: one after another per channel, each voucher above the last.
    const vouchers = await Promise.all([1, 2, 3, 4, 5].map(() => t.payer.pay(channel.id, PRICE)));
    expect(vouchers.map((v) => v.amount)).to.deep.equal([1n, 2n, 3n, 4n, 5n].map((n) => n * PRICE));
    // Received without waiting for each other, out of order and with a replay: 1, 3, 2, 3, 5, 4 pieces.
    const order = [0, 2, 1, 2, 4, 3].map((i) => vouchers[i]);
    const deltas = await Promise.all(order.map(async (v) => (await t.payee.receive(v)).delta));
    expect(deltas).to.deep.equal([PRICE, 2n * PRICE, 0n, 0n, 2n * PRICE, 0n]);
    expect(deltas.reduce((a, b) => a + b)).to.equal(5n * PRICE);
    expect(await t.payee.paid(channel.id)).to.equal(5n * PRICE);
    // The payee's close takes exactly what the largest voucher says.
    const offer = await t.payer.offerClose(channel.id);
    const aliceBefore = await ethers.provider.getBalance(t.alice.address);
    await t.payee.close(offer);
    expect(await ethers.provider.getBalance(t.alice.address)).to.equal(aliceBefore + DEPOSIT - 5n * PRICE);
  });

  it("refuses vouchers above the deposit or from anyone but the payer: nothing credited", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    await t.payee.waitForFunding(channel.id);
    await expectCode(t.payer.pay(channel.id, DEPOSIT + 1n), "VOUCHER_EXCEEDS_DEPOSIT");
    const forged = await signVoucher(t.carol, channel.id, PRICE);
    const error = await expectCode(t.payee.receive(forged), "VOUCHER_WRONG_SIGNER");
    expect(error).to.be.instanceOf(VoucherError);
    expect(await t.payee.paid(channel.id)).to.equal(0n);
  });

  it("refuses a challenge duration too short for its watcher, when proposing and when joining", async function () {
    const min = t.payer.minChallengeDuration();
    expect(min).to.equal(10n); // 1 s polling + 1 block of 1 s + 5 s margin, raised to the adjudicator's 10 s floor
    await expectCode(
      t.payer.propose({ payee: t.bob.address, deposit: DEPOSIT, challengeDuration: min - 1n }),
      "CHALLENGE_DURATION_TOO_SHORT",
    );
    const slowWatcher = await t.clientFor(t.bob, { pollingIntervalMs: 600_000 });
    const proposal = await t.payer.propose({ payee: t.bob.address, deposit: DEPOSIT, challengeDuration: 60n });
    await expectCode(slowWatcher.join(proposal), "CHALLENGE_DURATION_TOO_SHORT");
  });

  it("refuses proposals for another chain, adjudicator or payee, or not signed by the payer", async function () {
    const proposal = await t.payer.propose({ payee: t.bob.address, deposit: DEPOSIT });
    await expectCode(t.payee.join({ ...proposal, chainId: 1n }), "INVALID_PROPOSAL");
    await expectCode(t.payee.join({ ...proposal, adjudicator: t.appAddress }), "INVALID_PROPOSAL");
    const toCarol = await t.payer.propose({ payee: t.carol.address, deposit: DEPOSIT });
    await expectCode(t.payee.join(toCarol), "INVALID_PROPOSAL");
    await expectCode(t.payee.join({ ...proposal, payerSignature: `0x${"11".repeat(65)}` }), "INVALID_PROPOSAL");
  });

  it("refuses to sign or send on another chain than configured", async function () {
    await expectCode(
      PiecepayClient.create({
        signer: t.alice,
        chainId: 1n,
        adjudicator: t.adjudicatorAddress,
        voucherApp: t.appAddress,
        store: new SqliteChannelStore(":memory:"),
      }),
      "WRONG_CHAIN",
    );
  });

  it("decodes contract reverts into errors with a stable code; the refused challenge moves nothing", async function () {
    const channel = await t.payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => t.payee.join(p));
    // Challenging twice with the same state: the second is refused by the adjudicator.
    await t.payer.challenge(channel.id);
    const error = await expectCode(t.payer.challenge(channel.id), "TURN_NUMBER_TOO_LOW");
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).to.equal("TurnNumberTooLow");
    // The channel's ETH is committed by the first challenge; the SDK reads it with the registration it finds.
    expect((await t.payer.onChain(channel.id)).holdings).to.equal(DEPOSIT);
  });

  it("works through a bare EIP-1193 provider (ethers' BrowserProvider over Hardhat's EIP-1193 interface)", async function () {
    const eip1193 = new BrowserProvider(connection.provider);
    const [alice, bob] = await Promise.all([eip1193.getSigner(t.alice.address), eip1193.getSigner(t.bob.address)]);
    const payer = await t.clientFor(alice as unknown as Signer);
    const payee = await t.clientFor(bob as unknown as Signer);
    const channel = await payer.open({ payee: t.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id);
    await payee.receive(await payer.pay(channel.id, PRICE));
    const aliceBefore = await ethers.provider.getBalance(t.alice.address);
    await payee.close(await payer.offerClose(channel.id));
    expect(await ethers.provider.getBalance(t.alice.address)).to.equal(aliceBefore + DEPOSIT - PRICE);
  });

  it("funds ERC-20 channels, approving first, and closes them", async function () {
    const token = await new TestToken__factory(t.deployer).deploy();
    await token.mint(t.alice.address, DEPOSIT);
    const channel = await t.payer.open(
      { payee: t.bob.address, deposit: DEPOSIT, asset: await token.getAddress() },
      (p) => t.payee.join(p, { assets: [ZeroAddress, p.funding.outcome[0].asset] }),
    );
    await t.payee.waitForFunding(channel.id);
    await t.payee.receive(await t.payer.pay(channel.id, 7n));
    await t.payee.close(await t.payer.offerClose(channel.id));
    expect(await token.balanceOf(t.bob.address)).to.equal(7n);
    expect(await token.balanceOf(t.alice.address)).to.equal(DEPOSIT - 7n);
  });
});

async function balances(...accounts: Signer[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => ethers.provider.getBalance(a.address)));
}

/** ETH `account` spent on gas in its last `count` transactions. */
async function gasSpentBy(account: string, count: number): Promise<bigint> {
  let spent = 0n;
  let found = 0;
  for (let n = await ethers.provider.getBlockNumber(); n > 0 && found < count; n--) {
    const block = await ethers.provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== account.toLowerCase()) continue;
      const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
      if (receipt) {
        spent += receipt.gasUsed * receipt.gasPrice;
        found++;
      }
    }
  }
  return spent;
}
