// A JSON-RPC 2.0 client over the platform's WebSocket (browsers, and Node 22 and later), for talking to a hub.
// Every call times out; an answer that is not for a pending call is ignored (a hostile hub cannot resolve a call
// with another's answer); the hub's notifications go to `onNotification`.
import { PiecepayError } from "../errors.js";
import { encodeHubJson, HUB_ERROR_REASONS, HubError, type HubErrorReason } from "./protocol.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket to a hub.
 * @example const rpc = await HubRpcClient.connect("ws://127.0.0.1:8600"); const info = await rpc.call("info", {})
 */
export class HubRpcClient {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed?: Error;
  /** Called with each notification the hub pushes. */
  onNotification: (method: string, params: unknown) => void = () => {};

  private constructor(
    socket: WebSocket,
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", (event) =>
      this.#fail(
        new PiecepayError("RPC_UNAVAILABLE", `hub ${url} closed the connection (${event.code} ${event.reason})`),
      ),
    );
  }

  /**
   * Opens a connection; rejects with RPC_UNAVAILABLE when the hub cannot be reached within `timeoutMs`.
   * @example const rpc = await HubRpcClient.connect(url, { timeoutMs: 5_000 })
   */
  static connect(url: string, options: { timeoutMs?: number } = {}): Promise<HubRpcClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new PiecepayError("RPC_UNAVAILABLE", `hub ${url} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(new HubRpcClient(socket, url, timeoutMs));
      });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new PiecepayError("RPC_UNAVAILABLE", `cannot connect to hub ${url}`));
      });
    });
  }

  /**
   * Calls `method`; resolves to its result, rejects with the hub's HubError or RPC_UNAVAILABLE.
   * @example const { feeBps } = (await rpc.call("info", {})) as { feeBps: number }
   */
  call(method: string, params: unknown): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new PiecepayError("RPC_UNAVAILABLE", `hub ${this.url} did not answer ${method} within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.send(encodeHubJson({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /**
   * Closes the connection; pending calls reject.
   * @example rpc.close()
   */
  close(): void {
    this.#fail(new PiecepayError("RPC_UNAVAILABLE", `connection to hub ${this.url} closed by us`));
    this.#socket.close();
  }

  #receive(data: unknown): void {
    let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    if (message === null || typeof message !== "object") return;
    if (message.id === undefined && typeof message.method === "string") {
      this.onNotification(message.method, message.params);
      return;
    }
    const pending = typeof message.id === "number" ? this.#pending.get(message.id) : undefined;
    if (pending === undefined) return;
    this.#pending.delete(message.id as number);
    clearTimeout(pending.timer);
    if (message.error !== undefined) pending.reject(toHubError(message.error));
    else pending.resolve(message.result);
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }
}

function toHubError(error: unknown): HubError {
  const reason = (error as { data?: { reason?: unknown } })?.data?.reason;
  const message = (error as { message?: unknown })?.message;
  const known = (HUB_ERROR_REASONS as readonly unknown[]).includes(reason) ? (reason as HubErrorReason) : "REFUSED";
  return new HubError(known, typeof message === "string" ? message.slice(0, 300) : "no reason given");
}
