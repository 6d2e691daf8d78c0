// One poll for every channel a payee waits to see funded. Each waiting channel used to poll on its own (a chain id,
// the head, its holdings and its status every interval), so every unfunded proposal a peer made cost the payee
// RPC requests until it timed out: 200 of them made ~440 requests/s. Here one loop looks at all of them per tick
// with a constant number of requests: the chain id, the head, and one `eth_getLogs` of the adjudicator's
// `HoldingsUpdated` for the pending ids since the last tick. Only a channel that a log names (a deposit, which
// costs its payer gas) or one seen for the first time while the loop was idle gets a look of its own.
import { PiecepayError } from "./errors.js";
import type { ChannelRecord } from "./store/types.js";

/** What the poller asks of the chain (`to` is the newest block that counts for a channel, at its depth). */
export interface FundingChain {
  /** Checks the chain id; resolves with the newest block. */
  head(): Promise<number>;
  /** The ids among `ids` that a `HoldingsUpdated` log names in blocks `from..to`. */
  updatedIn(ids: string[], from: number, to: number): Promise<Set<string>>;
  /** One full look at a channel as of block `to`: records it open once funded; throws when it cannot be. */
  look(id: string, to: number): Promise<{ record: ChannelRecord; held: bigint; wanted: bigint }>;
  log(event: string, fields: Record<string, unknown>): void;
}

interface Waiting {
  deadline: number;
  /** Confirmations the deposit needs before it counts (1: as soon as it is mined). */
  depth: number;
  /** The first block whose logs still need scanning; undefined until a first look of its own. */
  from: number | undefined;
  held: bigint;
  wanted: bigint;
  resolve(record: ChannelRecord): void;
  reject(error: unknown): void;
}

/**
 * Waits for many channels' funding with one loop: a regular look every `intervalMs` while any channel waits, and
 * at most one early look per interval when asked (`hurry`: a payer's voucher says its deposit is mined).
 */
export class FundingPoller {
  readonly #chain: FundingChain;
  readonly #intervalMs: number;
  readonly #waiting = new Map<string, Waiting>();
  #timer: NodeJS.Timeout | undefined;
  #looking = false;
  #hurried = false;
  #lastLook = 0;
  #lastEarlyLook = Number.NEGATIVE_INFINITY;
  /** The newest block scanned while the loop kept running; undefined once it stopped (nothing waited). */
  #scannedTo: number | undefined;

  constructor(chain: FundingChain, intervalMs: number) {
    this.#chain = chain;
    this.#intervalMs = intervalMs;
  }

  /** How many channels are waiting. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Resolves once channel `id` is funded with `depth` confirmations; rejects with FUNDING_ABORTED, or
   * FUNDING_TIMEOUT at the first look that answers after `timeoutMs` (never during an RPC outage).
   */
  wait(id: string, timeoutMs: number, signal?: AbortSignal, depth = 1): Promise<ChannelRecord> {
    if (this.#waiting.has(id)) {
      return Promise.reject(new PiecepayError("FUNDING_ALREADY_AWAITED", `channel ${id} is already awaited`));
    }
    if (signal?.aborted) return Promise.reject(aborted(id));
    return new Promise((resolve, reject) => {
      const stop = () => this.#settle(id, () => reject(aborted(id)));
      signal?.addEventListener("abort", stop, { once: true });
      const done = () => signal?.removeEventListener("abort", stop);
      this.#waiting.set(id, {
        deadline: Date.now() + timeoutMs,
        depth: Math.max(1, depth),
        from: this.#scannedTo === undefined ? undefined : this.#scannedTo + 1,
        held: 0n,
        wanted: 0n,
        resolve: (record) => {
          done();
          resolve(record);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      this.#schedule();
    });
  }

  /** Looks now rather than at the next tick, unless an early look already ran within the last interval. */
  hurry(): void {
    if (this.#waiting.size === 0) return;
    if (this.#looking) {
      this.#hurried = true;
      return;
    }
    if (Date.now() - this.#lastEarlyLook < this.#intervalMs) return;
    this.#lastEarlyLook = Date.now();
    this.#start(0);
  }

  #settle(id: string, how: () => void): void {
    if (!this.#waiting.delete(id)) return;
    how();
    if (this.#waiting.size === 0) this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#scannedTo = undefined;
  }

  /** The next regular look, one interval after the last. */
  #schedule(): void {
    if (this.#timer || this.#looking || this.#waiting.size === 0) return;
    this.#start(Math.max(0, this.#lastLook + this.#intervalMs - Date.now()));
  }

  #start(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, delayMs);
  }

  async #tick(): Promise<void> {
    this.#looking = true;
    this.#lastLook = Date.now();
    let answered = false;
    try {
      await this.#lookAtAll();
      answered = true;
    } catch (error) {
      // The RPC failed: every channel keeps waiting, and the next tick tries again.
      this.#chain.log("funding-poll-failed", { error: String(error) });
    } finally {
      this.#looking = false;
      // A deadline passes only on the chain's word: a wait does not expire during an RPC outage, when a deposit
      // sent meanwhile could not be seen (its payer's channel would be forgotten and its deposit left locked).
      if (answered) this.#expire();
      if (this.#hurried && this.#waiting.size > 0 && Date.now() - this.#lastEarlyLook >= this.#intervalMs) {
        this.#hurried = false;
        this.#lastEarlyLook = Date.now();
        this.#start(0);
      } else this.#schedule();
    }
  }

  async #lookAtAll(): Promise<void> {
    const head = await this.#chain.head();
    // Each channel counts blocks up to its own depth; a log above a channel's depth gets it looked at, and is
    // scanned again at the next tick (its `from` stays at or below the log) until the depth reaches it.
    const toOf = (w: Waiting) => Math.max(0, head - w.depth + 1);
    const fresh: string[] = [];
    const scanned: string[] = [];
    for (const [id, w] of this.#waiting) (w.from === undefined ? fresh : scanned).push(id);
    const due = new Set(fresh);
    if (scanned.length > 0) {
      const from = Math.min(...scanned.map((id) => this.#waiting.get(id)?.from ?? head));
      const to = Math.max(...scanned.map((id) => toOf(this.#waiting.get(id) as Waiting)));
      if (from <= to) for (const id of await this.#chain.updatedIn(scanned, from, to)) due.add(id);
    }
    const looks = [...due].flatMap((id) => {
      const w = this.#waiting.get(id);
      return w ? [this.#lookAt(id, toOf(w))] : []; // settled meanwhile (aborted): nothing to look at
    });
    await Promise.all(looks);
    for (const w of this.#waiting.values()) if (w.from === undefined || w.from <= toOf(w)) w.from = toOf(w) + 1;
    this.#scannedTo = head;
  }

  async #lookAt(id: string, to: number): Promise<void> {
    let look: Awaited<ReturnType<FundingChain["look"]>>;
    try {
      look = await this.#chain.look(id, to);
    } catch (error) {
      // Our own refusal (challenged before it opened, unknown) ends the wait; an RPC failure waits for the next tick.
      if (!(error instanceof PiecepayError)) throw error;
      const w = this.#waiting.get(id);
      if (w) this.#settle(id, () => w.reject(error));
      return;
    }
    const w = this.#waiting.get(id);
    if (!w) return;
    w.held = look.held;
    w.wanted = look.wanted;
    if (look.held >= look.wanted) this.#settle(id, () => w.resolve(look.record));
  }

  #expire(): void {
    const now = Date.now();
    for (const [id, w] of this.#waiting) {
      if (now <= w.deadline) continue;
      this.#settle(id, () =>
        w.reject(new PiecepayError("FUNDING_TIMEOUT", `channel ${id} holds ${w.held} of the ${w.wanted} promised`)),
      );
    }
  }
}

function aborted(id: string): PiecepayError {
  return new PiecepayError("FUNDING_ABORTED", `stopped waiting for channel ${id} to be funded`);
}
