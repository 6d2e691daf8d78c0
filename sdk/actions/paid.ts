import type { PiecepayContext } from "../context/types.js";
import { channelOf, PAYER } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface PaidParameters {
  channelId: string;
}
export type PaidReturnType = bigint;
export type PaidErrorType = ChannelErrorType;

/**
 * What the channel has paid so far: the largest voucher we sent (payer) or received (payee).
 * @example await paid(context, { channelId }) // 3_000n
 */
export async function paid(context: PiecepayContext, params: PaidParameters): Promise<PaidReturnType> {
  const record = await channelOf(context, params.channelId);
  return (await context.store.getVoucher(record.myIndex === PAYER ? "sent" : "received", record.id))?.amount ?? 0n;
}
