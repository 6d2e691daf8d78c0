import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import {
  findRegistration,
  NO_REGISTRATION,
  type RegisteredState,
  type Registration,
  registrationOf,
} from "../registration.js";
import { channelOf } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface RegistrationParameters {
  channelId: string;
}
export type RegistrationReturnType = RegisteredState;
export type RegistrationErrorType = PiecepayError<"REGISTERED_STATE_UNKNOWN"> | ChannelErrorType;

/**
 * What the fingerprint of a channel under challenge or finalized commits to: the state (one of its
 * `ChallengeRegistered` events, or a final state we signed), the outcome still owed and the ETH committed
 * (named by its events), whichever matches.
 * @throws PiecepayError REGISTERED_STATE_UNKNOWN
 * @example const { variablePart, owed, heldEth } = await registration(context, { channelId })
 */
export async function registration(
  context: PiecepayContext,
  params: RegistrationParameters,
): Promise<RegistrationReturnType> {
  const record = await channelOf(context, params.channelId);
  const found = await findRegistration(context.adjudicator, record.id, record.finalStates ?? []);
  if (!found) {
    throw new PiecepayError(
      "REGISTERED_STATE_UNKNOWN",
      `no known state of channel ${params.channelId} matches its fingerprint`,
    );
  }
  return found;
}

/** The registration argument of a transaction: the one the events name while a challenge runs, none when open. */
export async function registrationIfChallenged(context: PiecepayContext, id: string): Promise<Registration> {
  const [, finalizesAt] = await context.adjudicator.statusOf(id);
  return finalizesAt === 0n ? NO_REGISTRATION : registrationOf(id, await registration(context, { channelId: id }));
}
