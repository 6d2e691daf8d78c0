// Riding out RPC outages. A public RPC resets connections, drops requests without a word and goes away for
// seconds; every chain call the SDK makes goes through one provider, so that is where the outage is handled, once:
// each request gets a timeout of its own (ethers' default is 300 s, which turned a silently dropped request into a
// five-minute hang) and is retried with exponential backoff until the RPC answers or our patience runs out. Only
// the transport is retried: an answer from the node, even an error (a revert, "insufficient funds"), is final.
//
// A transaction whose send outcome is unknown (the connection reset after the request left) is looked up on chain
// by its hash before it is sent again, and an "already known" / "nonce too low" answer to a resend counts as sent
// when the chain holds it: the same signed bytes can never be mined twice, so a retry never makes a second deposit.
//
// The chain id is checked again after every outage (the node behind a URL may have been swapped) and every
// `chainCheckIntervalMs`, rather than before every call: a chain change is caught there, at no round trip per call.
import {
  type JsonRpcApiProviderOptions,
  type JsonRpcError,
  type JsonRpcPayload,
  JsonRpcProvider,
  type JsonRpcResult,
  keccak256,
  Network,
} from "ethers";
import { PiecepayError, WrongChainError } from "./errors.js";

/** How a `RetryingJsonRpcProvider` treats outages. */
export interface RpcRetryOptions {
  /** One request's timeout, in ms (default 10,000): a request the RPC silently dropped is sent again after it. */
  requestTimeoutMs?: number;
  /** How long one call keeps retrying through an outage before it fails with RPC_UNAVAILABLE (default 120,000 ms). */
  patienceMs?: number;
  /** The first pause between attempts (default 250 ms); it doubles with each attempt, up to `maxBackoffMs`. */
  firstBackoffMs?: number;
  /** The longest pause between attempts (default 4,000 ms). */
  maxBackoffMs?: number;
  /** How often the chain id is checked again while the RPC answers (default 60,000 ms); always after an outage. */
  chainCheckIntervalMs?: number;
  /** Told when calls start failing, on each retry, when the RPC answers again and when a call gives up. */
  onOutage?: (event: RpcOutageEvent) => void;
}

/** What a `RetryingJsonRpcProvider` reports about an outage. */
export type RpcOutageEvent =
  | {
      kind: "retrying";
      /** The JSON-RPC method(s) of the failing call. */
      method: string;
      attempt: number;
      /** Why the last attempt failed, in a few words (connection reset, no answer within the timeout, HTTP 502). */
      reason: string;
      /** Since the first failure of the current outage. */
      downForMs: number;
      retryInMs: number;
      patienceMs: number;
    }
  | { kind: "recovered"; method: string; downForMs: number }
  | { kind: "gave-up"; method: string; reason: string; downForMs: number };

/** A failed attempt that another attempt may fix: the RPC did not answer, or answered at the HTTP level only. */
class TransientRpcFailure extends Error {}

/**
 * Calls `attempt` until it resolves or `patienceMs` has passed, pausing with exponential backoff between attempts;
 * only `TransientRpcFailure`s are retried. `onRetry` hears of each failure before the pause.
 * @throws PiecepayError RPC_UNAVAILABLE once out of patience
 */
async function withBackoff<T>(
  attempt: (n: number) => Promise<T>,
  options: Required<Pick<RpcRetryOptions, "patienceMs" | "firstBackoffMs" | "maxBackoffMs">> & {
    what: string;
    onRetry: (n: number, reason: string, retryInMs: number) => void;
    /** Stops retrying (e.g. the provider was destroyed): the last failure is final. */
    stopped: () => boolean;
  },
): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof TransientRpcFailure)) throw error;
      if (options.stopped()) {
        throw new PiecepayError("RPC_UNAVAILABLE", `stopped retrying ${options.what}: the provider was destroyed`, {
          cause: error,
        });
      }
      const pause = Math.min(options.maxBackoffMs, options.firstBackoffMs * 2 ** (n - 1));
      if (Date.now() - started + pause > options.patienceMs) {
        throw new PiecepayError(
          "RPC_UNAVAILABLE",
          `the RPC did not answer ${options.what} for ${Math.round((Date.now() - started) / 1000)} s (${error.message})`,
          { cause: error },
        );
      }
      options.onRetry(n, error.message, pause);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * An ethers JSON-RPC provider over HTTP that rides out outages: a timeout per request, retries with exponential
 * backoff, a lookup on chain before a transaction is sent again, and a check of the chain id after every outage.
 * Requests go one per HTTP call (no batches), so one lost answer costs one retried call.
 * @example
 * const provider = new RetryingJsonRpcProvider("http://127.0.0.1:8545", 31337n, { onOutage: (e) => console.log(e) })
 * const client = await PiecepayClient.create({ signer: wallet.connect(provider), chainId: 31337n, ... })
 */
export class RetryingJsonRpcProvider extends JsonRpcProvider {
  readonly url: string;
  readonly expectedChainId: bigint;
  readonly #options: Required<Omit<RpcRetryOptions, "onOutage">> & Pick<RpcRetryOptions, "onOutage">;
  /** When the current outage began (the first failed attempt since the RPC last answered), or undefined. */
  #downSince: number | undefined;
  #chainCheckedAt = 0;
  #wrongChain: bigint | undefined;
  #nextId = 1;

  constructor(
    url: string,
    chainId: bigint,
    options: RpcRetryOptions & Pick<JsonRpcApiProviderOptions, "pollingInterval"> = {},
  ) {
    // The chain id is static for ethers (no eth_chainId before its own calls): this class checks it itself.
    super(url, Network.from(chainId), {
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1,
      pollingInterval: options.pollingInterval ?? 4_000,
    });
    this.url = url;
    this.expectedChainId = chainId;
    this.#options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      patienceMs: options.patienceMs ?? 120_000,
      firstBackoffMs: options.firstBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 4_000,
      chainCheckIntervalMs: options.chainCheckIntervalMs ?? 60_000,
      onOutage: options.onOutage,
    };
    this.#chainCheckedAt = Date.now();
  }

  /** Whether a call is failing right now (an outage began and no call has been answered since). */
  get outage(): boolean {
    return this.#downSince !== undefined;
  }

  /**
   * Asks the RPC its chain id now (riding out an outage), and refuses every later call if it is not ours.
   * @throws PiecepayError WRONG_CHAIN, RPC_UNAVAILABLE
   * @example await provider.checkChain()
   */
  async checkChain(): Promise<void> {
    const [answer] = await this.#retrying([this.#payload("eth_chainId", [])]);
    if ("error" in answer) {
      throw new PiecepayError("RPC_UNAVAILABLE", `the RPC did not tell its chain id (${answer.error.message})`);
    }
    const chainId = BigInt(answer.result as string);
    this.#chainCheckedAt = Date.now();
    this.#wrongChain = chainId === this.expectedChainId ? undefined : chainId;
    this.#assertChain();
  }

  /** ethers' one transport point: each JSON-RPC call passes here. */
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const calls = Array.isArray(payload) ? payload : [payload];
    let failed = false;
    const results = await this.#retrying(calls, () => {
      failed = true;
    });
    // After an outage, or when due: is the RPC still on our chain? (Not before the chain id check itself.)
    if (failed || Date.now() - this.#chainCheckedAt > this.#options.chainCheckIntervalMs) await this.checkChain();
    else this.#assertChain();
    // ethers types the answers as results, but reads an error answer from the same array (as its own _send does).
    return results as JsonRpcResult[];
  }

  #assertChain(): void {
    if (this.#wrongChain === undefined) return;
    throw new WrongChainError(this.expectedChainId, this.#wrongChain, "the RPC");
  }

  #payload(method: string, params: unknown[]): JsonRpcPayload {
    return { jsonrpc: "2.0", id: `retry-${this.#nextId++}`, method, params } as unknown as JsonRpcPayload;
  }

  /** `calls`, retried through an outage; a transaction whose earlier send may have arrived is looked up first. */
  async #retrying(calls: JsonRpcPayload[], onFailure?: () => void): Promise<(JsonRpcResult | JsonRpcError)[]> {
    const method = calls.map((c) => c.method).join(",");
    const o = this.#options;
    let uncertain = false;
    const results = await withBackoff(
      async () => {
        if (uncertain) {
          const known = await this.#alreadySent(calls);
          if (known) return known;
        }
        try {
          return await this.#post(calls);
        } catch (error) {
          uncertain = true;
          onFailure?.();
          throw error;
        }
      },
      {
        what: method,
        patienceMs: o.patienceMs,
        firstBackoffMs: o.firstBackoffMs,
        maxBackoffMs: o.maxBackoffMs,
        stopped: () => this.destroyed,
        onRetry: (attempt, reason, retryInMs) => {
          this.#downSince ??= Date.now();
          const downForMs = Date.now() - this.#downSince;
          o.onOutage?.({ kind: "retrying", method, attempt, reason, downForMs, retryInMs, patienceMs: o.patienceMs });
        },
      },
    ).catch((error) => {
      const downForMs = this.#downSince === undefined ? 0 : Date.now() - this.#downSince;
      if (error instanceof PiecepayError && error.code === "RPC_UNAVAILABLE") {
        o.onOutage?.({ kind: "gave-up", method, reason: error.shortMessage, downForMs });
      }
      throw error;
    });
    if (this.#downSince !== undefined) {
      o.onOutage?.({ kind: "recovered", method, downForMs: Date.now() - this.#downSince });
      this.#downSince = undefined;
    }
    return uncertain ? this.#resolveResends(calls, results) : results;
  }

  /**
   * For a lone eth_sendRawTransaction whose earlier attempt may have reached the node: the transaction's hash if
   * the chain (or its mempool) holds it, so that it is not sent again.
   */
  async #alreadySent(calls: JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[] | undefined> {
    if (calls.length !== 1 || calls[0].method !== "eth_sendRawTransaction") return undefined;
    const hash = keccak256((calls[0].params as string[])[0]);
    const [found] = await this.#post([this.#payload("eth_getTransactionByHash", [hash])]);
    return "result" in found && found.result ? [{ id: calls[0].id, result: hash }] : undefined;
  }

  /** A resend refused as "already known" or "nonce too low" counts as sent when the chain holds the transaction. */
  async #resolveResends(
    calls: JsonRpcPayload[],
    results: (JsonRpcResult | JsonRpcError)[],
  ): Promise<(JsonRpcResult | JsonRpcError)[]> {
    if (calls.length !== 1 || calls[0].method !== "eth_sendRawTransaction" || !("error" in results[0])) return results;
    const hash = keccak256((calls[0].params as string[])[0]);
    const [found] = await this.#retrying([this.#payload("eth_getTransactionByHash", [hash])]);
    return "result" in found && found.result ? [{ id: calls[0].id, result: hash }] : results;
  }

  /** One HTTP POST of `calls`, with the request timeout; throws TransientRpcFailure when no JSON-RPC answer came. */
  async #post(calls: JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[]> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(calls.length === 1 ? calls[0] : calls),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new TransientRpcFailure(transportReason(error, this.#options.requestTimeoutMs));
    }
    let answers: (JsonRpcResult | JsonRpcError)[] | undefined;
    try {
      const body = JSON.parse(text);
      answers = Array.isArray(body) ? body : [body];
      if (answers.some((a) => typeof a !== "object" || a === null || !("result" in a || "error" in a))) {
        answers = undefined;
      }
    } catch {
      answers = undefined;
    }
    // A JSON-RPC answer is final whatever the HTTP status (some RPCs send errors with 400 or 500).
    if (answers) return answers;
    const status = `HTTP ${response.status} ${response.statusText}`.trim();
    if (response.status === 408 || response.status === 429 || response.status >= 500 || response.status < 400) {
      throw new TransientRpcFailure(`an answer that is not JSON-RPC (${status})`);
    }
    // Refused for good (a wrong path, a missing API key): another attempt would be refused the same way.
    throw new PiecepayError("RPC_UNAVAILABLE", `the RPC refused ${calls.map((c) => c.method).join(",")}: ${status}`);
  }
}

/** A transport failure in a few words: "connection reset", "no answer within 10 s", "connection refused". */
function transportReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs / 1000} s`;
  const code = e?.cause?.code;
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "UND_ERR_CLOSED" || code === "EPIPE") return "connection closed";
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT") return "connection timed out";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "host unreachable";
  return code ? `transport error ${code}` : "transport error";
}
