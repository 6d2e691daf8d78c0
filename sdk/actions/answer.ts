import type { TransactionReceipt } from "ethers";
import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import type { VariablePart } from "../types.js";
import { type ChallengeErrorType, challenge } from "./challenge.js";
import { type CheckpointErrorType, checkpoint } from "./checkpoint.js";
import { channelOf, PAYEE, supportedState } from "./internal/channels.js";

export interface AnswerParameters {
  channelId: string;
  /** The registered state (from `ChallengeRegistered`, or `registeredState`). */
  challenged: VariablePart;
}
export type AnswerReturnType = TransactionReceipt | undefined;
export type AnswerErrorType = ChallengeErrorType | CheckpointErrorType;

/**
 * Answers the challenge standing on a channel when we hold something better than what it registered. The payee
 * answers with a newer challenge carrying its largest voucher; the payer answers with a newer state both signed
 * (a checkpoint). Either replaces the registered state and keeps the deadline (ADR 0005): the channel finalizes
 * one challenge duration after the first challenge, whoever answers. Returns undefined when there is nothing to
 * answer or nothing better to answer with.
 * @example await answer(context, { channelId, challenged: await registeredState(context, { channelId }) })
 */
export async function answer(context: PiecepayContext, params: AnswerParameters): Promise<AnswerReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const base = await supportedState(ctx, record);
  if (record.myIndex === PAYEE) {
    const voucher = await ctx.store.getVoucher("received", record.id);
    if (!voucher) return undefined;
    const registeredPaid = params.challenged.outcome[0]?.allocations?.[PAYEE]?.amount ?? 0n;
    if (registeredPaid >= voucher.amount) return undefined; // it already pays us all we hold
    return challenge(ctx, { channelId: record.id });
  }
  if (base.variablePart.turnNum > params.challenged.turnNum) return checkpoint(ctx, { channelId: record.id });
  return undefined;
}
