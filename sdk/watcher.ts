import type { PiecepayClient } from "./client.js";
import type { PiecepayContext } from "./context/types.js";
import { PiecepayError } from "./errors.js";
import type { ChannelRecord } from "./store/types.js";

/** Settings of a `ChannelWatcher`. */
export interface WatcherOptions {
  /** How often to poll for new blocks, in ms (default: the client's polling interval, else 4,000). */
  pollingIntervalMs?: number;
  /** Blocks a log must be buried under before the watcher reads it (default: the client's confirmations; >= 1). */
  confirmations?: number;
  /** The first block to scan on the very first run (the adjudicator's deployment block; default 0). */
  fromBlock?: bigint;
  /** The most blocks one `eth_getLogs` call asks for (default 2,000; public RPCs cap ranges). */
  maxBlockRange?: bigint;
  /**
   * Whether to pay out our channels once they finalize (default true). With false the watcher only answers
   * challenges, and a finalized channel waits for `client.payout`.
   */
  payOut?: boolean;
  /**
   * Defends a hub's ledgers and virtual channels: pass `defendHubChannel` from `piecepay/sdk/hub`. Without it the
   * watcher leaves them alone (the 2-party rules do not apply to them).
   */
  defendHub?: (context: PiecepayContext, record: ChannelRecord) => Promise<"answered" | undefined>;
  /** Receives what the watcher does and every error it survives. */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** What one scan did. */
export interface ScanReport {
  fromBlock: bigint;
  toBlock: bigint;
  /** Challenges on our channels that we answered with a newer state. */
  answered: string[];
  /** Our channels that finalized and that we paid out. */
  paidOut: string[];
}

const CURSOR = "adjudicator";

/**
 * Defends our channels: follows the adjudicator's `ChallengeRegistered` events, answers a challenge on one of our
 * channels when we hold a newer state, and pays out our channels once they finalize. Its progress (the next block
 * to scan, the events already handled) lives in the client's store, so after a restart it catches up on every
 * block it missed and handles no event twice. It spends gas only on channels in its store.
 * @example
 * const watcher = new ChannelWatcher(client, { confirmations: 2 })
 * watcher.start()
 * // ... later
 * await watcher.stop()
 */
export class ChannelWatcher {
  readonly #client: PiecepayClient;
  readonly #options: WatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(client: PiecepayClient, options: WatcherOptions = {}) {
    this.#client = client;
    this.#options = options;
  }

  /** Starts polling; errors of a scan are logged and the next poll tries again. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = async () => {
      if (this.#stopped) return;
      this.#running = this.scanOnce().catch((error) => this.#log("scan-failed", { error: String(error) }));
      await this.#running;
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#interval());
    };
    void tick();
  }

  /** Stops polling and waits for a scan in progress to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /**
   * Scans the blocks not yet scanned (up to the confirmation depth), answers challenges and pays out finalized
   * channels. Safe to call at any time, also concurrently with `start`.
   * @example const { answered } = await watcher.scanOnce()
   */
  async scanOnce(): Promise<ScanReport> {
    const client = this.#client;
    const store = client.store;
    const provider = client.adjudicator.runner?.provider;
    if (!provider) throw new PiecepayError("NO_PROVIDER", "the client's signer has no provider");
    const confirmations = BigInt(this.#options.confirmations ?? client.confirmations);
    if (confirmations < 1n) throw new PiecepayError("INVALID_CONFIRMATIONS", "confirmations must be at least 1");
    const head = BigInt(await provider.getBlockNumber());
    const toBlock = head - confirmations + 1n;
    const fromBlock = (await store.getCursor(CURSOR)) ?? this.#options.fromBlock ?? 0n;
    const report: ScanReport = { fromBlock, toBlock, answered: [], paidOut: [] };
    const range = this.#options.maxBlockRange ?? 2000n;

    // 1. The events since the last scan tell which of our channels were challenged (a restart catches up here).
    for (let start = fromBlock; start <= toBlock; start += range) {
      const end = start + range - 1n < toBlock ? start + range - 1n : toBlock;
      const logs = await client.adjudicator.queryFilter(
        client.adjudicator.filters.ChallengeRegistered(),
        Number(start),
        Number(end),
      );
      for (const log of logs) {
        const id = log.args.channelId.toLowerCase();
        if (!(await store.getChannel(id))) continue; // not ours: never spend gas on it
        if (!(await store.markEventHandled(`${log.transactionHash}:${log.index}`))) continue; // a replayed log
        this.#log("challenge-seen", {
          channelId: id,
          turnNum: log.args.turnNum,
          finalizesAt: log.args.finalizesAt,
        });
        // Decided on the phase stored now, in the same step as the write: a close or a payout that moved the
        // channel on while we read the logs is not undone.
        await store.updateChannel(id, (record) =>
          record.phase === "open" || record.phase === "closing" ? { ...record, phase: "challenged" } : undefined,
        );
      }
      await store.setCursor(CURSOR, end + 1n);
    }

    // 2. Every channel of ours is then checked on chain, every scan: a challenge we could not answer before (no
    // voucher yet) is answered as soon as we can, and nothing depends on having seen an event exactly once.
    // One channel's failure is logged and does not stop the others.
    for (const record of await store.listChannels()) {
      if (record.phase === "withdrawn" || record.phase === "proposed" || record.phase === "funding") continue;
      try {
        if (record.ledger !== undefined || record.virtual !== undefined) {
          const answered = await this.#options.defendHub?.(client.context, record);
          if (answered === "answered") {
            report.answered.push(record.id);
            this.#log("answered", { channelId: record.id });
          }
          continue;
        }
        const done = await client.defend(record.id, { payOut: this.#options.payOut ?? true });
        if (done === "answered") report.answered.push(record.id);
        if (done === "paid-out") report.paidOut.push(record.id);
        if (done) this.#log(done, { channelId: record.id });
      } catch (error) {
        this.#log("defend-failed", { channelId: record.id, error: String(error) });
      }
    }
    return report;
  }

  #interval(): number {
    return this.#options.pollingIntervalMs ?? 4000;
  }

  #log(event: string, fields: Record<string, unknown>): void {
    this.#options.log?.(event, fields);
  }
}
