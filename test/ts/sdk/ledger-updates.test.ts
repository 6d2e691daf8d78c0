// The ledger-update rules of ADR 0021 (decisions 1, 4, 5, 7 and 9): the only changes a countersigner accepts from one
// ledger state to the next. A table with one row per refusal; seeded random sequences of fundings, settlements and
// top-ups over a payer's ledger and two payees' ledgers (fast-check is not a dependency, so the sequences come from
// the seeded generator the other property tests use; a failing run names its seed; PIECEPAY_LEDGER_UPDATE_RUNS sets
// the number of runs, default 300); and SDK-built ledgers pushed through the adjudicator, paid out, with the wei
// read from the chain.
import { expect } from "chai";
import { id as keccakId, parseEther, ZeroAddress } from "ethers";
import {
  applyLedgerChange,
  checkLedgerUpdate,
  finalLedger,
  foldTopUp,
  fundGuarantee,
  type LedgerChange,
  ledgerBalances,
  ledgerOutcome,
  proposeTopUp,
  reclaimEffects,
  settleGuarantee,
} from "../../../sdk/hub/index.js";
import {
  channelId,
  type FixedPart,
  isExternalDestination,
  NO_REGISTRATION,
  type Outcome,
  PiecepayError,
  SDK_ERROR_CODES,
  stateHash,
  toDestination,
  type VariablePart,
} from "../../../sdk/index.js";
import { DURATION, deployFixture, ethers, networkHelpers, type Signer, signed } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";

const L = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const H = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const S = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const STRANGER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const V = keccakId("virtual channel V");
const W = keccakId("virtual channel W");
const DEPOSIT = parseEther("1");
const X = parseEther("0.4");
const P = parseEther("0.1");
const FEE_BPS = 10n;
const fee = (amount: bigint, bps = FEE_BPS) => (amount * bps) / 10_000n;
const FEE = fee(P);

function state(outcome: Outcome, turnNum = 0n): VariablePart {
  return { outcome, appData: "0x", turnNum, isFinal: false };
}

/** An outcome paying `payees` (addresses or channel ids) in order, in `asset`. */
function pays(payees: [string, bigint][], asset = ZeroAddress): Outcome {
  return [
    {
      asset,
      allocations: payees.map(([to, amount]) => ({
        destination: to.length === 42 ? toDestination(to) : to,
        amount,
      })),
    },
  ];
}

/** V's funding state [x, 0, 0] for [payer, hub, payee]. */
function v0(x: bigint, payee = S, asset = ZeroAddress): VariablePart {
  return state(
    pays(
      [
        [L, x],
        [H, 0n],
        [payee, 0n],
      ],
      asset,
    ),
  );
}

/** V's outcome once the payer paid `p` and the hub's fee on it. */
function vAt(x: bigint, p: bigint, payee = S, bps = FEE_BPS): Outcome {
  return pays([
    [L, x - p - fee(p, bps)],
    [H, fee(p, bps)],
    [payee, p],
  ]);
}

/** `vp` with its allocations replaced. */
function withAllocations(
  vp: VariablePart,
  payees: [string, bigint][],
  extra: Partial<VariablePart> = {},
): VariablePart {
  return { ...vp, outcome: pays(payees, vp.outcome[0].asset), ...extra };
}

/** Runs `run` and returns the PiecepayError's code it throws ("accepted" if none). */
function verdict(run: () => unknown): string {
  try {
    run();
    return "accepted";
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(PiecepayError);
    return (error as PiecepayError).code;
  }
}

type FundChange = Extract<LedgerChange, { kind: "fund" }>;
type SettleChange = Extract<LedgerChange, { kind: "settle" }>;

// The payer's ledger A [L, H] and the payee's ledger B [S, H], as the SDK builds them.
const A0 = state(ledgerOutcome(ZeroAddress, L, H, DEPOSIT, 0n));
const B0 = state(ledgerOutcome(ZeroAddress, S, H, 0n, DEPOSIT));
const fundA: FundChange = { kind: "fund", target: V, amount: X, from: "user", supportedV0: v0(X) };
const fundB: FundChange = {
  kind: "fund",
  target: V,
  amount: X,
  from: "hub",
  supportedV0: v0(X),
  payerGuarantee: X,
};
const A1 = fundGuarantee(A0, fundA);
const B1 = fundGuarantee(B0, fundB);
const settleA: SettleChange = {
  kind: "settle",
  target: V,
  virtualOutcome: vAt(X, P),
  side: "payer",
  largestVoucher: P,
};
const settleB: SettleChange = {
  kind: "settle",
  target: V,
  virtualOutcome: vAt(X, P),
  side: "payee",
  largestVoucher: P,
};
const A2 = settleGuarantee(A1, settleA);
const B2 = settleGuarantee(B1, settleB);
const A0topUp = proposeTopUp(A0, parseEther("0.5"));

describe("ledger updates (ADR 0021)", function () {
  describe("building and reading", function () {
    it("ledgerOutcome lays out [user, hub, guarantee...] and ledgerBalances reads it back, top-up included", function () {
      const outcome = ledgerOutcome(ZeroAddress, L, H, 5n, 6n, [
        { target: V, amount: 7n },
        { target: W, amount: 8n },
      ]);
      expect(outcome[0].allocations.map((a) => a.destination)).to.deep.equal([
        toDestination(L),
        toDestination(H),
        V,
        W,
      ]);
      const read = ledgerBalances(outcome);
      expect([read.user, read.hub, [...read.guarantees], read.topUp]).to.deep.equal([
        5n,
        6n,
        [
          [V, 7n],
          [W, 8n],
        ],
        undefined,
      ]);
      expect(ledgerBalances(A0topUp.outcome).topUp).to.deep.equal({ to: "user", amount: parseEther("0.5") });
      expect(ledgerBalances(proposeTopUp(B0, 3n, "hub").outcome).topUp).to.deep.equal({ to: "hub", amount: 3n });
    });

    it("funds and settles V as decisions 4 and 5 say: A pays L x - p - fee and H p + fee, B pays S p and H x - p", function () {
      expect(A1.turnNum).to.equal(1n);
      expect(ledgerBalances(A1.outcome)).to.include({ user: DEPOSIT - X, hub: 0n });
      expect(ledgerBalances(B1.outcome)).to.include({ user: 0n, hub: DEPOSIT - X });
      const a = ledgerBalances(A2.outcome);
      const b = ledgerBalances(B2.outcome);
      expect([a.user, a.hub, a.guarantees.size]).to.deep.equal([DEPOSIT - P - FEE, P + FEE, 0]);
      expect([b.user, b.hub, b.guarantees.size]).to.deep.equal([P, DEPOSIT - P, 0]);
      // The hub put x into B and is owed x back across the two ledgers, plus the fee.
      expect(a.hub + b.hub - DEPOSIT).to.equal(FEE);
      for (const [previous, next, change] of [
        [A0, A1, fundA],
        [B0, B1, fundB],
        [A1, A2, settleA],
        [B1, B2, settleB],
      ] as const) {
        expect(verdict(() => checkLedgerUpdate(previous, next, change))).to.equal("accepted");
      }
    });

    it("places a new guarantee before a pending top-up, and folds the top-up into the balance it pays", function () {
      const funded = fundGuarantee(A0topUp, { target: V, amount: X, from: "user", supportedV0: v0(X) });
      expect(funded.outcome[0].allocations.map((a) => a.destination)).to.deep.equal([
        toDestination(L),
        toDestination(H),
        V,
        toDestination(L),
      ]);
      const folded = foldTopUp(funded);
      expect(verdict(() => checkLedgerUpdate(funded, folded, { kind: "foldTopUp" }))).to.equal("accepted");
      expect(ledgerBalances(folded.outcome).user).to.equal(DEPOSIT - X + parseEther("0.5"));
      expect(ledgerBalances(folded.outcome).topUp).to.equal(undefined);
      const hubFolded = foldTopUp(proposeTopUp(B0, 3n, "hub"));
      expect(ledgerBalances(hubFolded.outcome)).to.include({ user: 0n, hub: DEPOSIT + 3n });
      expect(verdict(() => finalLedger(folded))).to.equal("GUARANTEES_LIVE");
      const closing = finalLedger(A2);
      expect([closing.isFinal, closing.turnNum]).to.deep.equal([true, 3n]);
      expect(verdict(() => checkLedgerUpdate(A2, closing, { kind: "final" }))).to.equal("accepted");
    });
  });

  describe("checkLedgerUpdate refuses every other change", function () {
    const A1fromW = fundGuarantee(A0, { target: W, amount: X, from: "user", supportedV0: v0(X) });
    const AwithBoth = fundGuarantee(A1, { target: W, amount: 1n, from: "user", supportedV0: v0(1n) });
    const fundW: LedgerChange = { kind: "fund", target: W, amount: X, from: "user", supportedV0: v0(X) };
    const rows: {
      name: string;
      previous: VariablePart;
      next: () => VariablePart;
      change: LedgerChange;
      code: string;
    }[] = [
      {
        name: "a second guarantee for one V",
        previous: A1,
        next: () =>
          withAllocations(
            A1,
            [
              [L, DEPOSIT - 2n * X],
              [H, 0n],
              [V, X],
              [V, X],
            ],
            { turnNum: 2n },
          ),
        change: { ...fundA, amount: X },
        code: "GUARANTEE_ALREADY_FUNDED",
      },
      {
        name: "a guarantee above the payer's free balance",
        previous: A0,
        next: () =>
          withAllocations(
            A0,
            [
              [L, 0n],
              [H, 0n],
              [V, DEPOSIT + 1n],
            ],
            { turnNum: 1n },
          ),
        change: { ...fundA, amount: DEPOSIT + 1n, supportedV0: v0(DEPOSIT + 1n) },
        code: "GUARANTEE_ABOVE_FREE_BALANCE",
      },
      {
        name: "a hub guarantee above the hub's free balance in the payee's ledger",
        previous: B1,
        next: () => B1,
        change: { ...fundB, target: W, amount: DEPOSIT, supportedV0: v0(DEPOSIT), payerGuarantee: DEPOSIT },
        code: "GUARANTEE_ABOVE_FREE_BALANCE",
      },
      {
        name: "a guarantee of 0",
        previous: A0,
        next: () =>
          withAllocations(
            A0,
            [
              [L, DEPOSIT],
              [H, 0n],
              [V, 0n],
            ],
            { turnNum: 1n },
          ),
        change: { ...fundA, amount: 0n, supportedV0: v0(0n) },
        code: "GUARANTEE_INVALID",
      },
      {
        name: "a guarantee whose target is an address, not a channel id",
        previous: A0,
        next: () => A1,
        change: { ...fundA, target: toDestination(STRANGER) },
        code: "GUARANTEE_INVALID",
      },
      {
        name: "the hub's guarantee in the payee's ledger before the payer's guarantee for V exists",
        previous: B0,
        next: () => B1,
        change: { ...fundB, payerGuarantee: undefined },
        code: "PAYER_NOT_GUARANTEED",
      },
      {
        name: "the hub's guarantee for another amount than the payer's",
        previous: B0,
        next: () => B1,
        change: { ...fundB, payerGuarantee: X - 1n },
        code: "VIRTUAL_FUNDING_MISMATCH",
      },
      {
        name: "the payer's guarantee for a V whose V0 is not supported yet",
        previous: A0,
        next: () => A1,
        change: { ...fundA, supportedV0: undefined },
        code: "VIRTUAL_NOT_SUPPORTED",
      },
      {
        name: "the hub's guarantee for a V whose V0 is not supported, even with the payer's signed",
        previous: B0,
        next: () => B1,
        change: { ...fundB, supportedV0: undefined },
        code: "VIRTUAL_NOT_SUPPORTED",
      },
      {
        name: "a guarantee for another amount than V0 funds",
        previous: A0,
        next: () => A1,
        change: { ...fundA, supportedV0: v0(X + 1n) },
        code: "VIRTUAL_FUNDING_MISMATCH",
      },
      {
        name: "a guarantee whose V0 is in another asset",
        previous: A0,
        next: () => A1,
        change: { ...fundA, supportedV0: v0(X, S, STRANGER) },
        code: "VIRTUAL_FUNDING_MISMATCH",
      },
      {
        name: "a guarantee whose 'V0' is a later or final state",
        previous: A0,
        next: () => A1,
        change: { ...fundA, supportedV0: { ...v0(X), turnNum: 1n } },
        code: "VIRTUAL_FUNDING_MISMATCH",
      },
      {
        name: "a settlement in the payer's ledger above the largest voucher it signed",
        previous: A1,
        next: () => A2,
        change: { ...settleA, largestVoucher: P - 1n },
        code: "SETTLEMENT_ABOVE_VOUCHERS",
      },
      {
        name: "a settlement in the payee's ledger below the largest voucher it holds",
        previous: B1,
        next: () => B2,
        change: { ...settleB, largestVoucher: P + 1n },
        code: "SETTLEMENT_BELOW_VOUCHERS",
      },
      {
        name: "a settlement of a V this ledger does not guarantee",
        previous: A1,
        next: () => A2,
        change: { ...settleA, target: W },
        code: "GUARANTEE_NOT_FOUND",
      },
      {
        name: "a settlement that credits the payer's ledger as if its user were the payee",
        previous: A1,
        next: () => settleGuarantee(A1, { target: V, virtualOutcome: vAt(X, P), side: "payee" }),
        change: settleA,
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a settlement by a V outcome in another asset (reclaim's own refusal)",
        previous: A1,
        next: () => A2,
        change: {
          ...settleA,
          virtualOutcome: [{ ...vAt(X, P)[0], asset: STRANGER }],
        },
        code: "ASSET_MISMATCH",
      },
      {
        name: "a settlement that also moves 1 wei of the user's to the hub",
        previous: A1,
        next: () =>
          withAllocations(A2, [
            [L, DEPOSIT - P - FEE - 1n],
            [H, P + FEE + 1n],
          ]),
        change: settleA,
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a settlement that changes another guarantee's amount",
        previous: AwithBoth,
        next: () =>
          withAllocations(settleGuarantee(AwithBoth, settleA), [
            [L, DEPOSIT - P - FEE - 2n],
            [H, P + FEE],
            [W, 2n],
          ]),
        change: settleA,
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a settlement that adds a guarantee for another channel",
        previous: A1,
        next: () =>
          withAllocations(A2, [
            [L, DEPOSIT - P - FEE - 1n],
            [H, P + FEE],
            [W, 1n],
          ]),
        change: settleA,
        code: "LEDGER_UNEXPECTED_GUARANTEE",
      },
      {
        name: "a funding of V that guarantees W instead",
        previous: A0,
        next: () => A1fromW,
        change: fundA,
        code: "LEDGER_UNEXPECTED_GUARANTEE",
      },
      {
        name: "a funding that also moves 1 wei of the hub's to the user",
        previous: B0,
        next: () =>
          withAllocations(B1, [
            [S, 1n],
            [H, DEPOSIT - X - 1n],
            [V, X],
          ]),
        change: fundB,
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a funding that pays the user's balance to another address",
        previous: A0,
        next: () =>
          withAllocations(A1, [
            [STRANGER, DEPOSIT - X],
            [H, 0n],
            [V, X],
          ]),
        change: fundA,
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a funding that creates 1 wei for the hub",
        previous: A0,
        next: () =>
          withAllocations(A1, [
            [L, DEPOSIT - X],
            [H, 1n],
            [V, X],
          ]),
        change: fundA,
        code: "LEDGER_TOTAL_CHANGED",
      },
      {
        name: "a change of asset",
        previous: A0,
        next: () => ({ ...A1, outcome: [{ ...A1.outcome[0], asset: STRANGER }] }),
        change: fundA,
        code: "LEDGER_ASSET_CHANGED",
      },
      {
        name: "a second asset",
        previous: A0,
        next: () => ({ ...A1, outcome: [...A1.outcome, { asset: STRANGER, allocations: [] }] }),
        change: fundA,
        code: "LEDGER_ASSET_CHANGED",
      },
      {
        name: "a turn skipped",
        previous: A0,
        next: () => ({ ...A1, turnNum: 2n }),
        change: fundA,
        code: "LEDGER_TURN_NOT_NEXT",
      },
      {
        name: "the same turn",
        previous: A0,
        next: () => ({ ...A1, turnNum: 0n }),
        change: fundA,
        code: "LEDGER_TURN_NOT_NEXT",
      },
      {
        name: "isFinal on a funding",
        previous: A0,
        next: () => ({ ...A1, isFinal: true }),
        change: fundA,
        code: "LEDGER_FINALITY_CHANGED",
      },
      {
        name: "isFinal on a settlement (it would conclude with nothing else checked)",
        previous: A1,
        next: () => ({ ...A2, isFinal: true }),
        change: settleA,
        code: "LEDGER_FINALITY_CHANGED",
      },
      {
        name: "a 'final' state that is not final",
        previous: A2,
        next: () => ({ ...finalLedger(A2), isFinal: false }),
        change: { kind: "final" },
        code: "LEDGER_FINALITY_CHANGED",
      },
      {
        name: "appData not empty",
        previous: A0,
        next: () => ({ ...A1, appData: "0x00" }),
        change: fundA,
        code: "LEDGER_APP_DATA_NOT_EMPTY",
      },
      {
        name: "a final state while a guarantee is live",
        previous: A1,
        next: () => ({ ...A1, turnNum: 2n, isFinal: true }),
        change: { kind: "final" },
        code: "GUARANTEES_LIVE",
      },
      {
        name: "a top-up fold that also moves 1 wei from the hub to the user",
        previous: proposeTopUp(A1, 5n),
        next: () =>
          withAllocations(foldTopUp(proposeTopUp(A1, 5n)), [
            [L, DEPOSIT - X + 5n + 1n],
            [H, 0n],
            [V, X],
          ]),
        change: { kind: "foldTopUp" },
        code: "LEDGER_TOTAL_CHANGED",
      },
      {
        name: "a top-up fold into the hub's balance instead of the user's",
        previous: proposeTopUp(A1, 5n),
        next: () =>
          withAllocations(foldTopUp(proposeTopUp(A1, 5n)), [
            [L, DEPOSIT - X],
            [H, 5n],
            [V, X],
          ]),
        change: { kind: "foldTopUp" },
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "a top-up fold that also drops a guarantee",
        previous: proposeTopUp(A1, 5n),
        next: () =>
          withAllocations(foldTopUp(proposeTopUp(A1, 5n)), [
            [L, DEPOSIT - X + 5n],
            [H, X],
          ]),
        change: { kind: "foldTopUp" },
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      { name: "a fold with no top-up", previous: A1, next: () => A1, change: { kind: "foldTopUp" }, code: "NO_TOP_UP" },
      {
        name: "a second top-up while one is pending",
        previous: A0topUp,
        next: () => A0topUp,
        change: { kind: "proposeTopUp", amount: 1n },
        code: "TOP_UP_PENDING",
      },
      {
        name: "a top-up of 0",
        previous: A0,
        next: () => A0,
        change: { kind: "proposeTopUp", amount: 0n },
        code: "TOP_UP_INVALID",
      },
      {
        name: "a top-up that pays a stranger",
        previous: A0,
        next: () =>
          withAllocations(
            A0,
            [
              [L, DEPOSIT],
              [H, 0n],
              [STRANGER, 1n],
            ],
            {
              turnNum: 1n,
            },
          ),
        change: { kind: "proposeTopUp", amount: 1n },
        code: "LEDGER_ALLOCATIONS_CHANGED",
      },
      {
        name: "any change after a final state",
        previous: finalLedger(A2),
        next: () => A2,
        change: fundW,
        code: "LEDGER_IS_FINAL",
      },
      {
        name: "a previous state that is no ledger (the hub's position is a channel id)",
        previous: withAllocations(A0, [
          [L, DEPOSIT],
          [V, 0n],
        ]),
        next: () => A1,
        change: fundA,
        code: "LEDGER_MALFORMED",
      },
    ];

    for (const row of rows) {
      it(`${row.name}: ${row.code}`, function () {
        expect(verdict(() => checkLedgerUpdate(row.previous, row.next(), row.change))).to.equal(row.code);
      });
    }

    it("every code of these refusals is an SDK code, none a contract error's (but reclaim's own, passed on)", function () {
      for (const row of rows) {
        if (row.code !== "ASSET_MISMATCH") expect(SDK_ERROR_CODES as readonly string[]).to.include(row.code);
      }
    });
  });

  describe("properties over seeded random sequences of fund, settle and top-up", function () {
    const runs = Number(process.env.PIECEPAY_LEDGER_UPDATE_RUNS ?? 300);

    it(`${runs} runs: totals equal deposits at every step; each V leaves the hub up exactly its hub allocation; an accepted state is always one allowed change`, function () {
      this.timeout(120_000);
      let accepted = 0;
      let refused = 0;
      for (let run = 0; run < runs; run++) {
        const seed = 0x1ed9 + run * 7919;
        const counts = sequence(seed);
        accepted += counts.accepted;
        refused += counts.refused;
      }
      // The sequences drew many updates and many refusals (mutations, wrong preconditions, over-spends).
      expect(accepted, "updates accepted").to.be.greaterThan(runs * 10);
      expect(refused, "updates refused").to.be.greaterThan(runs * 10);
    });

    it("settleGuarantee credits what reclaimEffects gives with the real fixed parts, on either side, capped or not, among other guarantees", function () {
      const random = new Random(0x5e771e);
      const fixed = (participants: string[]): FixedPart => ({
        participants,
        channelNonce: 1n,
        appDefinition: STRANGER,
        challengeDuration: DURATION,
      });
      let capped = 0;
      for (let i = 0; i < 300; i++) {
        const side = random.bool() ? "payer" : "payee";
        const user = side === "payer" ? L : S;
        const others = Array.from({ length: random.int(3) }, (_, k) => ({
          target: keccakId(`other ${i} ${k}`),
          amount: random.uint(64) + 1n,
        }));
        const at = random.int(others.length + 1);
        const guarantees = [...others.slice(0, at), { target: V, amount: random.uint(64) + 1n }, ...others.slice(at)];
        const previous = state(ledgerOutcome(ZeroAddress, user, H, random.uint(64), random.uint(64), guarantees), 7n);
        // V's outcome need not sum to the guarantee (someone deposited into V and paid part of it out).
        const virtualOutcome = pays([
          [L, random.uint(65)],
          [H, random.uint(64)],
          [S, random.uint(65)],
        ]);
        const real = reclaimEffects({
          ledger: fixed([user, H]),
          ledgerId: keccakId("ledger"),
          ledgerOutcome: previous.outcome,
          assetIndex: 0,
          guaranteeIndex: 2 + at,
          virtualChannel: fixed([L, H, S]),
          virtualId: V,
          virtualOutcome,
        });
        const next = settleGuarantee(previous, { target: V, virtualOutcome, side });
        const expected = real.updated[0].allocations.filter((_, k) => k !== 2 + at);
        expect(next.outcome[0].allocations, `case ${i}`).to.deep.equal(expected);
        if (real.toUser < virtualOutcome[0].allocations[side === "payer" ? 0 : 2].amount) capped++;
      }
      expect(capped, "cases where the guarantee capped the user's share").to.be.greaterThan(30);
    });
  });

  describe("on the adjudicator (Hardhat's in-process EVM)", function () {
    /** Leecher alice, seeder bob, hub carol: ledgers A and B built by the SDK, with V [alice, carol, bob]. */
    async function chainFixture() {
      const f = await deployFixture();
      const { alice: leecher, bob: seeder, carol: hub } = f;
      // Ledger states are signed by both, so the adjudicator never consults the app: the voucher app stands in for
      // LedgerApp, which is not written yet.
      const fixed = (participants: Signer[], channelNonce: bigint) => {
        const fixedPart: FixedPart = {
          participants: participants.map((p) => p.address),
          channelNonce,
          appDefinition: f.appAddress,
          challengeDuration: DURATION,
        };
        return { fixedPart, id: channelId(f.chainId, f.adjudicatorAddress, fixedPart) };
      };
      const a = fixed([leecher, hub], 101n);
      const b = fixed([seeder, hub], 102n);
      const v = fixed([leecher, hub, seeder], 103n);
      const aClose = fixed([leecher, hub], 104n);
      const bClose = fixed([seeder, hub], 105n);
      for (const [channel, by] of [
        [a, leecher],
        [b, hub],
        [aClose, leecher],
        [bClose, hub],
      ] as const) {
        await f.adjudicator.connect(by).deposit(ZeroAddress, channel.id, 0n, DEPOSIT, { value: DEPOSIT });
      }
      const vOutcome = pays([
        [leecher.address, X - P - FEE],
        [hub.address, FEE],
        [seeder.address, P],
      ]);
      const v0State = state(
        pays([
          [leecher.address, X],
          [hub.address, 0n],
          [seeder.address, 0n],
        ]),
      );
      const a0 = state(ledgerOutcome(ZeroAddress, leecher.address, hub.address, DEPOSIT, 0n));
      const b0 = state(ledgerOutcome(ZeroAddress, seeder.address, hub.address, 0n, DEPOSIT));
      const a1 = fundGuarantee(a0, { target: v.id, amount: X, from: "user", supportedV0: v0State });
      const b1 = fundGuarantee(b0, {
        target: v.id,
        amount: X,
        from: "hub",
        supportedV0: v0State,
        payerGuarantee: X,
      });
      const a2 = settleGuarantee(a1, { target: v.id, virtualOutcome: vOutcome, side: "payer", largestVoucher: P });
      const b2 = settleGuarantee(b1, { target: v.id, virtualOutcome: vOutcome, side: "payee", largestVoucher: P });
      return { ...f, leecher, seeder, hub, a, b, v, aClose, bClose, vOutcome, a1, b1, a2, b2 };
    }

    /** `settled` as the chain keeps it after a reclaim: the guarantee stays in place at 0. */
    function withZeroedGuarantee(settled: VariablePart, index: number, target: string): Outcome {
      const allocations = [...settled.outcome[0].allocations];
      allocations.splice(index, 0, { destination: target, amount: 0n });
      return [{ asset: settled.outcome[0].asset, allocations }];
    }

    it("a ledger funded by the SDK, challenged and reclaimed on chain, owes exactly settleGuarantee's outcome: transferAllAssets with it pays L x - p - fee and H p + fee in A, S p and H x - p in B", async function () {
      const c = await networkHelpers.loadFixture(chainFixture);
      // A and B registered at their funded states (signed by both); V concluded at p.
      const registered = async (channel: { fixedPart: FixedPart; id: string }, vp: VariablePart, signers: Signer[]) => {
        const heldEth = await c.adjudicator.holdings(ZeroAddress, channel.id);
        await c.adjudicator
          .connect(signers[signers.length - 1])
          .challenge(
            channel.fixedPart,
            [],
            await signed(channel.fixedPart, channel.id, vp, signers),
            "0x",
            NO_REGISTRATION,
          );
        return { stateHash: stateHash(channel.id, vp), outcome: vp.outcome, heldEth };
      };
      const aOwed = await registered(c.a, c.a1, [c.leecher, c.hub]);
      const bOwed = await registered(c.b, c.b1, [c.seeder, c.hub]);
      const vFinal: VariablePart = { outcome: c.vOutcome, appData: "0x", turnNum: 1n, isFinal: true };
      await c.adjudicator.conclude(
        c.v.fixedPart,
        await signed(c.v.fixedPart, c.v.id, vFinal, [c.leecher, c.hub, c.seeder]),
        NO_REGISTRATION,
      );
      const vOwed = { stateHash: stateHash(c.v.id, vFinal), outcome: c.vOutcome, heldEth: 0n };
      await networkHelpers.time.increase(DURATION);

      await expect(c.adjudicator.reclaim(c.a.fixedPart, aOwed, 0n, 2n, c.v.fixedPart, vOwed))
        .to.emit(c.adjudicator, "Reclaimed")
        .withArgs(c.a.id, c.v.id, 0n, 2n, X - P - FEE, P + FEE);
      await expect(c.adjudicator.reclaim(c.b.fixedPart, bOwed, 0n, 2n, c.v.fixedPart, vOwed))
        .to.emit(c.adjudicator, "Reclaimed")
        .withArgs(c.b.id, c.v.id, 0n, 2n, P, X - P);
      // The fingerprint now commits to the reclaimed outcome: transferAllAssets accepts only that outcome's hash.
      const aOutcome = withZeroedGuarantee(c.a2, 2, c.v.id);
      const bOutcome = withZeroedGuarantee(c.b2, 2, c.v.id);
      await expect(
        c.adjudicator.transferAllAssets(c.a.id, aOwed.stateHash, aOutcome, aOwed.heldEth),
      ).to.changeEtherBalances(ethers, [c.leecher, c.hub, c.adjudicator], [DEPOSIT - P - FEE, P + FEE, -DEPOSIT]);
      await expect(
        c.adjudicator.transferAllAssets(c.b.id, bOwed.stateHash, bOutcome, bOwed.heldEth),
      ).to.changeEtherBalances(ethers, [c.seeder, c.hub, c.adjudicator], [P, DEPOSIT - P, -DEPOSIT]);
      expect((await c.adjudicator.statusOf(c.a.id))[2]).to.equal(0n);
      expect((await c.adjudicator.statusOf(c.b.id))[2]).to.equal(0n);
    });

    it("the cooperative path pays the same wei: the settled ledgers closed with finalLedger and concludeAndTransferAllAssets", async function () {
      const c = await networkHelpers.loadFixture(chainFixture);
      const closeA = finalLedger(c.a2);
      const closeB = finalLedger(c.b2);
      checkLedgerUpdate(c.a2, closeA, { kind: "final" });
      checkLedgerUpdate(c.b2, closeB, { kind: "final" });
      await expect(
        c.adjudicator.concludeAndTransferAllAssets(
          c.aClose.fixedPart,
          await signed(c.aClose.fixedPart, c.aClose.id, closeA, [c.leecher, c.hub]),
        ),
      ).to.changeEtherBalances(ethers, [c.leecher, c.hub], [DEPOSIT - P - FEE, P + FEE]);
      await expect(
        c.adjudicator.concludeAndTransferAllAssets(
          c.bClose.fixedPart,
          await signed(c.bClose.fixedPart, c.bClose.id, closeB, [c.seeder, c.hub]),
        ),
      ).to.changeEtherBalances(ethers, [c.seeder, c.hub], [P, DEPOSIT - P]);
    });
  });
});

// ---- the property run ----

interface Ledger {
  name: string;
  state: VariablePart;
  /** Wei deposited into the ledger so far: the opening deposits, and each top-up when it is proposed. */
  deposits: bigint;
  /** Of which top-ups. */
  toppedUp: bigint;
}

interface Virtual {
  id: string;
  x: bigint;
  payee: number;
  fundedA: boolean;
  fundedB: boolean;
  settledA: boolean;
  settledB: boolean;
  /** V's outcome at settlement, and the largest voucher (0 for a V that ended at V0). */
  outcome?: Outcome;
  p?: bigint;
  /** The hub's balance changes, over both ledgers, from this V's updates. */
  hubDelta: bigint;
}

const PAYEES = [S, "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"];

const big = (_: string, value: unknown) => (typeof value === "bigint" ? `${value}n` : value);
const total = (vp: VariablePart) => vp.outcome[0].allocations.reduce((t, a) => t + a.amount, 0n);

/**
 * Which allowed change turns `prev` into `next`, judged without the SDK's ledger module: "fund" (one new channel id,
 * its amount taken from position 0 or 1), "settle" (one channel id removed, its amount split between positions 0
 * and 1), "proposeTopUp" (an allocation to position 0's or 1's destination appended), "foldTopUp" (the trailing one
 * added to the position it pays), "final" (the same outcome, no channel id); anything else says what is wrong.
 */
function allowedShape(prev: VariablePart, next: VariablePart): string {
  if (next.turnNum !== prev.turnNum + 1n || next.appData !== "0x") return "turn or appData";
  if (next.outcome.length !== 1 || next.outcome[0].asset !== prev.outcome[0].asset) return "asset";
  // No total check of its own: each shape below implies what happens to the total (kept, or + a top-up's amount).
  const p = prev.outcome[0].allocations.map((a) => ({ d: a.destination.toLowerCase(), amount: a.amount }));
  const n = next.outcome[0].allocations.map((a) => ({ d: a.destination.toLowerCase(), amount: a.amount }));
  if (n.length < 2 || n[0].d !== p[0].d || n[1].d !== p[1].d) return "positions 0 and 1";
  const same = (x: typeof p, y: typeof p) =>
    x.length === y.length && x.every((a, i) => a.d === y[i].d && a.amount === y[i].amount);
  const external = (a: { d: string }) => isExternalDestination(a.d);
  const trailingTopUp = p.length > 2 && external(p[p.length - 1]);
  if (next.isFinal) return same(p, n) && p.slice(2).every(external) ? "final" : "bad final";
  if (n.length === p.length + 1) {
    const last = n[n.length - 1];
    if (same(p, n.slice(0, -1)) && external(last) && (last.d === p[0].d || last.d === p[1].d) && !trailingTopUp) {
      return last.amount > 0n ? "proposeTopUp" : "top-up of 0";
    }
    for (let i = 2; i < n.length; i++) {
      const added = n[i];
      if (external(added) || added.amount === 0n || p.some((a) => a.d === added.d)) continue;
      const without = n.filter((_, k) => k !== i);
      for (const position of [0, 1]) {
        const restored = without.map((a, k) => (k === position ? { ...a, amount: a.amount + added.amount } : a));
        if (same(p, restored)) return "fund";
      }
    }
    return "one allocation added, not a funding or a top-up";
  }
  if (n.length === p.length - 1) {
    if (trailingTopUp && same(p.slice(2, -1), n.slice(2))) {
      const topUp = p[p.length - 1];
      const position = topUp.d === p[0].d ? 0 : 1;
      const other = 1 - position;
      if (n[position].amount === p[position].amount + topUp.amount && n[other].amount === p[other].amount) {
        return "foldTopUp";
      }
    }
    for (let i = 2; i < p.length; i++) {
      if (external(p[i])) continue;
      const rest = p.filter((_, k) => k !== i);
      if (!same(rest.slice(2), n.slice(2))) continue;
      const [du, dh] = [n[0].amount - p[0].amount, n[1].amount - p[1].amount];
      if (du >= 0n && dh >= 0n && du + dh === p[i].amount) return "settle";
    }
    return "one allocation removed, not a settlement or a fold";
  }
  return "allocations";
}

/** `vp` with one thing changed at random (or nothing, now and then). */
function mutate(vp: VariablePart, random: Random): VariablePart {
  const allocations = vp.outcome[0].allocations.map((a) => ({ ...a }));
  const index = random.int(allocations.length);
  const other = random.int(allocations.length);
  const randomDestination = () => (random.bool() ? keccakId(random.bytes(8)) : toDestination(random.address()));
  const out: VariablePart = { ...vp, outcome: [{ asset: vp.outcome[0].asset, allocations }] };
  switch (random.int(13)) {
    case 0:
      return { ...out, turnNum: vp.turnNum + (random.bool() ? 1n : -1n) };
    case 1:
      return { ...out, isFinal: !vp.isFinal };
    case 2:
      return { ...out, appData: "0x01" };
    case 3:
      return { ...out, outcome: [{ asset: random.address(), allocations }] };
    case 4:
      allocations[index].amount += 1n;
      return out;
    case 5:
      if (allocations[index].amount > 0n) allocations[index].amount -= 1n;
      return out;
    case 6:
      if (allocations[index].amount > 0n) {
        allocations[index].amount -= 1n;
        allocations[other].amount += 1n;
      }
      return out;
    case 7:
      [allocations[index], allocations[other]] = [allocations[other], allocations[index]];
      return out;
    case 8:
      allocations.splice(index, 1);
      return out;
    case 9:
      allocations.push({ destination: randomDestination(), amount: random.uint(8) });
      return out;
    case 10:
      allocations[index].destination = randomDestination();
      return out;
    case 11:
      allocations.push({ ...allocations[index] });
      return out;
    default:
      return out;
  }
}

/** One random sequence over A [L, H] and B_i [payee i, H]; throws, naming the seed, on the first broken property. */
function sequence(seed: number): { accepted: number; refused: number } {
  const random = new Random(seed);
  const amount = (max: bigint) => (max <= 0n ? 0n : random.next64() % (max + 1n));
  const opened = (vp: VariablePart, name: string): Ledger => ({ name, state: vp, deposits: total(vp), toppedUp: 0n });
  const a = opened(state(ledgerOutcome(ZeroAddress, L, H, amount(10n ** 6n) + 1n, amount(10n ** 3n))), "A");
  const bs = PAYEES.map((payee, i) =>
    opened(state(ledgerOutcome(ZeroAddress, payee, H, 0n, amount(10n ** 6n))), `B${i}`),
  );
  const ledgers = [a, ...bs];
  const hubOf = (ledger: Ledger) => ledgerBalances(ledger.state.outcome).hub;
  const hubOverAll = () => ledgers.reduce((t, ledger) => t + hubOf(ledger), 0n);
  const [hubAtStart, userAtStart] = [hubOverAll(), ledgerBalances(a.state.outcome).user];
  const virtuals: Virtual[] = [];
  let accepted = 0;
  let refused = 0;
  const where = (step: number) => `seed ${seed}, step ${step}`;

  /** Builds and checks `change` on `ledger`, then checks a hostile variant of the result; false if refused. */
  const update = (ledger: Ledger, change: LedgerChange, step: number, virtual?: Virtual): boolean => {
    let next: VariablePart;
    try {
      next = applyLedgerChange(ledger.state, change);
    } catch (error) {
      expect(error, where(step)).to.be.instanceOf(PiecepayError);
      refused++;
      return false;
    }
    checkLedgerUpdate(ledger.state, next, change);
    expect(allowedShape(ledger.state, next), `${where(step)}: ${change.kind}`).to.equal(change.kind);
    const hostile = mutate(next, random);
    const hostileVerdict = verdict(() => checkLedgerUpdate(ledger.state, hostile, change));
    if (JSON.stringify(hostile, big) === JSON.stringify(next, big)) {
      expect(hostileVerdict, where(step)).to.equal("accepted");
    } else {
      expect(hostileVerdict, `${where(step)}: accepted ${JSON.stringify(hostile, big)}`).to.not.equal("accepted");
      refused++;
    }
    // Whatever the checker accepts under any change is that change's shape: try the others on the same pair.
    for (const kind of ["foldTopUp", "final"] as const) {
      if (kind !== change.kind && verdict(() => checkLedgerUpdate(ledger.state, next, { kind })) === "accepted") {
        expect.fail(`${where(step)}: a ${change.kind} accepted as ${kind}`);
      }
    }
    if (virtual) virtual.hubDelta += ledgerBalances(next.outcome).hub - hubOf(ledger);
    if (change.kind === "proposeTopUp") {
      ledger.deposits += change.amount; // the depositor deposits it now
      ledger.toppedUp += change.amount;
    }
    ledger.state = next;
    accepted++;
    expect(total(ledger.state), `${where(step)}: ${ledger.name}'s total against its deposits`).to.equal(
      ledger.deposits,
    );
    return true;
  };

  const settle = (v: Virtual, side: "payer" | "payee", step: number) => {
    const ledger = side === "payer" ? a : bs[v.payee];
    if (v.outcome === undefined) {
      if (v.fundedB) {
        const bps = BigInt(random.int(10_001));
        let p = amount((v.x * 10_000n) / (10_000n + bps));
        while (p + fee(p, bps) > v.x) p--;
        [v.outcome, v.p] = [vAt(v.x, p, PAYEES[v.payee], bps), p];
      } else {
        [v.outcome, v.p] = [v0(v.x, PAYEES[v.payee]).outcome, 0n]; // the payee never got its guarantee: V0
      }
    }
    const p = v.p as bigint;
    const change: LedgerChange = { kind: "settle", target: v.id, virtualOutcome: v.outcome, side, largestVoucher: p };
    if (p > 0n) {
      const off = { ...change, largestVoucher: side === "payer" ? p - 1n : p + 1n };
      expect(
        verdict(() => checkLedgerUpdate(ledger.state, applyLedgerChange(ledger.state, change), off)),
        where(step),
      ).to.equal(side === "payer" ? "SETTLEMENT_ABOVE_VOUCHERS" : "SETTLEMENT_BELOW_VOUCHERS");
    }
    expect(update(ledger, change, step, v), where(step)).to.equal(true);
    if (side === "payer") v.settledA = true;
    else v.settledB = true;
  };

  const steps = 5 + random.int(30);
  for (let step = 0; step < steps; step++) {
    const pick = random.int(7);
    const live = virtuals.filter((v) => !(v.settledA && (v.settledB || !v.fundedB)));
    if (pick <= 1 || live.length === 0) {
      // A new V: the payer's guarantee first (sometimes above what L has, sometimes without a supported V0).
      const free = ledgerBalances(a.state.outcome).user;
      const x = random.int(4) === 0 ? free + 1n + amount(10n) : amount(free);
      const v: Virtual = {
        id: keccakId(`${seed} ${step}`),
        x,
        payee: random.int(PAYEES.length),
        fundedA: false,
        fundedB: false,
        settledA: false,
        settledB: false,
        hubDelta: 0n,
      };
      const supportedV0 = v0(x, PAYEES[v.payee]);
      const hubFirst = { kind: "fund", target: v.id, amount: x, from: "hub", supportedV0 } as const;
      expect(
        verdict(() => applyLedgerChange(bs[v.payee].state, hubFirst)),
        where(step),
      ).to.be.oneOf(["PAYER_NOT_GUARANTEED", "GUARANTEE_INVALID"]);
      const withV0 = random.int(10) === 0 ? undefined : supportedV0;
      if (update(a, { kind: "fund", target: v.id, amount: x, from: "user", supportedV0: withV0 }, step, v)) {
        v.fundedA = true;
        virtuals.push(v);
      }
    } else if (pick === 2) {
      const v = live[random.int(live.length)];
      if (v.fundedA && !v.fundedB && !v.settledA) {
        const change = {
          kind: "fund",
          target: v.id,
          amount: v.x,
          from: "hub",
          supportedV0: v0(v.x, PAYEES[v.payee]),
          payerGuarantee: v.x,
        } as const;
        expect(
          verdict(() => applyLedgerChange(a.state, { ...change, from: "user" })),
          where(step),
        ).to.equal("GUARANTEE_ALREADY_FUNDED");
        if (update(bs[v.payee], change, step, v)) v.fundedB = true;
      }
    } else if (pick <= 4) {
      const v = live[random.int(live.length)];
      // Either order: the payee's side first, as the hub does, or the payer's (a dispute settled by V's outcome).
      if (v.fundedB && !v.settledB && (v.settledA || random.bool())) settle(v, "payee", step);
      else if (!v.settledA) settle(v, "payer", step);
    } else {
      const ledger = ledgers[random.int(ledgers.length)];
      if (pick === 5)
        update(ledger, { kind: "proposeTopUp", amount: amount(1000n), to: ledger === a ? "user" : "hub" }, step);
      else update(ledger, { kind: "foldTopUp" }, step);
    }
  }

  // Wind down: settle what is live (the payee's side first), fold, close.
  let step = steps;
  for (const v of virtuals) {
    if (v.fundedB && !v.settledB) settle(v, "payee", step++);
    if (!v.settledA) settle(v, "payer", step++);
    // Both ledgers settled: the hub is up exactly V's hub allocation (the fee on p; 0 for a V that ended at V0).
    expect(v.hubDelta, `${where(step)}: V ${v.id}`).to.equal((v.outcome as Outcome)[0].allocations[1].amount);
  }
  for (const ledger of ledgers) {
    if (ledgerBalances(ledger.state.outcome).topUp)
      expect(update(ledger, { kind: "foldTopUp" }, step++)).to.equal(true);
    expect(update(ledger, { kind: "final" }, step++), where(step)).to.equal(true);
  }
  // Over the three ledgers: the hub gained the fees, L paid p + fee for each V, each payee got its p's.
  const spent = virtuals.map((v) => (v.outcome as Outcome)[0].allocations);
  const fees = spent.reduce((t, [, hub]) => t + hub.amount, 0n);
  const hubToppedUp = bs.reduce((t, b) => t + b.toppedUp, 0n);
  expect(hubOverAll() - hubAtStart - hubToppedUp, `${where(step)}: the hub's gain`).to.equal(fees);
  const paid = spent.reduce((t, [, hub, payee]) => t + hub.amount + payee.amount, 0n);
  expect(ledgerBalances(a.state.outcome).user, `${where(step)}: L`).to.equal(userAtStart + a.toppedUp - paid);
  for (const [i, b] of bs.entries()) {
    const earned = virtuals.filter((v) => v.payee === i).reduce((t, v) => t + (v.p as bigint), 0n);
    expect(ledgerBalances(b.state.outcome).user, `${where(step)}: payee ${i}`).to.equal(earned);
  }
  return { accepted, refused };
}
