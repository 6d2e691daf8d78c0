import type { TransactionReceipt } from "ethers";
import type { PiecepayContext } from "../context/types.js";
import { destinationsOf } from "../settlement.js";
import { channelOf } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface SettlementInParameters {
  channelId: string;
  /** A transaction's receipt, e.g. what `close` or `payout` returned. */
  receipt: TransactionReceipt;
}
export type SettlementInReturnType = { toUs: bigint; toPeer: bigint };
export type SettlementInErrorType = ChannelErrorType;

/**
 * What one transaction of channel `id` paid each side, from its `PaidOut` events (0 for a payout that found
 * nothing to pay).
 * @example const { toUs } = await settlementIn(context, { channelId, receipt: await payout(context, { channelId }) })
 */
export async function settlementIn(
  context: PiecepayContext,
  params: SettlementInParameters,
): Promise<SettlementInReturnType> {
  const record = await channelOf(context, params.channelId);
  const paidOut = [0n, 0n];
  const adjudicator = (context.adjudicator.target as string).toLowerCase();
  for (const log of params.receipt.logs) {
    if (log.address.toLowerCase() !== adjudicator) continue;
    const parsed = context.adjudicator.interface.parseLog(log);
    if (parsed?.name !== "PaidOut" || parsed.args.channelId.toLowerCase() !== record.id) continue;
    const i = destinationsOf(record).indexOf(parsed.args.destination.toLowerCase());
    if (i === 0 || i === 1) paidOut[i] += parsed.args.amount as bigint;
  }
  return { toUs: paidOut[record.myIndex], toPeer: paidOut[1 - record.myIndex] };
}
