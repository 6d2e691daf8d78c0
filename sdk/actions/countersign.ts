import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import type { PiecepayError } from "../errors.js";
import { signState } from "../signatures.js";
import { type CloseOffer, checkOffer } from "./internal/close-offer.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

export interface CountersignParameters {
  offer: CloseOffer;
  /** The least the payee accepts (default: all its vouchers promise): a payee paid ahead passes what it delivered. */
  minimum?: bigint;
}
export type CountersignReturnType = CloseOffer;
export type CountersignErrorType =
  | PiecepayError<"INVALID_CLOSE_OFFER" | "NO_SUPPORTED_STATE">
  | ChainErrorType
  | ChannelErrorType;

/**
 * Checks the other side's close offer (a split of the deposit paying us at least what we are owed, final, signed
 * by the other participant) and signs the same final state: what a side without gas sends back, so that the other
 * side submits the close (`close` with this countersignature as its offer). Records the channel as closing.
 * @throws PiecepayError INVALID_CLOSE_OFFER
 * @example const counter = await countersign(context, { offer, minimum }) // the payer then calls close with it
 */
export async function countersign(
  context: PiecepayContext,
  params: CountersignParameters,
): Promise<CountersignReturnType> {
  const ctx = await withChainChecked(context);
  const record = await checkOffer(ctx, params.offer, params);
  const signature = await signState(ctx.signer, record.id, params.offer.final);
  return { channelId: record.id, final: params.offer.final, signature };
}
