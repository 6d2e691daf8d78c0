import type { PiecepayContext } from "../context/types.js";
import { destinationsOf, type Settlement, settlementOf } from "../settlement.js";
import { channelOf } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface SettlementParameters {
  channelId: string;
}
export type SettlementReturnType = Settlement & { toUs: bigint; toPeer: bigint };
/** The RPC's own error passes through when reading the logs fails. */
export type SettlementErrorType = ChannelErrorType;

/**
 * What channel `id` actually paid out on chain, from the adjudicator's `PaidOut` events in the chain as the RPC
 * sees it now: the only figures to report as paid or earned (a close that paid nothing emitted nothing).
 * @example const { toUs, toPeer } = await settlement(context, { channelId })
 */
export async function settlement(
  context: PiecepayContext,
  params: SettlementParameters,
): Promise<SettlementReturnType> {
  const record = await channelOf(context, params.channelId);
  const settled = await settlementOf(context.adjudicator, record.id, destinationsOf(record));
  return { ...settled, toUs: settled.paid[record.myIndex] ?? 0n, toPeer: settled.paid[1 - record.myIndex] ?? 0n };
}
