// What a channel actually paid out, read from the adjudicator's `PaidOut` events: the only source a client may
// report as "paid" or "earned". The outcome a close or payout submitted says what we meant; a conclusion of a
// channel whose deposit a re-org removed pays nothing, and emits nothing.
import type { Adjudicator } from "../typechain-types/index.js";
import { toDestination } from "./channel.js";
import type { ChannelRecord } from "./store/types.js";

/** What one channel paid out on chain, per side, as of the newest block. */
export interface Settlement {
  /** Total paid to each side's destination, in the order of the channel's `participants`. */
  paid: bigint[];
  /** The transactions that paid anything, oldest first. */
  txHashes: string[];
}

/**
 * Sums the `PaidOut` events of channel `id` for each of `accounts` (addresses, or 32-byte destinations such as
 * `destinationsOf(record)`), in the chain as the RPC sees it now: a payout that a re-org removed no longer counts.
 * @example const { paid: [toPayer, toPayee] } = await settlementOf(adjudicator, id, destinationsOf(record))
 */
export async function settlementOf(adjudicator: Adjudicator, id: string, accounts: string[]): Promise<Settlement> {
  const destinations = accounts.map((a) => (a.length === 66 ? a : toDestination(a)).toLowerCase());
  const paid = accounts.map(() => 0n);
  const txHashes: string[] = [];
  for (const event of await adjudicator.queryFilter(adjudicator.filters.PaidOut(id))) {
    const i = destinations.indexOf(event.args.destination.toLowerCase());
    if (i < 0) continue;
    paid[i] += event.args.amount;
    if (!txHashes.includes(event.transactionHash)) txHashes.push(event.transactionHash);
  }
  return { paid, txHashes };
}

/**
 * Where channel `record` pays each side (32-byte destinations, lowercase, in participant order): the funding
 * state's, or the participants themselves in a record written before wallets and session keys were apart.
 * @example const [payerWallet, payeeWallet] = destinationsOf(record)
 */
export function destinationsOf(record: ChannelRecord): string[] {
  return record.destinations ?? record.fixedPart.participants.map((p) => toDestination(p));
}
