// Random adversarial runs through the SDK (docs/security.md rows 29, 30): in each run the honest side is a
// PiecepayClient with its ChannelWatcher, and the hostile side replays every signature it saw into random adjudicator
// calls, in random order, at random turn numbers, with or without its own signature, while the chain's clock jumps.
// After each run the chain must show: the payee paid at most the largest voucher (exactly it, when the payee is the
// honest side), the payer the rest, no wei left in the channel, and the dispute over within one challenge duration of
// its first registration (ADR 0005). Balances are read from the chain, with the gas each account spent added back.
// The Solidity invariants (test/sol/Hostile{Money,Exit}Invariants.t.sol) run the same game 10,000 times per
// invariant on the contracts alone; these runs add the SDK's watcher and registration lookups. PIECEPAY_FUZZ_RUNS
// raises the count.
import { expect } from "chai";
import {
  ChannelWatcher,
  encodeVoucher,
  findRegistration,
  gasSpentSince,
  NO_REGISTRATION,
  type PiecepayClient,
  type Registration,
  registrationOf,
  type SignedVariablePart,
  signBy,
  signState,
  splitOutcome,
  toSigned,
  type VariablePart,
  type Voucher,
} from "../../../sdk/index.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";
import { DEPOSIT, sdkBed } from "./bed.js";

const RUNS = Number(process.env.PIECEPAY_FUZZ_RUNS ?? 12);

interface Run {
  payer: PiecepayClient;
  payee: PiecepayClient;
  id: string;
  funding: SignedVariablePart;
  vouchers: Voucher[];
  /** Final states both signed (the payer's close offers that the payee countersigned). */
  finals: SignedVariablePart[];
  /** Final states signed by the payer alone (close offers never countersigned). */
  offers: VariablePart[];
  startBlock: number;
  before: [bigint, bigint];
}

/** A generator for run `n`: distinct odd seeds, warmed up past xorshift's first, correlated outputs. */
function seeded(n: number): Random {
  const random = new Random(2 * n + 1);
  for (let i = 0; i < 16; i++) random.next64();
  return random;
}

describe("SDK: random adversarial runs against the honest side's watcher", function () {
  const bed = sdkBed("piecepay-fuzz-");
  const { clientFor } = bed;

  /** A funded channel with up to six vouchers, up to two close offers and, if `countersign`, their final states. */
  async function setUp(random: Random, countersign: boolean): Promise<Run> {
    const payer = await clientFor(bed.f.alice);
    const payee = await clientFor(bed.f.bob);
    const { id } = await payer.open({ payee: bed.f.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(id);
    const vouchers: Voucher[] = [];
    for (let i = random.int(7); i > 0; i--) {
      const voucher = await payer.pay(id, BigInt(1 + random.int(100)) * 10n ** 15n);
      vouchers.push(voucher);
      await payee.receive(voucher);
    }
    const funding = await payer.store.getSupportedState(id);
    if (!funding) throw new Error("no funding state");
    const finals: SignedVariablePart[] = [];
    const offers: VariablePart[] = [];
    const paid = vouchers.at(-1)?.amount ?? 0n;
    for (let i = random.int(3); i > 0; i--) {
      const offer = await payer.offerClose(id, { paid: paid === 0n ? 0n : random.uint(64) % (paid + 1n) });
      offers.push(offer.final);
      if (countersign) {
        const record = await payer.store.getChannel(id);
        if (!record) throw new Error("no channel");
        finals.push(await signBy(record.fixedPart, id, offer.final, [bed.f.alice, bed.f.bob]));
      }
    }
    const startBlock = await ethers.provider.getBlockNumber();
    const before: [bigint, bigint] = [
      await ethers.provider.getBalance(bed.f.alice.address),
      await ethers.provider.getBalance(bed.f.bob.address),
    ];
    return { payer, payee, id, funding, vouchers, finals, offers, startBlock, before };
  }

  /** What the adjudicator paid alice and bob during the run: balance change plus the gas each spent. */
  async function received(run: Run): Promise<[bigint, bigint]> {
    const gas = await gasSpentSince(ethers.provider, [bed.f.alice.address, bed.f.bob.address], run.startBlock);
    return [
      (await ethers.provider.getBalance(bed.f.alice.address)) - run.before[0] + gas[0],
      (await ethers.provider.getBalance(bed.f.bob.address)) - run.before[1] + gas[1],
    ];
  }

  async function registrationNow(run: Run): Promise<{ registration: Registration; registered?: VariablePart }> {
    const [, finalizesAt] = await bed.f.adjudicator.statusOf(run.id);
    if (finalizesAt === 0n) return { registration: NO_REGISTRATION };
    const found = await findRegistration(bed.f.adjudicator, run.id);
    return found
      ? { registration: registrationOf(run.id, found), registered: found.variablePart }
      : { registration: NO_REGISTRATION };
  }

  /** A voucher state of `voucher` on `base` at `turnNum`, the payee's slot empty or signed. */
  async function voucherOn(run: Run, random: Random, base: VariablePart, voucher: Voucher, turnNum: bigint) {
    const previous = base.appData === "0x" ? 0n : BigInt(`0x${base.appData.slice(2, 66)}`);
    const vp: VariablePart = {
      outcome: splitOutcome(base, voucher.amount - previous),
      appData: encodeVoucher(voucher),
      turnNum,
      isFinal: false,
    };
    const sig = random.bool() ? "0x" : await signState(bed.f.bob, run.id, vp);
    return toSigned(vp, new Map([[1, sig]]));
  }

  /** One random move of a hostile payee that holds every signature in `run`. */
  async function hostilePayeeMove(run: Run, random: Random): Promise<string> {
    const record = await run.payee.store.getChannel(run.id);
    if (!record || run.vouchers.length === 0) return "nothing to play with";
    const bob = bed.f.adjudicator.connect(bed.f.bob);
    const { registration, registered } = await registrationNow(run);
    const [turnNumRecord] = await bed.f.adjudicator.statusOf(run.id);
    const voucher = run.vouchers[random.int(run.vouchers.length)];
    const bases = [run.funding, ...run.finals];
    const base = bases[random.int(bases.length)];
    const turnNum =
      random.int(8) === 0 ? 2n ** 48n - 1n - BigInt(random.int(2)) : turnNumRecord + BigInt(random.int(3));
    const move = random.int(6);
    const calls: [string, () => Promise<unknown>][] = [
      [
        "challenge",
        async () =>
          bob.challenge(
            record.fixedPart,
            [base],
            await voucherOn(run, random, base.variablePart, voucher, turnNum),
            "0x",
            registration,
          ),
      ],
      [
        "checkpoint",
        async () =>
          bob.checkpoint(
            record.fixedPart,
            [base],
            await voucherOn(run, random, base.variablePart, voucher, turnNum),
            registration,
          ),
      ],
      [
        "respond",
        async () => {
          const from = registered ?? base.variablePart;
          return bob.respond(
            record.fixedPart,
            record.id,
            from,
            await voucherOn(run, random, from, voucher, turnNumRecord + 1n),
            registration.heldEth,
          );
        },
      ],
      [
        "challenge with a final",
        async () => bob.challenge(record.fixedPart, [], run.finals[0] ?? run.funding, "0x", registration),
      ],
      [
        "conclude",
        async () => (run.finals[0] ? bob.conclude(record.fixedPart, run.finals[0], registration) : undefined),
      ],
      ["wait", async () => networkHelpers.time.increase(random.int(Number(record.fixedPart.challengeDuration)))],
    ];
    const [what, call] = calls[move];
    try {
      await call();
      return `${what}: accepted`;
    } catch {
      return `${what}: refused`;
    }
  }

  /** One random move of a hostile payer: her own states, her close offers, the funding state, time. */
  async function hostilePayerMove(run: Run, random: Random): Promise<string> {
    const record = await run.payer.store.getChannel(run.id);
    if (!record) throw new Error("no channel");
    const alice = bed.f.adjudicator.connect(bed.f.alice);
    const { registration, registered } = await registrationNow(run);
    const [turnNumRecord] = await bed.f.adjudicator.statusOf(run.id);
    const back: VariablePart = {
      ...(registered ?? run.funding.variablePart),
      outcome: run.funding.variablePart.outcome,
      appData: "0x",
      turnNum: turnNumRecord + 1n,
    };
    const offer = run.offers[0] ?? { ...back, isFinal: true };
    const calls: [string, () => Promise<unknown>][] = [
      [
        "challenge with the funding state",
        async () => alice.challenge(record.fixedPart, [], run.funding, "0x", registration),
      ],
      [
        "checkpoint with the funding state",
        async () => alice.checkpoint(record.fixedPart, [], run.funding, registration),
      ],
      [
        "respond giving everything back",
        async () =>
          alice.respond(
            record.fixedPart,
            record.id,
            registered ?? run.funding.variablePart,
            toSigned(back, new Map([[0, "0x"]])),
            registration.heldEth,
          ),
      ],
      [
        "conclude with her own offer",
        async () => alice.conclude(record.fixedPart, toSigned(offer, new Map([[0, "0x"]])), registration),
      ],
      ["wait", async () => networkHelpers.time.increase(random.int(Number(record.fixedPart.challengeDuration)))],
    ];
    const [what, call] = calls[random.int(calls.length)];
    try {
      await call();
      return `${what}: accepted`;
    } catch {
      return `${what}: refused`;
    }
  }

  /**
   * Plays `hostile` moves and the honest side's watcher scans until the channel is paid out; the honest side
   * starts its own exit (`start`) at a random step. Returns when the first registration happened and when it
   * finalized.
   */
  async function play(
    run: Run,
    random: Random,
    hostile: () => Promise<string>,
    honest: PiecepayClient,
    start: () => Promise<unknown>,
  ) {
    const watcher = new ChannelWatcher(honest);
    const log: string[] = [];
    const startAt = random.int(6);
    for (let step = 0; step < 60; step++) {
      if (step === startAt) {
        const [, finalizesAt] = await bed.f.adjudicator.statusOf(run.id);
        if (finalizesAt === 0n) await start().catch((e) => log.push(`honest start refused: ${e}`));
      }
      log.push(await hostile());
      await watcher.scanOnce();
      const [, finalizesAt, fingerprint] = await bed.f.adjudicator.statusOf(run.id);
      if (finalizesAt !== 0n && fingerprint === 0n && (await bed.f.adjudicator.isFinalized(run.id))) return log;
      if (step > startAt) await networkHelpers.time.increase(5 + random.int(20));
    }
    throw new Error(`the run did not end:\n${log.join("\n")}`);
  }

  /** The deadline set by the first registration never moved: every registration event names the same one. */
  async function expectOneDeadline(run: Run) {
    const events = await bed.f.adjudicator.queryFilter(bed.f.adjudicator.filters.ChallengeRegistered(run.id));
    for (const event of events) expect(event.args.finalizesAt).to.equal(events[0].args.finalizesAt);
  }

  it(`a hostile payee with every signature, the close offers countersigned, ${RUNS} runs: paid at most its largest voucher, the payer out within one duration`, async function () {
    this.timeout(600_000);
    for (let r = 0; r < RUNS; r++) {
      const random = seeded(1000 + r);
      const run = await setUp(random, true);
      const log = await play(
        run,
        random,
        () => hostilePayeeMove(run, random),
        run.payer,
        () => run.payer.challenge(run.id),
      );
      const [alice, bob] = await received(run);
      const largest = run.vouchers.at(-1)?.amount ?? 0n;
      const context = `run ${r}:\n${log.join("\n")}`;
      if (process.env.PIECEPAY_FUZZ_LOG) console.log(context);
      expect(bob <= largest, `payee paid ${bob} > largest voucher ${largest}; ${context}`).to.equal(true);
      expect(alice >= DEPOSIT - largest, context).to.equal(true);
      expect(alice + bob, `no wei created or lost; ${context}`).to.equal(DEPOSIT);
      await expectOneDeadline(run);
    }
  });

  it(`a hostile payer with her own states and close offers, ${RUNS} runs: the payee's watcher is paid exactly its largest voucher`, async function () {
    this.timeout(600_000);
    for (let r = 0; r < RUNS; r++) {
      const random = seeded(2000 + r);
      const run = await setUp(random, false);
      const log = await play(
        run,
        random,
        () => hostilePayerMove(run, random),
        run.payee,
        () => run.payee.challenge(run.id),
      );
      const [alice, bob] = await received(run);
      const largest = run.vouchers.at(-1)?.amount ?? 0n;
      const context = `run ${r}:\n${log.join("\n")}`;
      if (process.env.PIECEPAY_FUZZ_LOG) console.log(context);
      expect(bob, `the honest payee gets its largest voucher; ${context}`).to.equal(largest);
      expect(alice, context).to.equal(DEPOSIT - largest);
      await expectOneDeadline(run);
    }
  });
});
