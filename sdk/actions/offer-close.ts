import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { signState } from "../signatures.js";
import { channelOf } from "./internal/channels.js";
import { type CloseOffer, finalState } from "./internal/close-offer.js";
import type { OnChainErrorType } from "./on-chain.js";
import { paid } from "./paid.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

export type { CloseOffer } from "./internal/close-offer.js";

export interface OfferCloseParameters {
  channelId: string;
  /**
   * What the payee gets (default: the vouchers' total): a payer that paid ahead offers what was actually delivered.
   * Never more than the vouchers say.
   */
  paid?: bigint;
}
export type OfferCloseReturnType = CloseOffer;
export type OfferCloseErrorType =
  | PiecepayError<"INVALID_CLOSE_AMOUNT" | "NO_SUPPORTED_STATE">
  | OnChainErrorType
  | ChainErrorType
  | ChannelErrorType;

/**
 * Signs the final state that splits the deposit by what was paid: send it to the other side, who calls `close`.
 * Records the channel as closing: a payee takes no voucher after it offered to close.
 * @throws PiecepayError INVALID_CLOSE_AMOUNT, NO_SUPPORTED_STATE, WRONG_CHAIN
 * @example const offer = await offerClose(context, { channelId })
 */
export async function offerClose(
  context: PiecepayContext,
  params: OfferCloseParameters,
): Promise<OfferCloseReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const vouchers = await paid(ctx, { channelId: record.id });
  const amount = params.paid ?? vouchers;
  // A payer may settle for less than its vouchers (credit paid ahead and not used), never for more; a payee
  // may settle for less than it holds, never claim more than it holds.
  if (amount < 0n || amount > vouchers) {
    throw new PiecepayError("INVALID_CLOSE_AMOUNT", `cannot close at ${amount}: the vouchers say ${vouchers}`);
  }
  const final = await finalState(ctx, record, amount);
  const signature = await signState(ctx.signer, record.id, final);
  await ctx.store.updateChannel(record.id, (now) => ({
    ...now,
    phase: "closing",
    finalStates: [...(now.finalStates ?? []), final],
  }));
  return { channelId: record.id, final, signature };
}
