import type { PiecepayContext } from "../context/types.js";
import { PiecepayError, type VoucherError } from "../errors.js";
import { createVoucher, type Voucher } from "../voucher.js";
import { channelOf, PAYER, voucherBound } from "./internal/channels.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

export interface PayParameters {
  channelId: string;
  /** What this payment adds, in wei of the channel's asset. */
  amount: bigint;
}
export type PayReturnType = Voucher;
export type PayErrorType =
  | VoucherError
  | PiecepayError<"NOT_PAYER" | "CHANNEL_NOT_OPEN">
  | ChainErrorType
  | ChannelErrorType;

/**
 * Pays `amount` more to the channel's payee: signs a voucher for the new cumulative total, stores it, returns it
 * (send it to the payee). On a virtual channel through a hub the same, within what its guarantee pays once the hub's
 * fee is taken (`maxVirtualVoucher`). Payments on one channel run one after another, each building on the voucher stored
 * before it. No round trip: the chain check is the last one seen (refreshed in the background when older than
 * `chainCheckIntervalMs`).
 * @throws VoucherError VOUCHER_EXCEEDS_DEPOSIT; PiecepayError UNKNOWN_CHANNEL, NOT_PAYER, CHANNEL_NOT_OPEN, WRONG_CHAIN
 * @example const voucher = await pay(context, { channelId, amount: pricePerPiece })
 */
export function pay(context: PiecepayContext, params: PayParameters): Promise<PayReturnType> {
  return context.locks.paying(params.channelId, () => payNow(context, params));
}

async function payNow(context: PiecepayContext, { channelId: id, amount }: PayParameters): Promise<Voucher> {
  const record = await channelOf(context, id);
  if (record.myIndex !== PAYER) throw new PiecepayError("NOT_PAYER", `we are not the payer of channel ${id}`);
  if (record.phase !== "open") throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} is ${record.phase}`);
  // No round trip per voucher: a voucher is bound to our chain by its channel id, so it is worth nothing on
  // another. A dead RPC must not stop payments (and drop the seeder); a chain change is caught by the checks of
  // every other action, by the provider after an outage, and here once a check is older than the interval.
  context.chain.assertRecently();
  const previous = (await context.store.getVoucher("sent", id))?.amount ?? 0n;
  const voucher = await createVoucher(
    context.signer,
    { channelId: record.id, deposited: voucherBound(record), previous },
    previous + amount,
  );
  await context.store.putVoucher("sent", voucher);
  return voucher;
}
