import { ZeroAddress, ZeroHash } from "ethers";
import type { Adjudicator } from "../typechain-types/index.js";
import { outcomeHash, stateHash } from "./channel.js";
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
 * Which of `states`, with which of `helds`, the fingerprint `onChain` of channel `id` commits to: as registered,
 * or after a payout of all its allocations from the ETH held (the SDK's payouts). Undefined when none matches.
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
    const registeredOutcomeHash = outcomeHash(vp.outcome);
    for (const heldEth of helds) {
      if (fingerprint(hash, registeredOutcomeHash, heldEth) === onChain)
        return { variablePart: vp, owed: vp.outcome, heldEth };
      const [exit] = vp.outcome;
      if (vp.outcome.length !== 1 || exit.asset !== ZeroAddress) continue;
      const { newAmounts, totalPaid } = computePayouts(heldEth, exit.allocations, []);
      const owed: Outcome = newAmounts.some((a) => a !== 0n)
        ? [{ asset: exit.asset, allocations: exit.allocations.map((a, i) => ({ ...a, amount: newAmounts[i] })) }]
        : [];
      const left = heldEth - totalPaid;
      if (fingerprint(hash, owed.length === 0 ? ZeroHash : outcomeHash(owed), left) === onChain) {
        return { variablePart: vp, owed, heldEth: left };
      }
    }
  }
  return undefined;
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
  const registered = events.reverse().map((e) => variablePartFromEvent(e.args.candidate));
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
  if (!found) throw new Error(`no known state of channel ${id} matches its fingerprint`);
  return adjudicator.ethHoldings(id, registrationOf(id, found));
}
