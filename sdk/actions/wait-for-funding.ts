import type { PiecepayContext } from "../context/types.js";
import type { PiecepayError } from "../errors.js";
import type { ChannelRecord } from "../store/types.js";
import { channelOf } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface WaitForFundingParameters {
  channelId: string;
  /** Default: 120,000 ms. */
  timeoutMs?: number;
  /** Stops the wait (FUNDING_ABORTED), e.g. when the payer's connection closes. */
  signal?: AbortSignal;
  /** Confirmations to wait for (default and at most: the context's). */
  confirmations?: number;
}
export type WaitForFundingReturnType = ChannelRecord;
export type WaitForFundingErrorType =
  | PiecepayError<"FUNDING_TIMEOUT" | "FUNDING_ABORTED" | "FUNDING_ALREADY_AWAITED" | "CHANNEL_NOT_OPEN">
  | ChannelErrorType;

/**
 * The payee's wait for the payer's deposit: returns once the holdings cover the funding state's deposit at
 * `confirmations`, and records them. Every channel awaited through one context shares one poll (see
 * `FundingPoller`): a look every polling interval costs a constant number of RPC requests however many wait. A
 * payee that waits for fewer confirmations than the context's follows the deposit with `followDeposit` until it is
 * final.
 * @throws PiecepayError FUNDING_TIMEOUT, FUNDING_ABORTED, UNKNOWN_CHANNEL, CHANNEL_NOT_OPEN
 * @example await waitForFunding(context, { channelId: acceptance.channelId, timeoutMs: 60_000 })
 */
export async function waitForFunding(
  context: PiecepayContext,
  params: WaitForFundingParameters,
): Promise<WaitForFundingReturnType> {
  const record = await channelOf(context, params.channelId);
  const depth = Math.min(params.confirmations ?? context.confirmations, context.confirmations);
  return context.funding.wait(record.id, params.timeoutMs ?? 120_000, params.signal, depth);
}
