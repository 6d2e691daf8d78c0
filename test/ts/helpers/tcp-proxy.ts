// A TCP proxy for fault tests: between the clients and a node (the RPC) or between two peers. It relays bytes as
// they come, counts them, can slow the answers down to a given rate, and can cut the link for N seconds:
// - "reset": every open connection is reset (RST) and every new one is reset at once, as a crashed load balancer
//   or a restarted node does ("read ECONNRESET");
// - "drop": every open connection is silenced and new ones are accepted and never answered, as a dead route or an
//   overloaded RPC does (the client sees nothing until its own timeout).
// A cut can start at a chosen moment: when a request whose bytes contain a pattern passes (e.g. the n-th
// eth_sendRawTransaction), before or after that request is forwarded (lost on its way, or sent and its answer lost).
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export type CutMode = "reset" | "drop";

/** A cut that starts when the n-th request containing `pattern` passes through the proxy. */
export interface CutTrigger {
  pattern: string;
  /** Which occurrence starts the cut (1: the first). */
  nth?: number;
  ms: number;
  mode: CutMode;
  /** Forward the triggering request to the node before cutting (its answer is lost), or cut it too. */
  forwardFirst: boolean;
}

/** One cut that happened: when it started and ended (ms since the epoch) and what triggered it. */
export interface CutRecord {
  mode: CutMode;
  startedAt: number;
  endedAt?: number;
  trigger?: string;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
  silenced: boolean;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #target: { host: string; port: number };
  readonly #bytesPerSecond: number | undefined;
  #mode: CutMode | undefined;
  #triggers: (CutTrigger & { seen: number; fired: boolean })[] = [];
  #timers = new Set<NodeJS.Timeout>();
  /** Bytes relayed from the target to the clients. */
  downstreamBytes = 0;
  /** Every cut so far, in order. */
  readonly cuts: CutRecord[] = [];
  port = 0;

  private constructor(target: { host: string; port: number }, bytesPerSecond?: number) {
    this.#target = target;
    this.#bytesPerSecond = bytesPerSecond;
    this.#server = createServer((client) => this.#accept(client));
  }

  /**
   * Starts a proxy on a free loopback port in front of `target` ("http://127.0.0.1:8545" or "127.0.0.1:6881");
   * `bytesPerSecond` slows what the target sends back (e.g. a seeder's pieces) to about that rate.
   */
  static async start(target: string, options: { bytesPerSecond?: number } = {}): Promise<TcpProxy> {
    const { hostname, port } = new URL(target.includes("://") ? target : `tcp://${target}`);
    const proxy = new TcpProxy({ host: hostname, port: Number(port) }, options.bytesPerSecond);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get cutting(): boolean {
    return this.#mode !== undefined;
  }

  /** Cuts the link now for `ms` (or until `heal()`); resolves when the cut ends. */
  cut(ms: number, mode: CutMode, trigger?: string): Promise<void> {
    const record: CutRecord = { mode, startedAt: Date.now(), ...(trigger ? { trigger } : {}) };
    this.cuts.push(record);
    this.#mode = mode;
    for (const pair of this.#pairs) this.#cutPair(pair, mode);
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#timers.delete(timer);
        this.#heal.delete(end);
        this.#mode = undefined;
        record.endedAt = Date.now();
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#timers.add(timer);
      this.#heal.add(end);
    });
  }

  /** Ends the cuts in progress now (a test that waits for something to happen during a cut, then restores). */
  heal(): void {
    for (const end of [...this.#heal]) end();
  }
  readonly #heal = new Set<() => void>();

  /** Arms a cut that starts when the `nth` request containing `pattern` passes. */
  cutOn(trigger: CutTrigger): void {
    this.#triggers.push({ ...trigger, seen: 0, fired: false });
  }

  /** Resolves once every armed trigger fired and its cut ended (rejects after `ms`). */
  async allCutsDone(ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#triggers.some((t) => !t.fired) || this.cutting) {
      if (Date.now() > deadline) throw new Error("the armed cuts did not all happen");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on("error", () => undefined);
    const pair: Pair = { client, silenced: false };
    this.#pairs.add(pair);
    client.on("close", () => {
      this.#pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (this.#mode) {
      this.#cutPair(pair, this.#mode);
      return;
    }
    const upstream = tcpConnect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => {
      if (!pair.silenced) client.end();
    });
    client.on("data", (chunk: Buffer) => {
      if (pair.silenced) return;
      const trigger = this.#matching(chunk);
      if (trigger && !trigger.forwardFirst) {
        void this.cut(trigger.ms, trigger.mode, trigger.pattern);
        return;
      }
      upstream.write(chunk);
      if (trigger) void this.cut(trigger.ms, trigger.mode, trigger.pattern);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (pair.silenced) return;
      this.downstreamBytes += chunk.length;
      client.write(chunk);
      if (this.#bytesPerSecond !== undefined) {
        // Hold further bytes back for as long as this chunk takes at the given rate.
        upstream.pause();
        const timer = setTimeout(
          () => {
            this.#timers.delete(timer);
            upstream.resume();
          },
          (chunk.length / this.#bytesPerSecond) * 1000,
        );
        this.#timers.add(timer);
      }
    });
  }

  /** The armed trigger this request fires, if any. */
  #matching(chunk: Buffer): (CutTrigger & { seen: number; fired: boolean }) | undefined {
    const text = chunk.toString("latin1");
    let firing: (CutTrigger & { seen: number; fired: boolean }) | undefined;
    // Every armed trigger counts every request that matches, whichever fires.
    for (const trigger of this.#triggers) {
      if (trigger.fired || !text.includes(trigger.pattern)) continue;
      trigger.seen++;
      if (firing === undefined && trigger.seen >= (trigger.nth ?? 1)) {
        trigger.fired = true;
        firing = trigger;
      }
    }
    return firing;
  }

  #cutPair(pair: Pair, mode: CutMode): void {
    if (mode === "reset") {
      pair.upstream?.destroy();
      pair.client.resetAndDestroy();
      return;
    }
    // Silenced for good: nothing more is relayed either way; the client gives up on it at its own timeout.
    pair.silenced = true;
    pair.upstream?.destroy();
  }
}
