// The honest side runs the SDK (PiecepayClient and ChannelWatcher) and reads everything it needs from the chain; the
// hostile side keeps every signature it saw (vouchers, the funding state, a close offer it countersigned) and calls
// the adjudicator directly, in any order, sending its own states with an empty signature slot. Whatever it does,
// the honest side exits within one challenge duration of the first challenge (ADR 0005) with exactly what the
// signatures entitle it to. Balances are read from the chain, less the gas each account spent (`gasSpentSince`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  ChannelWatcher,
  findRegistration,
  gasSpentSince,
  NO_REGISTRATION,
  type SignedVariablePart,
  SqliteChannelStore,
  signBy,
  stateHash,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");
const PAID = 7n * PRICE;

describe("SDK: the honest side exits against a hostile counterparty (SECURITY rows 29, 30)", function () {
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];

  async function clientFor(signer: Signer) {
    const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
    stores.push(store);
    return sdkClient(f, signer, store);
  }

  /** A channel the SDK opened (funding state at turn 0), with vouchers for PAID in seven payments. */
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

  /** Runs `watcher` scans while the chain's clock moves in steps to past `deadline`, calling `meddle` each step. */
  async function watchUntil(watcher: ChannelWatcher, deadline: bigint, meddle: (now: bigint) => Promise<void>) {
    const paidOut: string[] = [];
    for (;;) {
      const now = BigInt(await networkHelpers.time.latest());
      // Each meddling transaction is mined a second or two later: stop in time so that none lands after the deadline.
      if (now + 3n < deadline) await meddle(now);
      paidOut.push(...(await watcher.scanOnce()).paidOut);
      if (paidOut.length > 0 || now > deadline + 60n) return paidOut;
      await networkHelpers.time.increase(3);
    }
  }

  /** What `account` gained on chain since `block`, gas included back: exactly what the adjudicator paid it. */
  async function receivedSince(account: string, before: bigint, block: number): Promise<bigint> {
    const [gas] = await gasSpentSince(ethers.provider, [account], block);
    return (await ethers.provider.getBalance(account)) - before + gas;
  }

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-hostile-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a hostile payee holding the countersigned close offer: every double count is refused; the payer's watcher gets her out", async function () {
    const { payer, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    // The payer offers to close at PAID; the payee countersigns and keeps both signatures to itself.
    const offer = await payer.offerClose(id);
    const final = await signBy(fixedPart, id, offer.final, [f.alice, f.bob]);
    const bob = f.adjudicator.connect(f.bob);
    const onTop = async (base: VariablePart, turnNum: bigint) =>
      sentByPayee(await voucherState(f.alice, id, { ...base, isFinal: false }, turnNum, PAID));

    // Building on the final state, registering it, or raising the open channel's record: all refused.
    await expectRevert(
      bob.challenge(fixedPart, [final], await onTop(offer.final, offer.final.turnNum + 1n), "0x", NO_REGISTRATION),
      "StateIsFinal",
    );
    await expectRevert(bob.challenge(fixedPart, [], final, "0x", NO_REGISTRATION), "StateIsFinal");
    await expectRevert(
      bob.checkpoint(fixedPart, [funding], await onTop(funding.variablePart, 50n), NO_REGISTRATION),
      "NoOngoingChallenge",
    );

    // The payer leaves through the SDK: a challenge with the funding state, the only state she holds signed by both.
    await payer.challenge(id);
    const [, deadline] = await f.adjudicator.statusOf(id);
    let turn = 1n;
    const paidOut = await watchUntil(new ChannelWatcher(payer), deadline, async () => {
      // The payee answers with its largest voucher, then re-registers it one turn later at every step, through
      // respond, checkpoint and challenge in turn, always from its own empty signature slot.
      const registered = (await findRegistration(f.adjudicator, id))?.variablePart;
      if (!registered) throw new Error("the registered state is not public");
      const next = sentByPayee(await voucherState(f.alice, id, funding.variablePart, turn, PAID));
      const registration = await registrationNow(f.adjudicator, fixedPart);
      const how = Number(turn % 3n);
      if (how === 1) await bob.challenge(fixedPart, [funding], next, "0x", registration);
      else if (how === 2) await bob.checkpoint(fixedPart, [funding], next, registration);
      else if (registered.appData !== "0x") {
        const same = await voucherState(f.alice, id, registered, turn, PAID, PAID);
        await bob.respond(fixedPart, registered, sentByPayee(same), registration.heldEth);
      }
      turn++;
      expect((await f.adjudicator.statusOf(id))[1], "the deadline never moves").to.equal(deadline);
    });
    expect(paidOut).to.deep.equal([id]);
    expect(turn).to.be.greaterThan(3n);
    // The chain paid the payer her deposit less the vouchers, the payee the vouchers: once.
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect(payer.store.getChannel(id)?.phase).to.equal("withdrawn");
  });

  it("a hostile payer who challenges with the funding state and then tries everything she holds: the payee's watcher is paid its vouchers", async function () {
    const { payer, payee, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const alice = f.adjudicator.connect(f.alice);
    // She also holds a close offer of her own that the payee never countersigned.
    const offer = await payer.offerClose(id, { paid: 0n });
    await alice.challenge(fixedPart, [], funding, "0x", NO_REGISTRATION);
    const [, deadline] = await f.adjudicator.statusOf(id);
    let tries = 0;
    const paidOut = await watchUntil(new ChannelWatcher(payee), deadline, async () => {
      const registration = await registrationNow(f.adjudicator, fixedPart);
      const registered = (await findRegistration(f.adjudicator, id))?.variablePart ?? funding.variablePart;
      const back: VariablePart = { ...registered, turnNum: registered.turnNum + 1n, appData: "0x" };
      const payerOnly = toSigned(back, new Map([[0, "0x"]]));
      const attempts = [
        alice.challenge(fixedPart, [], funding, "0x", registration),
        alice.checkpoint(fixedPart, [], funding, registration),
        alice.respond(fixedPart, registered, payerOnly, registration.heldEth),
        alice.conclude(fixedPart, toSigned(offer.final, new Map([[0, "0x"]])), registration),
      ];
      for (const attempt of attempts) {
        await attempt.then(
          () => expect.fail("a hostile payer's move was accepted"),
          () => tries++,
        );
      }
    });
    expect(tries).to.be.greaterThan(4);
    expect(paidOut).to.deep.equal([id]);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
  });

  it("a hostile payee pays out only its own allocation, by index, with late ETH credited: the payer's watcher still pays hers", async function () {
    const { payer, payee, id, fixedPart, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    await payee.challenge(id);
    const registered = await payee.registration(id);
    // ETH arrives from another channel's outcome while the ETH is committed: kept apart as late ETH.
    const { fixedPart: sourceFixed, id: source } = f.channel();
    await f.adjudicator.connect(f.carol).deposit(ZeroAddress, source, 0n, 5n, { value: 5n });
    const toTarget = {
      outcome: [{ asset: ZeroAddress, allocations: [{ destination: id, amount: 5n }] }],
      appData: "0x",
      turnNum: 1n,
      isFinal: true,
    };
    await f.adjudicator
      .connect(f.carol)
      .concludeAndTransferAllAssets(sourceFixed, await signBy(sourceFixed, source, toTarget, [f.alice, f.bob]));
    await networkHelpers.time.increaseTo((await f.adjudicator.statusOf(id))[1]);
    // The payee takes its voucher alone (allocation 1) and leaves the payer's allocation owed.
    await f.adjudicator
      .connect(f.bob)
      .transfer(0n, id, stateHash(id, registered.variablePart), registered.owed, registered.heldEth, [1n]);
    expect((await new ChannelWatcher(payer).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await receivedSince(f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect(payer.store.getChannel(id)?.phase).to.equal("withdrawn");
    void fixedPart;
  });

  it("the payee's redeem finalizes one challenge duration after its first challenge, whatever the payer registers", async function () {
    const { payee, id, fixedPart, funding } = await paidChannel();
    await payee.challenge(id);
    const [, deadline] = await f.adjudicator.statusOf(id);
    // The payer cannot beat or renew it with anything she holds.
    await expectRevert(
      f.adjudicator
        .connect(f.alice)
        .challenge(fixedPart, [], funding, "0x", await registrationNow(f.adjudicator, fixedPart)),
      "TurnNumberTooLow",
    );
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const startBlock = await ethers.provider.getBlockNumber();
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    const [finalizedEvent] = await f.adjudicator.queryFilter(f.adjudicator.filters.ChallengeRegistered(id));
    expect(finalizedEvent.args.finalizesAt).to.equal(deadline);
    expect(await receivedSince(f.bob.address, bobBefore, startBlock)).to.equal(PAID);
  });
});

/** `vp` registered by the payee sending it itself: its signature slot stays empty and is never published. */
function sentByPayee(vp: VariablePart): SignedVariablePart {
  return toSigned(vp, new Map([[1, "0x"]]));
}

async function expectRevert(call: Promise<unknown>, errorName: string) {
  try {
    await call;
  } catch (error) {
    expect(String((error as Error).message)).to.include(errorName);
    return;
  }
  expect.fail(`expected a revert with ${errorName}`);
}
