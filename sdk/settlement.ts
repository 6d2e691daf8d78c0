// What a channel actually paid out, read from the adjudicator's `PaidOut` events: the only source a client may
// report as "paid" or "earned". The outcome a close or payout submitted says what we meant; a conclusion of a
// channel whose deposit a re-org removed pays nothing, and emits nothing.
import type { Adjudicator } from "../typechain-types/index.js";
import { toDestination } from "./channel.js";

/** What one channel paid out on chain, per participant, as of the newest block. */
export interface Settlement {
  /** Total paid to each participant of the channel, in the order of its `participants`. */
  paid: bigint[];
  /** The transactions that paid anything, oldest first. */
  txHashes: string[];
}

/**
 * Sums the `PaidOut` events of channel `id` for each of `participants` (in the chain as the RPC sees it now: a
 * payout that a re-org removed no longer counts).
 * @example const { paid: [toPayer, toPayee] } = await settlementOf(adjudicator, id, fixedPart.participants)
 */
export async function settlementOf(adjudicator: Adjudicator, id: string, participants: string[]): Promise<Settlement> {
  const destinations = participants.map((p) => toDestination(p).toLowerCase());
  const paid = participants.map(() => 0n);
  const txHashes: string[] = [];
  for (const event of await adjudicator.queryFilter(adjudicator.filters.PaidOut(id))) {
    const i = destinations.indexOf(event.args.destination.toLowerCase());
    if (i < 0) continue;
    paid[i] += event.args.amount;
    if (!txHashes.includes(event.transactionHash)) txHashes.push(event.transactionHash);
  }
  return { paid, txHashes };
}
