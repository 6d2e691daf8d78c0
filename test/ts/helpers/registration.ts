import {
  committedEthCandidates,
  type FixedPart,
  findRegistration,
  fingerprint,
  NO_REGISTRATION,
  type Outcome,
  outcomeHash,
  type Registration,
  readEthHoldings,
  registrationOf,
  type VariablePart,
} from "../../../sdk/index.js";
import type { Adjudicator } from "../../../typechain-types/index.js";

/**
 * The registration of the channel of `fixedPart` as its events name it: none while the channel is open (or when no
 * registered state matches, so that a test of a bad answer reaches the adjudicator's own check).
 */
export async function registrationNow(adjudicator: Adjudicator, fixedPart: FixedPart): Promise<Registration> {
  const id = await adjudicator.channelIdOf(fixedPart);
  const [, finalizesAt] = await adjudicator.statusOf(id);
  if (finalizesAt === 0n) return NO_REGISTRATION;
  const found = await findRegistration(adjudicator, id);
  return found ? registrationOf(id, found) : NO_REGISTRATION;
}

/**
 * The ETH committed with state hash `hashOfState` and the outcome owed `owed` in channel `id`: the amount among
 * those its events name that matches the fingerprint, or the newest named (so that a payout with a wrong outcome
 * reaches the adjudicator's check).
 */
export async function committedEthFor(
  adjudicator: Adjudicator,
  id: string,
  hashOfState: string,
  owed: Outcome,
): Promise<bigint> {
  const [, , onChain] = await adjudicator.statusOf(id);
  const candidates = await committedEthCandidates(adjudicator, id);
  let hashOfOwed: string | undefined;
  try {
    hashOfOwed = outcomeHash(owed);
  } catch {
    return candidates[0];
  }
  return candidates.find((held) => fingerprint(hashOfState, hashOfOwed, held) === onChain) ?? candidates[0];
}

/** The ETH channel `id` holds (the SDK's `readEthHoldings`). */
export function ethHeldNow(adjudicator: Adjudicator, id: string, ...states: VariablePart[]): Promise<bigint> {
  return readEthHoldings(adjudicator, id, states);
}

/** The ETH channel `id` holds, finalized with state hash `hashOfState` and the outcome `owed` still owed. */
export async function ethHeldOwing(
  adjudicator: Adjudicator,
  id: string,
  hashOfState: string,
  owed: Outcome,
): Promise<bigint> {
  const heldEth = await committedEthFor(adjudicator, id, hashOfState, owed);
  return adjudicator.ethHoldings(id, { stateHash: hashOfState, outcomeHash: outcomeHash(owed), heldEth });
}
