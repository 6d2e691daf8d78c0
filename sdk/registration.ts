import { ZeroAddress, ZeroHash } from "ethers";
import type { Adjudicator } from "../typechain-types/index.js";
import { isExternalDestination, outcomeHash, stateHash } from "./channel.js";
import { PiecepayError } from "./errors.js";
import { variablePartFromEvent } from "./events.js";
import { computePayouts } from "./payouts.js";
import { fingerprint } from "./status.js";
import type { Outcome, VariablePart } from "./types.js";

/**
 * What the adjudicator's fingerprint of a channel under challenge or finalized commits to (`Registration` in
 * ChannelTypes.sol): answers, new challenges, conclusions and payouts of such a channel present it.
 */
export interface Registration {
  stateHash: string;
  outcomeHash: string;
  heldEth: bigint;
}

/**
 * The registration argument for an open channel, where the adjudicator ignores it.
 * @example await adjudicator.challenge(fixedPart, [], candidate, "0x", NO_REGISTRATION)
 */
export const NO_REGISTRATION: Registration = Object.freeze({ stateHash: ZeroHash, outcomeHash: ZeroHash, heldEth: 0n });

/** A registered state as found from events: the state, the outcome still owed under it, the ETH committed. */
export interface RegisteredState {
  variablePart: VariablePart;
  /** The outcome still owed (the registered one until a payout); empty once nothing is. */
  owed: Outcome;
  heldEth: bigint;
}

/**
 * The `Registration` argument for a registered state of channel `id`.
 * @example await adjudicator.checkpoint(fixedPart, [], newer, registrationOf(id, await client.registration(id)))
 */
export function registrationOf(id: string, registered: RegisteredState): Registration {
  return {
    stateHash: stateHash(id, registered.variablePart),
    outcomeHash: registered.owed.length === 0 ? ZeroHash : outcomeHash(registered.owed),
    heldEth: registered.heldEth,
  };
}

/**
 * Every ETH amount that a channel's events name as committed (`ChallengeRegistered.heldEth`, `Concluded.heldEth`,
 * `HoldingsUpdated.held` of ETH), newest first, and 0.
 * @example const helds = await committedEthCandidates(adjudicator, id)
 */
export async function committedEthCandidates(adjudicator: Adjudicator, id: string): Promise<bigint[]> {
  const [challenges, conclusions, holdings] = await Promise.all([
    adjudicator.queryFilter(adjudicator.filters.ChallengeRegistered(id)),
    adjudicator.queryFilter(adjudicator.filters.Concluded(id)),
    adjudicator.queryFilter(adjudicator.filters.HoldingsUpdated(id, ZeroAddress)),
  ]);
  const named = [
    ...challenges.map((e) => ({ at: [e.blockNumber, e.index], held: e.args.heldEth })),
    ...conclusions.map((e) => ({ at: [e.blockNumber, e.index], held: e.args.heldEth })),
    ...holdings.map((e) => ({ at: [e.blockNumber, e.index], held: e.args.held })),
  ].sort((a, b) => b.at[0] - a.at[0] || b.at[1] - a.at[1]);
  return [...new Set([...named.map((n) => n.held), 0n])];
}

/**
 * Which of `states`, with which of `helds`, the fingerprint `onChain` of channel `id` commits to: as registered, or
 * after any payouts since, whole or by index, by us or by anyone (the outcome still owed, with the ETH left, which
 * a `HoldingsUpdated` event names). Undefined when none matches.
 * @example matchRegistration(id, [vp], await committedEthCandidates(adjudicator, id), fingerprint)
 */
export function matchRegistration(
  id: string,
  states: VariablePart[],
  helds: bigint[],
  onChain: bigint,
): RegisteredState | undefined {
  for (const vp of states) {
    const hash = stateHash(id, vp);
    for (const owed of owedAfterPayouts(vp.outcome, helds)) {
      const hashOfOwed = owed.length === 0 ? ZeroHash : outcomeHash(owed);
      for (const heldEth of helds) {
        if (fingerprint(hash, hashOfOwed, heldEth) === onChain) return { variablePart: vp, owed, heldEth };
      }
    }
  }
  return undefined;
}

/**
 * The outcomes that can still be owed under a registered one-asset `outcome`: itself, and what is left after
 * paying any allocations, in any number of payouts, from any of `helds` or in full (a token channel's holdings,
 * or ETH with late credits, cover what an event does not name). Each payout pays allocations in order, as
 * PayoutLib does; an outcome with nothing owed is `[]`. Multi-asset outcomes: only as registered.
 */
function owedAfterPayouts(outcome: Outcome, helds: bigint[]): Outcome[] {
  const [exit] = outcome;
  if (outcome.length !== 1 || exit.allocations.length > 8) return [outcome];
  const found = new Map<string, bigint[]>();
  const start = exit.allocations.map((a) => a.amount);
  const total = start.reduce((sum, a) => sum + a, 0n);
  const queue: { amounts: bigint[]; held: bigint }[] = [...helds, total].map((held) => ({ amounts: start, held }));
  found.set(start.join(","), start);
  while (queue.length > 0) {
    const { amounts, held } = queue.shift() as { amounts: bigint[]; held: bigint };
    const allocations = exit.allocations.map((a, i) => ({ ...a, amount: amounts[i] }));
    // A guarantee (a channel id as destination) is never paid, only reclaimed: naming it in a payout reverts.
    const unpaid = amounts.flatMap((a, i) =>
      a === 0n || !isExternalDestination(exit.allocations[i].destination) ? [] : [BigInt(i)],
    );
    // Every non-empty subset of the allocations still owed, paid in one payout (by index, in order).
    for (let mask = 1; mask < 1 << unpaid.length; mask++) {
      const indices = unpaid.filter((_, k) => (mask >> k) & 1);
      const { newAmounts, totalPaid } = computePayouts(held, allocations, indices);
      const key = newAmounts.join(",");
      if (totalPaid === 0n || found.has(key)) continue;
      found.set(key, newAmounts);
      queue.push({ amounts: newAmounts, held: held - totalPaid });
    }
  }
  return [...found.values()].map((amounts) =>
    amounts.every((a) => a === 0n)
      ? []
      : [{ asset: exit.asset, allocations: exit.allocations.map((a, i) => ({ ...a, amount: amounts[i] })) }],
  );
}

/**
 * What the fingerprint of channel `id` commits to, found as a counterparty would: among the states its
 * `ChallengeRegistered` events carry (newest first) and `states` (a concluded channel's final state is in no
 * event), with the ETH amounts its events name. Undefined when none matches.
 * @example const registered = await findRegistration(adjudicator, id, [finalState])
 */
export async function findRegistration(
  adjudicator: Adjudicator,
  id: string,
  states: VariablePart[] = [],
): Promise<RegisteredState | undefined> {
  const [, , onChain] = await adjudicator.statusOf(id);
  const events = await adjudicator.queryFilter(adjudicator.filters.ChallengeRegistered(id));
  const registered = events.reverse().map((e) => variablePartFromEvent(e.args));
  return matchRegistration(id, [...registered, ...states], await committedEthCandidates(adjudicator, id), onChain);
}

/**
 * The ETH channel `id` holds: `holdings` while the channel is open (or its fingerprint commits nothing),
 * otherwise `ethHoldings` with the registration `findRegistration` finds.
 * @throws Error when no known state matches the fingerprint
 * @example const held = await readEthHoldings(adjudicator, id)
 */
export async function readEthHoldings(
  adjudicator: Adjudicator,
  id: string,
  states: VariablePart[] = [],
): Promise<bigint> {
  const [, finalizesAt, onChain] = await adjudicator.statusOf(id);
  if (finalizesAt === 0n || onChain === 0n) return adjudicator.holdings(ZeroAddress, id);
  const found = await findRegistration(adjudicator, id, states);
  if (!found)
    throw new PiecepayError("REGISTERED_STATE_UNKNOWN", `no known state of channel ${id} matches its fingerprint`);
  return adjudicator.ethHoldings(id, registrationOf(id, found));
}
