// Every party exits on chain with what its latest states entitle it to, whatever the hub does (ADR 0021, decision 8).
// The setup is the HubConnection story of test/ts/client/hub-engine.test.ts: the hub in-process with its RPC server
// and a memory store, a leecher and a seeder through HubConnection, V [leecher, hub, seeder] funded in both ledgers,
// the leecher's vouchers up to p stored on both sides. Then the hub (or the seeder) misbehaves and each honest party
// runs the SDK's exit (sdk/hub/exit.ts) on Hardhat's in-process chain. Every amount is read from the chain's PaidOut
// and Reclaimed events; each exit must finalize within one challenge duration of its first transaction.
import { expect } from "chai";
import { getAddress, parseEther, type TransactionReceipt, ZeroAddress } from "ethers";
import type { RpcServer } from "../../../client/hub/rpc-server.js";
import {
  challengeVirtual,
  defendHubChannel,
  type ExitLedgerReturnType,
  exitLedger,
  HubConnection,
  hubFee,
  ledgerOutcome,
  type ProposalOutcome,
  reclaimGuarantee,
} from "../../../sdk/hub/index.js";
import {
  ChannelWatcher,
  channelId,
  MemoryChannelStore,
  NO_REGISTRATION,
  type PiecepayClient,
  type PiecepayContext,
  signState,
  signVoucher,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { LedgerApp__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, ethers, networkHelpers, sdkClient } from "../helpers/fixtures.js";
import { startHubEngine } from "../helpers/hub-engine.js";

const { time } = networkHelpers;
const DURATION = 3600n;
const FEE_BPS = 25n;
const DEPOSIT = parseEther("1");
const CAPACITY = parseEther("0.5");
const X = parseEther("0.2");
const P = parseEther("0.05");
const FEE = hubFee(P, FEE_BPS);
/** Seconds that mining an exit's few transactions may add to one challenge duration (far below D). */
const MINING_SLACK = 60n;

async function hubFixture() {
  const f = await deployFixture();
  const ledgerApp = await (await new LedgerApp__factory(f.deployer).deploy()).getAddress();
  const virtualApp = await (await new VirtualVoucherApp__factory(f.deployer).deploy()).getAddress();
  return { ...f, leecher: f.alice, seeder: f.bob, hubKey: f.carol, ledgerApp, virtualApp };
}
type Fixture = Awaited<ReturnType<typeof hubFixture>>;

describe("exiting a hub on chain (ADR 0021, decision 8)", function () {
  this.timeout(120_000);
  let server: RpcServer | undefined;
  const connections: HubConnection[] = [];

  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  /**
   * Hub, leecher and seeder; ledgers A [leecher, hub] (DEPOSIT) and B [seeder, hub] (CAPACITY); V funded with X in
   * both; vouchers up to P stored as the session keeps them. `handlers` may replace some of the hub's API.
   */
  async function funded(options: { hostile?: Record<string, () => Promise<unknown>> } = {}) {
    const f = await networkHelpers.loadFixture(hubFixture);
    const hubStore = new MemoryChannelStore();
    let hub: Awaited<ReturnType<typeof startHubEngine>>["hub"];
    ({ hub, server } = await startHubEngine(f, {
      feeBps: FEE_BPS,
      challengeDuration: DURATION,
      maxCapacity: CAPACITY,
      store: hubStore,
      ...(options.hostile ? { handlers: options.hostile } : {}),
    }));
    const leecherClient = await sdkClient(f, f.leecher, new MemoryChannelStore());
    const seederClient = await sdkClient(f, f.seeder, new MemoryChannelStore());
    const hubClient = await sdkClient(f, f.hubKey, hubStore);
    const leecher = await HubConnection.connect(leecherClient.context, server.url);
    const seeder = await HubConnection.connect(seederClient.context, server.url);
    connections.push(leecher, seeder);
    const outcomes: ProposalOutcome[] = [];
    leecher.onProposal = (o) => outcomes.push(o);
    seeder.onProposal = (o) => outcomes.push(o);
    const { ledgerId: a } = await leecher.openLedger({ deposit: DEPOSIT });
    const { ledgerId: b } = await seeder.openLedger({ capacity: CAPACITY });
    const proposal = await leecher.proposeVirtual({
      payee: f.seeder.address,
      payerLedger: a,
      payeeLedger: b,
      amount: X,
    });
    await leecher.fundVirtual(proposal, await seeder.joinVirtual(proposal)); // the payee's signature over the wire
    await waitFor(() => outcomes.length >= 2);
    await seeder.settled();
    expect(outcomes.map((o) => o.countersigned)).to.deep.equal([true, true]);
    const v = channelId(f.chainId, f.adjudicatorAddress, proposal.fixedPart).toLowerCase();
    // Vouchers, as the session pays them: the seeder keeps the largest it received.
    for (const amount of [P / 2n, P]) {
      await leecherClient.context.store.putVoucher("sent", await signVoucher(f.leecher, v, amount));
      await seederClient.context.store.putVoucher("received", await signVoucher(f.leecher, v, amount));
    }
    return {
      f,
      a: a.toLowerCase(),
      b: b.toLowerCase(),
      v,
      hub: getAddress(hub.address),
      hubStore,
      leecher,
      seeder,
      outcomes,
      ctx: { leecher: leecherClient.context, seeder: seederClient.context, hub: hubClient.context },
      clients: { leecher: leecherClient, seeder: seederClient },
    };
  }
  type Setup = Awaited<ReturnType<typeof funded>>;

  /** The hub challenges A with turn 0 [DEPOSIT, 0], which both signed at opening (signatures are deterministic). */
  async function hubChallengesWithFunding(s: Setup) {
    const { f } = s;
    const aFixed = (await s.ctx.leecher.store.getChannel(s.a))?.fixedPart;
    if (aFixed === undefined) throw new Error("no ledger A");
    const stale: VariablePart = {
      outcome: ledgerOutcome(ZeroAddress, f.leecher.address, s.hub, DEPOSIT, 0n),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const sigs = new Map([
      [0, await signState(f.leecher, s.a, stale)],
      [1, await signState(f.hubKey, s.a, stale)],
    ]);
    await (
      await f.adjudicator.connect(f.hubKey).challenge(aFixed, [], toSigned(stale, sigs), "0x", NO_REGISTRATION)
    ).wait();
  }

  /** Runs `exitLedger` and resolves, once its challenges are all mined, to the exit still running and its deadline. */
  async function startExit(context: PiecepayContext, ledgerId: string) {
    let waiting: (finalizesAt: bigint) => void = () => {};
    const deadline = new Promise<bigint>((resolve) => {
      waiting = resolve;
    });
    const exit = exitLedger(context, ledgerId, { onWaiting: (at) => waiting(at) });
    const finalizesAt = await Promise.race([deadline, exit.then(() => 0n)]);
    return { exit, finalizesAt };
  }

  /** Lets the chain's time run to `at` (a deadline read from the chain), so that every exit waiting on it ends. */
  async function runTo(...deadlines: bigint[]) {
    const at = deadlines.reduce((m, d) => (d > m ? d : m), 0n);
    if (at > BigInt(await time.latest())) await time.increaseTo(at);
    else await networkHelpers.mine();
  }

  /**
   * The bound of decision 8: every channel of the exit (the ledger and the virtual channels it guaranteed) finalized
   * within one challenge duration of the party's first exit transaction, plus mining time.
   */
  async function expectWithinOneDuration(s: Setup, exit: ExitLedgerReturnType, ids: string[]) {
    const first = await firstTimestamp(exit.transactions);
    for (const id of ids) {
      const [, finalizesAt] = await s.f.adjudicator.statusOf(id);
      expect(finalizesAt, `${id} finalized`).to.be.greaterThan(0n);
      expect(finalizesAt, `${id} finalizes within D of the first exit transaction`).to.be.at.most(
        first + DURATION + MINING_SLACK,
      );
    }
  }

  describe("when the hub vanishes mid-download", function () {
    it("seeder first: the seeder registers its voucher in V and is paid exactly p from B; the leecher then gets DEPOSIT - p - fee(p) from A", async () => {
      const s = await funded();
      await server?.close(); // the hub never answers again
      server = undefined;
      const seederExit = await startExit(s.ctx.seeder, s.b);
      const leecherExit = await startExit(s.ctx.leecher, s.a);
      await runTo(seederExit.finalizesAt, leecherExit.finalizesAt);
      const [bySeeder, byLeecher] = [await seederExit.exit, await leecherExit.exit];

      const paid = await paidOut(s, [s.a, s.b]);
      expect(paid).to.deep.equal({
        [`${s.b}:${s.f.seeder.address}`]: P,
        [`${s.b}:${s.hub}`]: CAPACITY - P,
        [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
        [`${s.a}:${s.hub}`]: P + FEE,
      });
      expect([bySeeder.paid, byLeecher.paid]).to.deep.equal([P, DEPOSIT - P - FEE]);
      // Both reclaims read the seeder's voucher state registered in V.
      expect(await reclaims(s)).to.deep.equal({
        [s.b]: { toUser: P, toHub: X - P },
        [s.a]: { toUser: X - P - FEE, toHub: P + FEE },
      });
      // The seeder: challenge B, challenge V, reclaim, payout. The leecher: V was registered already, 3.
      expect([bySeeder.transactions.length, byLeecher.transactions.length]).to.deep.equal([4, 3]);
      await expectWithinOneDuration(s, bySeeder, [s.b, s.v]);
      await expectWithinOneDuration(s, byLeecher, [s.a, s.v]);
    });

    it("leecher first: the leecher registers V0, the seeder answers with its voucher (respond); the same wei to each", async () => {
      const s = await funded();
      await server?.close();
      server = undefined;
      const leecherExit = await startExit(s.ctx.leecher, s.a);
      const registeredByLeecher = await registeredTurns(s, s.v);
      const seederExit = await startExit(s.ctx.seeder, s.b);
      await runTo(seederExit.finalizesAt, leecherExit.finalizesAt);
      const [bySeeder, byLeecher] = [await seederExit.exit, await leecherExit.exit];

      // V0 (turn 0) by the leecher, then the seeder's voucher state (turn 1) in its place, the deadline kept.
      expect(registeredByLeecher).to.deep.equal([0n]);
      expect(await registeredTurns(s, s.v)).to.deep.equal([0n, 1n]);
      expect(await methodsOf(s, bySeeder.transactions)).to.deep.equal([
        "challenge",
        "respond",
        "reclaim",
        "transferAllAssets",
      ]);
      expect(await paidOut(s, [s.a, s.b])).to.deep.equal({
        [`${s.b}:${s.f.seeder.address}`]: P,
        [`${s.b}:${s.hub}`]: CAPACITY - P,
        [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
        [`${s.a}:${s.hub}`]: P + FEE,
      });
      expect([bySeeder.paid, byLeecher.paid]).to.deep.equal([P, DEPOSIT - P - FEE]);
      expect([bySeeder.transactions.length, byLeecher.transactions.length]).to.deep.equal([4, 4]);
      await expectWithinOneDuration(s, byLeecher, [s.a, s.v]);
      await expectWithinOneDuration(s, bySeeder, [s.b, s.v]);
    });
  });

  it("an exit aborted while it waits (EXIT_ABORTED) and run again registers nothing twice and pays the same wei", async () => {
    const s = await funded();
    await server?.close();
    server = undefined;
    const abort = new AbortController();
    const aborted = exitLedger(s.ctx.leecher, s.a, { signal: abort.signal, onWaiting: () => abort.abort() });
    const error = await aborted.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.have.property("code", "EXIT_ABORTED");
    expect([await registeredTurns(s, s.a), await registeredTurns(s, s.v)]).to.deep.equal([[1n], [0n]]);
    await challengeVirtual(s.ctx.seeder, s.v); // the seeder answers V with its voucher meanwhile
    const again = await startExit(s.ctx.leecher, s.a);
    await runTo(again.finalizesAt);
    const done = await again.exit;
    // The second run only reclaims and pays out: the challenges of the first stand.
    expect(await methodsOf(s, done.transactions)).to.deep.equal(["reclaim", "transferAllAssets"]);
    expect([await registeredTurns(s, s.a), await registeredTurns(s, s.v)]).to.deep.equal([[1n], [0n, 1n]]);
    expect(await paidOut(s, [s.a])).to.deep.equal({
      [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
    expect(done.paid).to.equal(DEPOSIT - P - FEE);
  });

  it("when the hub posts a stale ledger state (A's funding state, before the guarantee): the leecher's checkpoint registers its latest, and it still ends with exactly DEPOSIT - p - fee(p)", async () => {
    const s = await funded();
    const { f } = s;
    await hubChallengesWithFunding(s);
    expect(await registeredTurns(s, s.a)).to.deep.equal([0n]);

    const leecherExit = await startExit(s.ctx.leecher, s.a);
    // The leecher answered with its latest state (turn 1, x guaranteed to V) and challenged V with V0.
    expect(await registeredTurns(s, s.a)).to.deep.equal([0n, 1n]);
    // The seeder, online, answers V with its largest voucher (as its watcher would).
    const answer = await challengeVirtual(s.ctx.seeder, s.v);
    expect(answer).to.not.equal(undefined);
    await runTo(leecherExit.finalizesAt);
    const byLeecher = await leecherExit.exit;

    expect(await paidOut(s, [s.a])).to.deep.equal({
      [`${s.a}:${f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
    expect(byLeecher.paid).to.equal(DEPOSIT - P - FEE);
    expect(await methodsOf(s, byLeecher.transactions)).to.deep.equal([
      "checkpoint",
      "challenge",
      "reclaim",
      "transferAllAssets",
    ]);
    // The stale challenge set A's clock: the leecher's exit still ends within D of its own first transaction.
    await expectWithinOneDuration(s, byLeecher, [s.a, s.v]);
  });

  it("the watchers defend: a stale ledger challenge by the hub is answered by the leecher's ChannelWatcher with its latest state, which starts V too; the seeder's watcher answers V with its voucher; the exits pay each exactly", async () => {
    const s = await funded();
    const { f } = s;
    await hubChallengesWithFunding(s);
    const watcher = (client: PiecepayClient) =>
      new ChannelWatcher(client, { confirmations: 1, payOut: false, defendHub: defendHubChannel });
    const leecherScan = await watcher(s.clients.leecher).scanOnce();
    expect(leecherScan.answered).to.include(s.a);
    expect(await registeredTurns(s, s.a)).to.deep.equal([0n, 1n]); // the latest, with V's guarantee
    expect((await f.adjudicator.statusOf(s.v))[1], "V challenged too").to.be.greaterThan(0n);
    const seederScan = await watcher(s.clients.seeder).scanOnce();
    expect(seederScan.answered).to.include(s.v);
    const [, aDeadline] = await f.adjudicator.statusOf(s.a);
    const [, vDeadline] = await f.adjudicator.statusOf(s.v);
    await runTo(aDeadline, vDeadline);
    const byLeecher = await exitLedger(s.ctx.leecher, s.a);
    expect(await paidOut(s, [s.a])).to.deep.equal({
      [`${s.a}:${f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
    expect(byLeecher.paid).to.equal(DEPOSIT - P - FEE);
  });

  it("when the hub posts a stale ledger state that still guarantees V (after V closed and A settled): the leecher's checkpoint registers its settled latest and it ends with exactly DEPOSIT - p - fee(p)", async () => {
    const s = await funded();
    const guaranteed = await s.ctx.leecher.store.getSupportedState(s.a); // turn 1: x guaranteed to V
    const byLeecher = await s.leecher.finalState(s.v, P);
    const bySeeder = await s.seeder.finalState(s.v, P);
    await s.seeder.closeVirtual(s.v, bySeeder.state, byLeecher.signature, bySeeder.signature);
    await waitFor(() => s.outcomes.length >= 4);
    await s.leecher.settled();
    expect((await s.ctx.leecher.store.getSupportedState(s.a))?.variablePart.turnNum).to.equal(2n);
    const aFixed = (await s.ctx.leecher.store.getChannel(s.a))?.fixedPart;
    if (aFixed === undefined || guaranteed === undefined) throw new Error("no ledger A");
    // The hub registers turn 1, whose outcome holds a guarantee: finding that registration must not try to pay it.
    await (await s.f.adjudicator.connect(s.f.hubKey).challenge(aFixed, [], guaranteed, "0x", NO_REGISTRATION)).wait();
    const leecherExit = await startExit(s.ctx.leecher, s.a);
    expect(await registeredTurns(s, s.a)).to.deep.equal([1n, 2n]);
    await runTo(leecherExit.finalizesAt);
    const done = await leecherExit.exit;
    expect(await methodsOf(s, done.transactions)).to.deep.equal(["checkpoint", "transferAllAssets"]);
    expect(await paidOut(s, [s.a])).to.deep.equal({
      [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
  });

  it("when the hub refuses to countersign the close (never answers virtual.close): the seeder cannot conclude V, challenges it with its voucher and is paid p; the leecher pays p + fee(p), no more", async () => {
    const never = () => new Promise<unknown>(() => {});
    const s = await funded({ hostile: { "virtual.close": never } });
    const byLeecher = await s.leecher.finalState(s.v, P);
    const bySeeder = await s.seeder.finalState(s.v, P);
    const closing = s.seeder.closeVirtual(s.v, bySeeder.state, byLeecher.signature, bySeeder.signature);
    closing.catch(() => {}); // rejected when the connection closes at the end
    // V_F is stored signed by the payer and the payee (before the hub was asked), never by the hub.
    const record = await waitForRecord(s.ctx.seeder, s.v, (r) => r.virtual?.final !== undefined);
    expect(record.virtual?.final?.signedBy).to.equal(0b101n);

    const seederExit = await startExit(s.ctx.seeder, s.b);
    const leecherExit = await startExit(s.ctx.leecher, s.a);
    await runTo(seederExit.finalizesAt, leecherExit.finalizesAt);
    const [seederDone, leecherDone] = [await seederExit.exit, await leecherExit.exit];

    // V was challenged with the seeder's voucher state (non-final, turn 1), not concluded.
    expect(await registeredTurns(s, s.v)).to.deep.equal([1n]);
    expect((await s.f.adjudicator.queryFilter(s.f.adjudicator.filters.Concluded(s.v))).length).to.equal(0);
    expect(await paidOut(s, [s.a, s.b])).to.deep.equal({
      [`${s.b}:${s.f.seeder.address}`]: P,
      [`${s.b}:${s.hub}`]: CAPACITY - P,
      [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
    expect([seederDone.paid, leecherDone.paid]).to.deep.equal([P, DEPOSIT - P - FEE]);
    await expectWithinOneDuration(s, seederDone, [s.b, s.v]);
    await expectWithinOneDuration(s, leecherDone, [s.a, s.v]);
  });

  it("when the seeder vanishes after being paid p: the leecher's V0 goes unanswered, its reclaim gets x back in full (the seeder's loss, by design), and the hub's reclaim in B gives the hub its x back", async () => {
    const s = await funded();
    s.seeder.close(); // the seeder is gone: it never registers its voucher
    const leecherExit = await startExit(s.ctx.leecher, s.a);
    const hubExit = await startExit(s.ctx.hub, s.b);
    await runTo(leecherExit.finalizesAt, hubExit.finalizesAt);
    const [byLeecher, byHub] = [await leecherExit.exit, await hubExit.exit];

    expect(await registeredTurns(s, s.v)).to.deep.equal([0n]);
    expect(await reclaims(s)).to.deep.equal({
      [s.a]: { toUser: X, toHub: 0n },
      [s.b]: { toUser: 0n, toHub: X },
    });
    expect(await paidOut(s, [s.a, s.b])).to.deep.equal({
      [`${s.a}:${s.f.leecher.address}`]: DEPOSIT,
      [`${s.b}:${s.hub}`]: CAPACITY,
    });
    expect([byLeecher.paid, byHub.paid]).to.deep.equal([DEPOSIT, CAPACITY]);
    // A second reclaim of the same guarantee finds nothing to do.
    expect(await reclaimGuarantee(s.ctx.leecher, s.a, s.v)).to.equal(undefined);
    await expectWithinOneDuration(s, byLeecher, [s.a, s.v]);
    await expectWithinOneDuration(s, byHub, [s.b, s.v]);
  });

  it("when the hub vanishes right after settling B by V_F, before A: the leecher exits with A still guaranteeing V; V is concluded with V_F and the leecher gets exactly its settled share", async () => {
    const s = await funded();
    // The leecher signs its half of V_F, hands it to the seeder over the wire and goes offline.
    const byLeecher = await s.leecher.finalState(s.v, P);
    s.leecher.close();
    const bySeeder = await s.seeder.finalState(s.v, P);
    await s.seeder.closeVirtual(s.v, bySeeder.state, byLeecher.signature, bySeeder.signature);
    await waitFor(() => s.outcomes.length >= 3);
    await s.seeder.settled();
    expect(s.outcomes[2]).to.deep.include({ ledgerId: s.b, purpose: `settle ${s.v}`, countersigned: true });
    // The hub proposed A's settlement too, but the leecher was away: the hub vanishes with it pending.
    expect((await s.hubStore.getChannel(s.a))?.ledger?.pending?.purpose).to.equal(`settle ${s.v}`);
    await server?.close();
    server = undefined;

    const leecherExit = await startExit(s.ctx.leecher, s.a);
    // The leecher held only V0 of V (its own V_F half, not the hub's signature): it registered V0. The seeder,
    // holding V_F signed by all three, concludes V (as its watcher would); the leecher's exit reads V_F from there.
    expect(await registeredTurns(s, s.v)).to.deep.equal([0n]);
    await challengeVirtual(s.ctx.seeder, s.v);
    expect((await s.f.adjudicator.queryFilter(s.f.adjudicator.filters.Concluded(s.v))).length).to.equal(1);
    await runTo(leecherExit.finalizesAt);
    const done = await leecherExit.exit;

    expect(await reclaims(s)).to.deep.equal({ [s.a]: { toUser: X - P - FEE, toHub: P + FEE } });
    expect(await paidOut(s, [s.a])).to.deep.equal({
      [`${s.a}:${s.f.leecher.address}`]: DEPOSIT - P - FEE,
      [`${s.a}:${s.hub}`]: P + FEE,
    });
    expect(done.paid).to.equal(DEPOSIT - P - FEE);
    await expectWithinOneDuration(s, done, [s.a, s.v]);
  });
});

/** Sum of PaidOut per (channel, destination) over the given channels, read from the chain. */
async function paidOut(s: { f: Fixture }, ids: string[]): Promise<Record<string, bigint>> {
  const paid: Record<string, bigint> = {};
  for (const id of ids) {
    for (const log of await s.f.adjudicator.queryFilter(s.f.adjudicator.filters.PaidOut(id))) {
      const key = `${id}:${getAddress(`0x${log.args.destination.slice(26)}`)}`;
      paid[key] = (paid[key] ?? 0n) + log.args.amount;
    }
  }
  return paid;
}

/** The Reclaimed events of V, by ledger. */
async function reclaims(s: { f: Fixture; v: string }): Promise<Record<string, { toUser: bigint; toHub: bigint }>> {
  const found: Record<string, { toUser: bigint; toHub: bigint }> = {};
  for (const log of await s.f.adjudicator.queryFilter(s.f.adjudicator.filters.Reclaimed(undefined, s.v))) {
    found[log.args.ledgerId.toLowerCase()] = { toUser: log.args.toUser, toHub: log.args.toHub };
  }
  return found;
}

/** The turn numbers registered on `id`, in order (ChallengeRegistered). */
async function registeredTurns(s: { f: Fixture }, id: string): Promise<bigint[]> {
  return (await s.f.adjudicator.queryFilter(s.f.adjudicator.filters.ChallengeRegistered(id))).map(
    (e) => e.args.turnNum,
  );
}

/** The adjudicator's functions that `receipts` called, in order. */
async function methodsOf(s: { f: Fixture }, receipts: TransactionReceipt[]): Promise<string[]> {
  const names: string[] = [];
  for (const receipt of receipts) {
    const tx = await ethers.provider.getTransaction(receipt.hash);
    names.push(s.f.adjudicator.interface.parseTransaction({ data: tx?.data ?? "0x" })?.name ?? "?");
  }
  return names;
}

/** The block timestamp of the earliest of `receipts`. */
async function firstTimestamp(receipts: TransactionReceipt[]): Promise<bigint> {
  expect(receipts.length).to.be.greaterThan(0);
  const times = await Promise.all(
    receipts.map(async (r) => BigInt((await ethers.provider.getBlock(r.blockNumber))?.timestamp ?? 0)),
  );
  return times.reduce((m, t) => (t < m ? t : m));
}

async function waitForRecord(
  context: PiecepayContext,
  id: string,
  ready: (record: NonNullable<Awaited<ReturnType<PiecepayContext["store"]["getChannel"]>>>) => boolean,
) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const record = await context.store.getChannel(id);
    if (record !== undefined && ready(record)) return record;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${id}`);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
