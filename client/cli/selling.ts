// `get --price`: the seller role of a downloader around its download, as `seed` runs its own. While it sells, a
// watcher answers stale challenges on our channels and the open channels of earlier runs are enforced (`resume`);
// when it stops, its buyers are told `bye` and close at what we delivered, and whatever is still open on chain is
// named, with what enforces it.
import { ChannelWatcher, type PiecepayClient } from "../../sdk/index.js";
import type { PaidSeeder } from "../session/seeder.js";
import type { AmountUnit } from "./amounts.js";
import { formatAmount, type Output, short } from "./output.js";
import { reportSeller } from "./seller-log.js";
import { watcherLine } from "./watcher-log.js";

/** How long buyers told `bye` get to close before we leave their channels to enforcement. */
export const FAREWELL_MS = 30_000;

/** A sell channel still open on chain when we stopped: what it holds of ours is a voucher, not yet a payment. */
export interface LeftOpen {
  channelId: string;
  peer: string;
  /** The largest voucher we hold on it. */
  vouchers: bigint;
  /** open, challenged (until finalizesAt), or finalized but not yet paid out; unknown when the RPC did not answer. */
  status: "open" | "challenged" | "finalized" | "unknown";
  finalizesAt?: bigint;
}

export interface Selling {
  /**
   * Says `bye` to each buyer with a funded open channel, waits up to FAREWELL_MS for their closes, stops the
   * watcher, then prints each channel left open and returns them. Once only: later calls return the same.
   */
  stop(): Promise<LeftOpen[]>;
}

/**
 * Reports `seller`'s events, enforces the open channels of earlier runs, and watches our channels on chain. Call it
 * once the seller hosts the torrent (after `leecher.attach`).
 * @example const selling = startSelling(leecher.seller, client, out, unit); ...; await selling.stop()
 */
export function startSelling(seller: PaidSeeder, client: PiecepayClient, out: Output, unit: AmountUnit): Selling {
  reportSeller(seller, out, unit);
  // Buyers that left while we were down: their latest vouchers are enforced after --enforce-after.
  seller.resume().catch((error) => seller.emit("warning", error));
  const watcher = new ChannelWatcher(client, {
    pollingIntervalMs: 2_000,
    log: (event, fields) => out.note(watcherLine(event, fields)),
  });
  watcher.start();
  let stopped: Promise<LeftOpen[]> | undefined;
  const stop = async (): Promise<LeftOpen[]> => {
    // The buyers connected now that paid us something: farewell tells them to close (those gone are enforced).
    const paying = [...seller.peers].filter((p) => {
      const stats = p.stats();
      return stats.channelId && !stats.closed && stats.paid > 0n;
    });
    if (paying.length > 0) {
      out.note(
        `stopping sales: ${paying.length} buyer(s) told to close at what we delivered; waiting up to ${FAREWELL_MS / 1000} s (Ctrl-C again leaves now)`,
      );
    }
    await seller.farewell(FAREWELL_MS);
    seller.destroy();
    await watcher.stop();
    const left = await leftOpen(seller, client);
    for (const channel of left) out.result({ event: "left-open", ...channel }, leftOpenText(channel, unit));
    return left;
  };
  return {
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

/** Our sell channels that hold a voucher and are not paid out on chain. */
async function leftOpen(seller: PaidSeeder, client: PiecepayClient): Promise<LeftOpen[]> {
  const left: LeftOpen[] = [];
  for (const p of seller.stats().peers) {
    if (!p.channelId || p.paid === 0n) continue;
    const base = { channelId: p.channelId, peer: p.peer, vouchers: p.paid };
    try {
      const chain = await client.onChain(p.channelId);
      if (chain.finalized && chain.holdings === 0n) continue; // closed and paid out
      const status = chain.challenged ? "challenged" : chain.finalized ? "finalized" : "open";
      left.push({ ...base, status, ...(chain.challenged ? { finalizesAt: chain.finalizesAt } : {}) });
    } catch {
      left.push({ ...base, status: "unknown" });
    }
  }
  return left;
}

/** One line for people: what is left and what enforces it (what `withdraw` does with a payee's channel). */
function leftOpenText(c: LeftOpen, unit: AmountUnit): string {
  const head = `left open: channel ${short(c.channelId)} of ${c.peer}, vouchers ${formatAmount(c.vouchers, unit)}`;
  switch (c.status) {
    case "challenged":
      return `${head}, challenged until ${new Date(Number(c.finalizesAt ?? 0n) * 1000).toISOString()}: run \`piecepay withdraw\` after that to be paid`;
    case "finalized":
      return `${head}, finalized: \`piecepay withdraw\` pays it out`;
    default:
      return `${head}${c.status === "unknown" ? " (the RPC did not answer)" : ""}: \`piecepay withdraw --force\` enforces its voucher (a challenge, the channel's challenge duration, a payout); so does a later \`seed\` or \`get --price\` with this account and --data-dir that runs that long after --enforce-after`;
  }
}
