import type { TransactionReceipt } from "ethers";
import { stateHash } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import { onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { channelOf, isRevert, owedTo } from "./internal/channels.js";
import { type OnChainErrorType, onChain } from "./on-chain.js";
import { registration } from "./registration.js";
import { settlement } from "./settlement.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

export interface PayoutParameters {
  channelId: string;
}
export type PayoutReturnType = TransactionReceipt;
export type PayoutErrorType =
  | PiecepayError<"NOT_FINALIZED" | "NOTHING_OWED">
  | OnChainErrorType
  | SendErrorType
  | ChannelErrorType;

/**
 * Pays out a finalized channel's registered outcome to both sides (anyone may send it). When the other side
 * cannot be paid (an account whose code refuses ETH, a token that blocks it), pays our own allocation alone,
 * by index, so that nobody can keep our money in the channel by refusing theirs. Takes the channel's lock.
 * @throws PiecepayError NOT_FINALIZED, NOTHING_OWED, REGISTERED_STATE_UNKNOWN; ContractRevertError
 * @example await payout(context, { channelId })
 */
export function payout(context: PiecepayContext, params: PayoutParameters): Promise<PayoutReturnType> {
  return context.locks.exclusive(params.channelId, () => payoutInLock(context, params.channelId));
}

/** `payout` for a caller that holds the channel's lock. */
export async function payoutInLock(context: PiecepayContext, id: string): Promise<TransactionReceipt> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, id);
  if (!(await onChain(ctx, { channelId: record.id })).finalized) {
    throw new PiecepayError("NOT_FINALIZED", `channel ${id} has not finalized yet`);
  }
  const { variablePart, owed, heldEth } = await registration(ctx, { channelId: record.id });
  if (owed.length === 0) {
    // Paid out already (by the other side, or by our watcher while we waited for this lock): sending again would
    // present a registration that no longer matches (FingerprintMismatch). The payout's own receipt answers.
    const paidBy = (await settlement(ctx, { channelId: record.id })).txHashes.at(-1);
    const receipt = paidBy ? await ctx.provider().getTransactionReceipt(paidBy) : null;
    if (!receipt) throw new PiecepayError("NOTHING_OWED", `channel ${id} owes nothing: nothing to pay out`);
    await ctx.store.setPhase(record.id, "withdrawn");
    return receipt;
  }
  const hash = stateHash(record.id, variablePart);
  let receipt: TransactionReceipt;
  try {
    receipt = await sendTransaction(ctx, "transferAllAssets", () =>
      ctx.adjudicator.transferAllAssets(record.id, hash, owed, heldEth, onOurChain(ctx)),
    );
  } catch (error) {
    if (!isRevert(error) || owed.length !== 1 || owedTo(owed, record.myIndex) === 0n) throw error;
    ctx.log("payout-ours-alone", { channelId: record.id, why: String(error) });
    receipt = await sendTransaction(ctx, "transfer", () =>
      ctx.adjudicator.transfer(0n, record.id, hash, owed, heldEth, [BigInt(record.myIndex)], onOurChain(ctx)),
    );
  }
  await ctx.store.setPhase(record.id, "withdrawn");
  return receipt;
}
