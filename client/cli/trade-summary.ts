// The last word of `get --price`: per peer, what we paid it and what it paid us, read from the chain (each channel's
// payout events), and the totals. Vouchers are promises: a channel still open has paid nothing on chain yet, and its
// vouchers are shown beside, as vouchers.
import type { PiecepayClient } from "../../sdk/index.js";
import type { PaidLeecher } from "../session/leecher.js";
import type { AmountUnit } from "./amounts.js";
import { formatAmount, type Output } from "./output.js";

/** One peer's trade: pieces each way and, from the chain, the money each way; undefined where the RPC failed. */
export interface TradeOnChain {
  peer: string;
  bought: number;
  sold: number;
  /** What our channels to it paid it (payout events, `settlement(id).toPeer`). */
  paid: bigint | undefined;
  /** What its channels to us paid us (payout events, `settlement(id).toUs`). */
  earned: bigint | undefined;
  net: bigint | undefined;
  /** The largest vouchers each way (PaidLeecher.trades): what the channels still open may yet pay. */
  vouchersPaid: bigint;
  vouchersEarned: bigint;
}

/** Per peer, what the chain paid each way over every channel of this run, buying and selling. */
export async function tradesOnChain(leecher: PaidLeecher, client: PiecepayClient): Promise<TradeOnChain[]> {
  const chain = async (id: string | undefined, side: "toPeer" | "toUs") => {
    if (!id) return 0n;
    try {
      return (await client.settlement(id))[side];
    } catch {
      return undefined;
    }
  };
  const add = (a: bigint | undefined, b: bigint | undefined) =>
    a === undefined || b === undefined ? undefined : a + b;
  const byPeer = new Map<string, TradeOnChain>();
  for (const t of leecher.trades()) {
    byPeer.set(t.peer, {
      peer: t.peer,
      bought: t.bought,
      sold: t.sold,
      paid: 0n,
      earned: 0n,
      net: 0n,
      vouchersPaid: t.paid,
      vouchersEarned: t.earned,
    });
  }
  for (const s of leecher.stats()) {
    const trade = byPeer.get(s.peer);
    if (trade && s.channelId) trade.paid = add(trade.paid, await chain(s.channelId, "toPeer"));
  }
  for (const s of leecher.seller?.stats().peers ?? []) {
    const trade = byPeer.get(s.peer);
    if (trade && s.channelId) trade.earned = add(trade.earned, await chain(s.channelId, "toUs"));
  }
  for (const trade of byPeer.values()) {
    trade.net = trade.earned === undefined || trade.paid === undefined ? undefined : trade.earned - trade.paid;
  }
  return [...byPeer.values()];
}

/**
 * Prints one `trade` line per peer (a table for people) and the `summary` line with the totals. Returns the totals.
 */
export function printTrades(
  trades: TradeOnChain[],
  out: Output,
  unit: AmountUnit,
): { paid?: bigint; earned?: bigint; net?: bigint } {
  const sum = (pick: (t: TradeOnChain) => bigint | undefined) =>
    trades.reduce<bigint | undefined>(
      (a, t) => (a === undefined || pick(t) === undefined ? undefined : a + (pick(t) as bigint)),
      0n,
    );
  const money = (amount: bigint | undefined) =>
    amount === undefined ? "unknown (the RPC did not answer)" : formatAmount(amount, unit);
  for (const t of trades) out.result({ event: "trade", ...nullable(t) });
  const totals = { paid: sum((t) => t.paid), earned: sum((t) => t.earned), net: sum((t) => t.net) };
  out.table(
    ["peer", "bought", "paid", "sold", "earned", "net"],
    [
      ...trades.map((t) => [t.peer, String(t.bought), money(t.paid), String(t.sold), money(t.earned), money(t.net)]),
      [
        "total",
        String(trades.reduce((a, t) => a + t.bought, 0)),
        money(totals.paid),
        String(trades.reduce((a, t) => a + t.sold, 0)),
        money(totals.earned),
        money(totals.net),
      ],
    ],
  );
  out.result(
    { event: "summary", ...nullable(totals), peers: trades.length },
    `on chain: paid ${money(totals.paid)}, earned ${money(totals.earned)}, net ${money(totals.net)}`,
  );
  return totals;
}

/** Undefined (the RPC failed) as null in a --json line. */
function nullable<T extends object>(record: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === undefined ? null : v]));
}
