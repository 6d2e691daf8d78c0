import type { PiecepayContext } from "../context/types.js";
import { PiecepayError, type VoucherError } from "../errors.js";
import { type VerifiedVoucher, type Voucher, verifyVoucher } from "../voucher.js";
import { channelOf, PAYER, payeeIndex, voucherBound } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface ReceiveParameters {
  voucher: Voucher;
}
export type ReceiveReturnType = VerifiedVoucher;
export type ReceiveErrorType = VoucherError | PiecepayError<"NOT_PAYEE" | "CHANNEL_NOT_OPEN"> | ChannelErrorType;

/**
 * The payee's receipt of a voucher: checks it against the channel and the deposit, and stores it before it
 * resolves (on disk, with a durable store), so that a payment counted is never forgotten. `delta` is what it adds
 * (0 for a replay). A virtual channel's payee receives the same way, within `maxVirtualVoucher` of its guarantee.
 * Receipts on one channel run one after another, in the order of the calls: two vouchers
 * arriving back to back are each checked against the one stored before them, and each wei is credited once.
 * @throws VoucherError; PiecepayError UNKNOWN_CHANNEL, NOT_PAYEE, CHANNEL_NOT_OPEN
 * @example const { delta } = await receive(context, { voucher })
 */
export function receive(context: PiecepayContext, params: ReceiveParameters): Promise<ReceiveReturnType> {
  return context.locks.receiving(params.voucher.channelId, () => receiveNow(context, params.voucher));
}

async function receiveNow(context: PiecepayContext, voucher: Voucher): Promise<VerifiedVoucher> {
  const record = await channelOf(context, voucher.channelId);
  if (record.myIndex !== payeeIndex(record))
    throw new PiecepayError("NOT_PAYEE", `we are not the payee of ${record.id}`);
  // Not before the channel is funded, not once it is finalized, and not after we offered to close: the payer
  // could then conclude with our offer and the new voucher would count for nothing.
  if (record.phase !== "open" && record.phase !== "challenged") {
    throw new PiecepayError(
      "CHANNEL_NOT_OPEN",
      `channel ${record.id} is ${record.phase}: a voucher counts for nothing`,
    );
  }
  const best = (await context.store.getVoucher("received", record.id))?.amount ?? 0n;
  const verified = verifyVoucher(voucher, {
    channelId: record.id,
    payer: record.fixedPart.participants[PAYER],
    deposited: voucherBound(record),
    best,
  });
  if (verified.delta === 0n) return verified;
  // Credit against what the store held when it took the voucher (another process may have stored one since).
  const { kept, previous } = await context.store.putVoucher("received", voucher);
  return { voucher, delta: kept ? voucher.amount - previous : 0n };
}
