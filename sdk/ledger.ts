import { checksumAddress as getAddress } from "./address.js";
import { isExternalDestination, toDestination } from "./channel.js";
import { PiecepayError, type SdkErrorCode } from "./errors.js";
import { reclaimEffects } from "./reclaim.js";
import type { Allocation, FixedPart, Outcome, VariablePart } from "./types.js";

// The pure rules of a ledger channel [user, hub] (ADR 0021, decisions 1, 4, 5 and 7): its outcome is
// [user's balance, hub's balance, guarantee..., top-up?] in one asset, and each new state is the previous one with
// exactly one change. Every ledger state is signed by both (LedgerApp accepts no move), so these rules are all that
// stands between a countersignature and a loss: checkLedgerUpdate rebuilds the state it expects and refuses anything
// else. No I/O here; the actions that sign and send build on it.

const USER = 0;
const HUB = 1;
const FIRST_GUARANTEE = 2;
const MAX_UINT256 = (1n << 256n) - 1n;

/** A guarantee for a virtual channel: an allocation of `amount` to the channel id `target`. */
export interface Guarantee {
  target: string;
  amount: bigint;
}

/** A top-up in progress: a trailing allocation of `amount` to the user's (or the hub's) destination. */
export interface LedgerTopUp {
  to: "user" | "hub";
  amount: bigint;
}

/** What a ledger outcome says: the two balances, the guarantees by target (lower-case channel id), a top-up. */
export interface LedgerBalances {
  asset: string;
  userDestination: string;
  hubDestination: string;
  user: bigint;
  hub: bigint;
  guarantees: Map<string, bigint>;
  topUp?: LedgerTopUp;
}

/**
 * What a virtual channel's guarantee needs before anyone signs it (decision 4). `supportedV0` is V's funding state
 * that the caller holds signed by all three (undefined while it does not): a V that has no supported state can never
 * finalize, so a guarantee for it could never be reclaimed. `payerGuarantee` is the amount of V's guarantee in the
 * payer's ledger that the caller knows is signed by both (undefined while it is not): the hub funds the payee's side
 * only after that, so that it never owes the payee what it cannot recover from the payer. That order protects the
 * hub, which alone sees both ledgers: the payee, countersigning, cannot see the payer's ledger and passes V0's `x`.
 */
export interface VirtualFunding {
  supportedV0: VariablePart | undefined;
  payerGuarantee?: bigint;
}

/** Moves `amount` from the user's balance (the payer's ledger) or the hub's (the payee's) into a guarantee for `target`. */
export interface FundGuaranteeParameters extends VirtualFunding {
  target: string;
  amount: bigint;
  from: "user" | "hub";
}

/**
 * Removes the guarantee for `target`, crediting what `reclaim` would: `virtualOutcome` is V's outcome the
 * settlement follows (its final state, the payee's largest voucher state, or its registered outcome), `side` the
 * ledger user's place in V. `largestVoucher`, when given, bounds V's payee allocation: the payer settles for no more
 * than it signed, the payee for no less than it holds (decision 5).
 */
export interface SettleGuaranteeParameters {
  target: string;
  virtualOutcome: Outcome;
  side: "payer" | "payee";
  largestVoucher?: bigint;
}

/** The one change a countersigner accepts from one ledger state to the next. */
export type LedgerChange =
  | ({ kind: "fund" } & FundGuaranteeParameters)
  | ({ kind: "settle"; largestVoucher: bigint } & SettleGuaranteeParameters)
  | { kind: "proposeTopUp"; amount: bigint; to?: "user" | "hub" }
  | { kind: "foldTopUp" }
  | { kind: "final" };

/** The codes of the ledger rules' refusals (all SDK codes; settleGuarantee also passes on reclaimEffects' own). */
export type LedgerErrorCode = Extract<
  SdkErrorCode,
  | "LEDGER_MALFORMED"
  | "LEDGER_IS_FINAL"
  | "GUARANTEE_INVALID"
  | "GUARANTEE_ALREADY_FUNDED"
  | "GUARANTEE_ABOVE_FREE_BALANCE"
  | "GUARANTEE_NOT_FOUND"
  | "VIRTUAL_NOT_SUPPORTED"
  | "VIRTUAL_FUNDING_MISMATCH"
  | "PAYER_NOT_GUARANTEED"
  | "SETTLEMENT_ABOVE_VOUCHERS"
  | "SETTLEMENT_BELOW_VOUCHERS"
  | "TOP_UP_INVALID"
  | "TOP_UP_PENDING"
  | "NO_TOP_UP"
  | "GUARANTEES_LIVE"
  | "LEDGER_TURN_NOT_NEXT"
  | "LEDGER_FINALITY_CHANGED"
  | "LEDGER_APP_DATA_NOT_EMPTY"
  | "LEDGER_ASSET_CHANGED"
  | "LEDGER_UNEXPECTED_GUARANTEE"
  | "LEDGER_TOTAL_CHANGED"
  | "LEDGER_ALLOCATIONS_CHANGED"
>;

/**
 * A ledger's outcome `[user, hub, guarantee...]` in one asset (`user` and `hub` are addresses; each guarantee's
 * target a channel id).
 * @example const outcome = ledgerOutcome(ETH_ASSET, leecher, hub, parseEther("1"), 0n)
 * @throws PiecepayError LEDGER_MALFORMED, GUARANTEE_INVALID
 */
export function ledgerOutcome(
  asset: string,
  user: string,
  hub: string,
  userAmount: bigint,
  hubAmount: bigint,
  guarantees: Guarantee[] = [],
): Outcome {
  const outcome: Outcome = [
    {
      asset: getAddress(asset),
      allocations: [
        { destination: toDestination(user), amount: userAmount },
        { destination: toDestination(hub), amount: hubAmount },
        ...guarantees.map((g) => ({ destination: guaranteeTarget(g.target), amount: g.amount })),
      ],
    },
  ];
  ledgerBalances(outcome); // refuses a repeated target, one destination for both, an amount out of range
  return outcome;
}

/**
 * Reads a ledger outcome: the user's and the hub's balances, each guarantee by target, a top-up in progress.
 * Refuses anything that is not `[user, hub, guarantee..., top-up?]` in one asset (a top-up pays the user's or the
 * hub's destination), with amounts that fit a uint256 in total.
 * @example const { user, hub, guarantees } = ledgerBalances(state.outcome)
 * @throws PiecepayError LEDGER_MALFORMED
 */
export function ledgerBalances(outcome: Outcome): LedgerBalances {
  if (outcome.length !== 1) throw refusal("LEDGER_MALFORMED", `a ledger has one asset, not ${outcome.length}`);
  const { asset, allocations } = outcome[0];
  if (allocations.length < FIRST_GUARANTEE) throw refusal("LEDGER_MALFORMED", "a ledger starts with [user, hub]");
  let total = 0n;
  for (const { amount } of allocations) {
    if (amount < 0n) throw refusal("LEDGER_MALFORMED", `negative amount ${amount}`);
    total += amount;
  }
  if (total > MAX_UINT256) throw refusal("LEDGER_MALFORMED", "the allocations overflow a uint256");
  const [user, hub] = allocations;
  if (!isExternalDestination(user.destination) || !isExternalDestination(hub.destination)) {
    throw refusal("LEDGER_MALFORMED", "positions 0 and 1 must be external destinations");
  }
  const [userDestination, hubDestination] = [user.destination.toLowerCase(), hub.destination.toLowerCase()];
  if (userDestination === hubDestination) throw refusal("LEDGER_MALFORMED", "the user and the hub are one destination");
  const guarantees = new Map<string, bigint>();
  let topUp: LedgerTopUp | undefined;
  for (let i = FIRST_GUARANTEE; i < allocations.length; i++) {
    const destination = allocations[i].destination.toLowerCase();
    if (isExternalDestination(destination)) {
      // Only a trailing one, to the user or the hub: it is paid only from what exceeds everything before it.
      const to = destination === userDestination ? "user" : destination === hubDestination ? "hub" : undefined;
      if (i !== allocations.length - 1 || to === undefined) {
        throw refusal("LEDGER_MALFORMED", `allocation ${i} pays an address but is not a top-up`);
      }
      topUp = { to, amount: allocations[i].amount };
    } else {
      if (guarantees.has(destination)) throw refusal("LEDGER_MALFORMED", `two guarantees for ${destination}`);
      guarantees.set(destination, allocations[i].amount);
    }
  }
  return {
    asset,
    userDestination,
    hubDestination,
    user: user.amount,
    hub: hub.amount,
    guarantees,
    ...(topUp ? { topUp } : {}),
  };
}

/**
 * The next ledger state with `amount` moved from the user's balance (`from: "user"`, the payer's ledger) or the
 * hub's (`from: "hub"`, the payee's ledger) into a new guarantee for `target`, placed after the other guarantees.
 * Refused before V0 is supported, for the hub before the payer's guarantee is signed (decision 4), for a V already
 * guaranteed here, for 0 or more than the free balance.
 * @example const next = fundGuarantee(previous, { target: vId, amount: x, from: "user", supportedV0: v0 })
 * @throws PiecepayError VIRTUAL_NOT_SUPPORTED, VIRTUAL_FUNDING_MISMATCH, PAYER_NOT_GUARANTEED, GUARANTEE_INVALID, GUARANTEE_ALREADY_FUNDED, GUARANTEE_ABOVE_FREE_BALANCE, LEDGER_IS_FINAL, LEDGER_MALFORMED
 */
export function fundGuarantee(previous: VariablePart, params: FundGuaranteeParameters): VariablePart {
  const balances = openLedger(previous);
  const target = guaranteeTarget(params.target);
  const { amount, from } = params;
  if (from !== "user" && from !== "hub") throw refusal("GUARANTEE_INVALID", `funded from ${String(from)}`);
  if (amount <= 0n) throw refusal("GUARANTEE_INVALID", `a guarantee of ${amount}`);
  if (balances.guarantees.has(target)) throw refusal("GUARANTEE_ALREADY_FUNDED", `${target} is already guaranteed`);
  const v0 = params.supportedV0;
  if (v0 === undefined) throw refusal("VIRTUAL_NOT_SUPPORTED", `no V0 of ${target} signed by all three`);
  const [v0Exit] = v0.outcome;
  if (
    v0.outcome.length !== 1 ||
    v0.turnNum !== 0n ||
    v0.isFinal ||
    getAddress(v0Exit.asset) !== getAddress(balances.asset) ||
    v0Exit.allocations.length !== 3 ||
    v0Exit.allocations[0].amount !== amount ||
    v0Exit.allocations[1].amount !== 0n ||
    v0Exit.allocations[2].amount !== 0n
  ) {
    throw refusal("VIRTUAL_FUNDING_MISMATCH", `V0 of ${target} is not [${amount}, 0, 0] at turn 0 in this asset`);
  }
  if (from === "hub") {
    if (params.payerGuarantee === undefined) {
      throw refusal("PAYER_NOT_GUARANTEED", `the payer's ledger does not guarantee ${target} yet`);
    }
    if (params.payerGuarantee !== amount) {
      throw refusal("VIRTUAL_FUNDING_MISMATCH", `the payer guarantees ${params.payerGuarantee}, not ${amount}`);
    }
  }
  const free = from === "user" ? balances.user : balances.hub;
  if (amount > free) throw refusal("GUARANTEE_ABOVE_FREE_BALANCE", `${amount} above the ${from}'s free ${free}`);
  const allocations = [...previous.outcome[0].allocations];
  const position = from === "user" ? USER : HUB;
  allocations[position] = { ...allocations[position], amount: allocations[position].amount - amount };
  const at = balances.topUp ? allocations.length - 1 : allocations.length;
  allocations.splice(at, 0, { destination: target, amount });
  return nextState(previous, allocations);
}

/**
 * The next ledger state with the guarantee for `target` removed and credited exactly as `reclaim` would
 * (`reclaimEffects`): the user gets V's allocation for its side (0 as payer, 2 as payee) up to the guarantee, the
 * hub the rest. On chain the guarantee stays in place at 0; off chain it goes, so the ledger does not grow.
 * @example const next = settleGuarantee(previous, { target: vId, virtualOutcome: vFinal.outcome, side: "payee", largestVoucher: p })
 * @throws PiecepayError GUARANTEE_NOT_FOUND, SETTLEMENT_ABOVE_VOUCHERS, SETTLEMENT_BELOW_VOUCHERS, LEDGER_IS_FINAL, LEDGER_MALFORMED, and reclaimEffects' refusals (ASSET_MISMATCH, NOT_A_VIRTUAL_CHANNEL, NOTHING_TO_RECLAIM)
 */
export function settleGuarantee(previous: VariablePart, params: SettleGuaranteeParameters): VariablePart {
  const balances = openLedger(previous);
  const target = guaranteeTarget(params.target);
  const allocations = previous.outcome[0].allocations;
  const index = allocations.findIndex((a, i) => i >= FIRST_GUARANTEE && a.destination.toLowerCase() === target);
  if (index < 0) throw refusal("GUARANTEE_NOT_FOUND", `no guarantee for ${target}`);
  const { largestVoucher, side, virtualOutcome } = params;
  if (side !== "payer" && side !== "payee") throw refusal("GUARANTEE_INVALID", `settled as ${String(side)}`);
  const payee = virtualOutcome[0]?.allocations[2]?.amount;
  if (largestVoucher !== undefined && payee !== undefined) {
    if (side === "payer" && payee > largestVoucher) {
      throw refusal(
        "SETTLEMENT_ABOVE_VOUCHERS",
        `pays the payee ${payee}, above the largest voucher ${largestVoucher}`,
      );
    }
    if (side === "payee" && payee < largestVoucher) {
      throw refusal(
        "SETTLEMENT_BELOW_VOUCHERS",
        `pays the payee ${payee}, below the largest voucher ${largestVoucher}`,
      );
    }
  }
  // reclaimEffects checks the parties from the two fixed parts; off chain the user states its own side, so the
  // stand-in fixed parts put the ledger's own user and hub where `side` says and a third address in the other place.
  const user = destinationAddress(balances.userDestination);
  const hub = destinationAddress(balances.hubDestination);
  const other = [1n, 2n, 3n]
    .map((n) => getAddress(`0x${n.toString(16).padStart(40, "0")}`))
    .find((a) => a !== user && a !== hub) as string;
  const standIn = (participants: string[]): FixedPart => ({
    participants,
    channelNonce: 0n,
    appDefinition: other,
    challengeDuration: 0n,
  });
  const { updated } = reclaimEffects({
    ledger: standIn([user, hub]),
    ledgerId: "the ledger",
    ledgerOutcome: previous.outcome,
    assetIndex: 0,
    guaranteeIndex: index,
    virtualChannel: standIn(side === "payer" ? [user, hub, other] : [other, hub, user]),
    virtualId: target,
    virtualOutcome,
  });
  return nextState(
    previous,
    updated[0].allocations.filter((_, i) => i !== index),
  );
}

/**
 * The next ledger state with a top-up in progress: `{user, amount}` (or `{hub, amount}` in a ledger the hub tops up)
 * appended after every other allocation (decision 7). Safe to sign before the deposit: a trailing allocation is paid
 * only from what exceeds everything before it. The depositor then deposits `amount`; `foldTopUp` follows.
 * @example const next = proposeTopUp(previous, parseEther("0.5"))
 * @throws PiecepayError TOP_UP_INVALID, TOP_UP_PENDING, LEDGER_IS_FINAL, LEDGER_MALFORMED
 */
export function proposeTopUp(previous: VariablePart, amount: bigint, to: "user" | "hub" = "user"): VariablePart {
  const balances = openLedger(previous);
  if (amount <= 0n) throw refusal("TOP_UP_INVALID", `a top-up of ${amount}`);
  if (balances.topUp) throw refusal("TOP_UP_PENDING", `a top-up of ${balances.topUp.amount} is in progress`);
  const allocations = previous.outcome[0].allocations;
  const destination = allocations[to === "user" ? USER : HUB].destination;
  return nextState(previous, [...allocations, { destination, amount }]);
}

/**
 * The next ledger state with the trailing top-up folded into the balance it pays (position 0 for the user's, 1 for
 * the hub's), nothing else moved (decision 7). Fold only once the deposit is read on chain.
 * @example const next = foldTopUp(previous)
 * @throws PiecepayError NO_TOP_UP, LEDGER_IS_FINAL, LEDGER_MALFORMED
 */
export function foldTopUp(previous: VariablePart): VariablePart {
  const { topUp } = openLedger(previous);
  if (!topUp) throw refusal("NO_TOP_UP", "no top-up to fold");
  const allocations = previous.outcome[0].allocations.slice(0, -1);
  const position = topUp.to === "user" ? USER : HUB;
  allocations[position] = { ...allocations[position], amount: allocations[position].amount + topUp.amount };
  return nextState(previous, allocations);
}

/**
 * The ledger's final state (same outcome, turn + 1, isFinal), for a cooperative close: refused while a guarantee
 * is live, since a concluded ledger never pays a guarantee and only `reclaim` resolves it (decision 7).
 * @example const closing = finalLedger(previous) // then both sign it and concludeAndTransferAllAssets
 * @throws PiecepayError GUARANTEES_LIVE, LEDGER_IS_FINAL, LEDGER_MALFORMED
 */
export function finalLedger(previous: VariablePart): VariablePart {
  const { guarantees } = openLedger(previous);
  if (guarantees.size > 0) throw refusal("GUARANTEES_LIVE", `${guarantees.size} guarantee(s) live`);
  return { ...nextState(previous, previous.outcome[0].allocations), isFinal: true };
}

/**
 * The check every ledger countersignature goes through (decision 9): throws unless `next` is exactly `previous`
 * with `change` applied, as fundGuarantee, settleGuarantee, proposeTopUp, foldTopUp or finalLedger build it: the
 * change's own preconditions, turn + 1, isFinal only for `final`, empty appData, the same asset and the same two
 * external positions, no guarantee but the one `fund` adds, the total kept, and nothing else moved.
 * @example checkLedgerUpdate(latest.variablePart, proposed, { kind: "settle", target: vId, virtualOutcome, side: "payer", largestVoucher: p })
 * @throws PiecepayError with a LedgerErrorCode (or reclaimEffects' codes for a settlement that reclaim would refuse)
 */
export function checkLedgerUpdate(previous: VariablePart, next: VariablePart, change: LedgerChange): void {
  const expected = applyLedgerChange(previous, change);
  if (next.turnNum !== previous.turnNum + 1n) {
    throw refusal("LEDGER_TURN_NOT_NEXT", `turn ${next.turnNum} after ${previous.turnNum}`);
  }
  if (next.isFinal !== expected.isFinal) {
    throw refusal("LEDGER_FINALITY_CHANGED", `isFinal ${next.isFinal} in a ${change.kind} update`);
  }
  if (next.appData !== "0x") throw refusal("LEDGER_APP_DATA_NOT_EMPTY", "a ledger state carries no appData");
  if (next.outcome.length !== 1 || next.outcome[0].asset.toLowerCase() !== expected.outcome[0].asset.toLowerCase()) {
    throw refusal("LEDGER_ASSET_CHANGED", "the ledger's asset changed");
  }
  const got = next.outcome[0].allocations;
  const want = expected.outcome[0].allocations;
  const allowed = new Set(want.filter((a) => !isExternalDestination(a.destination)).map(destinationKey));
  const stray = got.find((a) => !isExternalDestination(a.destination) && !allowed.has(destinationKey(a)));
  if (stray) throw refusal("LEDGER_UNEXPECTED_GUARANTEE", `an allocation to ${stray.destination}`);
  if (sum(got) !== sum(want)) throw refusal("LEDGER_TOTAL_CHANGED", `total ${sum(got)}, expected ${sum(want)}`);
  const same =
    got.length === want.length &&
    got.every((a, i) => destinationKey(a) === destinationKey(want[i]) && a.amount === want[i].amount);
  if (!same) throw refusal("LEDGER_ALLOCATIONS_CHANGED", `the allocations are not those of the ${change.kind}`);
}

/**
 * The state `change` builds from `previous`, through the builder of its kind (fundGuarantee, settleGuarantee,
 * proposeTopUp, foldTopUp or finalLedger): what checkLedgerUpdate compares a proposal with.
 * @example const next = applyLedgerChange(latest.variablePart, { kind: "foldTopUp" })
 * @throws PiecepayError with the refusal of that builder
 */
export function applyLedgerChange(previous: VariablePart, change: LedgerChange): VariablePart {
  switch (change.kind) {
    case "fund":
      return fundGuarantee(previous, change);
    case "settle":
      return settleGuarantee(previous, change);
    case "proposeTopUp":
      return proposeTopUp(previous, change.amount, change.to);
    case "foldTopUp":
      return foldTopUp(previous);
    case "final":
      return finalLedger(previous);
  }
}

/** The balances of a ledger state that may still change: well-formed and not final. */
function openLedger(previous: VariablePart): LedgerBalances {
  if (previous.isFinal) throw refusal("LEDGER_IS_FINAL", `turn ${previous.turnNum} is final: nothing follows it`);
  return ledgerBalances(previous.outcome);
}

function nextState(previous: VariablePart, allocations: Allocation[]): VariablePart {
  return {
    outcome: [{ asset: previous.outcome[0].asset, allocations }],
    appData: "0x",
    turnNum: previous.turnNum + 1n,
    isFinal: false,
  };
}

/** A guarantee's target, lower-case: a channel id, never an address. */
function guaranteeTarget(target: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(target) || isExternalDestination(target)) {
    throw refusal("GUARANTEE_INVALID", `${target} is not a channel id`);
  }
  return target.toLowerCase();
}

function destinationAddress(destination: string): string {
  return getAddress(`0x${destination.slice(-40)}`);
}

function destinationKey(allocation: Allocation): string {
  return allocation.destination.toLowerCase();
}

function sum(allocations: Allocation[]): bigint {
  return allocations.reduce((total, a) => total + a.amount, 0n);
}

function refusal(code: LedgerErrorCode, message: string): PiecepayError {
  return new PiecepayError(code, `ledger update refused: ${message}`);
}
