import type { TransactionReceipt } from "ethers";
import { withChainChecked } from "../context/context.js";
import { onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import type { PiecepayError } from "../errors.js";
import { channelOf, supportedState } from "./internal/channels.js";
import { type RegistrationErrorType, registrationIfChallenged } from "./registration.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

export interface CheckpointParameters {
  channelId: string;
}
export type CheckpointReturnType = TransactionReceipt;
export type CheckpointErrorType =
  | PiecepayError<"NO_SUPPORTED_STATE">
  | RegistrationErrorType
  | SendErrorType
  | ChannelErrorType;

/**
 * Answers a challenge of an older state with our latest state both signed (`checkpoint`): it replaces the
 * registered state and the deadline stays. Only during a challenge: on an open channel nothing may raise the
 * turn record (ADR 0005).
 * @throws ContractRevertError (e.g. TURN_NUMBER_TOO_LOW when it is not newer, NO_ONGOING_CHALLENGE)
 * @example await checkpoint(context, { channelId })
 */
export async function checkpoint(
  context: PiecepayContext,
  params: CheckpointParameters,
): Promise<CheckpointReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const base = await supportedState(ctx, record);
  const registration = await registrationIfChallenged(ctx, record.id);
  return sendTransaction(ctx, "checkpoint", () =>
    ctx.adjudicator.checkpoint(record.fixedPart, [], base, registration, onOurChain(ctx)),
  );
}
