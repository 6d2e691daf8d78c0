// The hub's transport: JSON-RPC 2.0 over WebSocket (the `ws` library, which the tracker and ethers already run, for
// its frame size cap and back-pressure). Each connection gets a message size cap, a token-bucket rate limit and an
// answer to every request, refusals included; a handler's unexpected failure is logged and answered INTERNAL
// without its details. Handlers run one at a time per connection, in arrival order, so that a user's requests are
// never reordered.
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { encodeHubJson, HubError } from "../../sdk/hub/index.js";

/** Per-connection limits. */
export interface RpcLimits {
  /** Largest message accepted, in bytes; a larger frame closes the connection with code 1009. */
  maxMessageBytes: number;
  /** Requests per second allowed on average... */
  ratePerSecond: number;
  /** ...and in one burst. */
  burst: number;
  /** Refusals for rate after which the connection is closed (code 1008). */
  maxRateRefusals: number;
}

export const DEFAULT_RPC_LIMITS: RpcLimits = {
  maxMessageBytes: 64 * 1024,
  ratePerSecond: 200,
  burst: 400,
  maxRateRefusals: 100,
};

/** One connection, as a handler sees it. */
export interface RpcConnection {
  readonly id: number;
  /** Whatever the handlers attach (e.g. the address it logged in as). */
  readonly data: Map<string, unknown>;
  /** Sends a notification (a JSON-RPC request without id). */
  notify(method: string, params: unknown): void;
}

export type RpcHandler = (params: unknown, connection: RpcConnection) => Promise<unknown> | unknown;

export interface RpcServerOptions {
  host: string;
  port: number;
  handlers: Record<string, RpcHandler>;
  limits?: Partial<RpcLimits>;
  /** Called with one line per notable event (connections, refusals, failures). */
  log?: (line: string) => void;
  /** Called when a connection closes. */
  onClose?: (connection: RpcConnection) => void;
}

export interface RpcServer {
  /** ws://host:port */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the server; resolves once it listens.
 * @example const server = await startRpcServer({ host: "127.0.0.1", port: 0, handlers: { info: () => ({ fee: 10 }) } })
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const limits = { ...DEFAULT_RPC_LIMITS, ...options.limits };
  const log = options.log ?? (() => {});
  const wss = new WebSocketServer({ host: options.host, port: options.port, maxPayload: limits.maxMessageBytes });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  wss.on("error", (error) => log(`server error: ${error.message}`));
  let nextId = 1;
  wss.on("connection", (socket, request) => {
    const connection = serve(socket, nextId++, options.handlers, limits, log, options.onClose);
    log(`connection ${connection.id} from ${request.socket.remoteAddress}:${request.socket.remotePort}`);
  });
  const port = (wss.address() as AddressInfo).port;
  const host = options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  return {
    url: `ws://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

function serve(
  socket: WebSocket,
  id: number,
  handlers: Record<string, RpcHandler>,
  limits: RpcLimits,
  log: (line: string) => void,
  onClose: ((connection: RpcConnection) => void) | undefined,
): RpcConnection {
  const send = (message: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(encodeHubJson(message));
  };
  const connection: RpcConnection = {
    id,
    data: new Map(),
    notify: (method, params) => send({ jsonrpc: "2.0", method, params }),
  };
  let tokens = limits.burst;
  let refilledAt = Date.now();
  let rateRefusals = 0;
  let queue = Promise.resolve();

  socket.on("message", (raw, isBinary) => {
    const now = Date.now();
    tokens = Math.min(limits.burst, tokens + ((now - refilledAt) / 1000) * limits.ratePerSecond);
    refilledAt = now;
    if (rateRefusals >= limits.maxRateRefusals) return;
    if (tokens < 1) {
      send({ jsonrpc: "2.0", id: requestId(raw), error: refusal("RATE_LIMITED", "too many requests: slow down") });
      if (++rateRefusals >= limits.maxRateRefusals) {
        log(`connection ${id}: closed after ${rateRefusals} requests over the rate limit`);
        // After the answers to the requests it accepted.
        queue = queue.then(() => socket.close(1008, "rate limit"));
      }
      return;
    }
    tokens -= 1;
    queue = queue.then(async () => send(await answer(raw, isBinary, handlers, connection, log)));
  });
  socket.on("error", (error) => log(`connection ${id}: ${error.message}`));
  socket.on("close", (code) => {
    if (code === 1009) log(`connection ${id}: closed, a message over ${limits.maxMessageBytes} bytes`);
    onClose?.(connection);
  });
  return connection;
}

async function answer(
  raw: unknown,
  isBinary: boolean,
  handlers: Record<string, RpcHandler>,
  connection: RpcConnection,
  log: (line: string) => void,
): Promise<unknown> {
  let request: unknown;
  try {
    if (isBinary) throw new Error("binary");
    request = JSON.parse(String(raw));
  } catch {
    return { jsonrpc: "2.0", id: null, error: refusal("PARSE_ERROR", "not a JSON text message") };
  }
  if (
    request === null ||
    typeof request !== "object" ||
    Array.isArray(request) ||
    (request as { jsonrpc?: unknown }).jsonrpc !== "2.0" ||
    typeof (request as { method?: unknown }).method !== "string" ||
    !validId((request as { id?: unknown }).id)
  ) {
    return {
      jsonrpc: "2.0",
      id: validId((request as { id?: unknown } | null)?.id) ? (request as { id: unknown }).id : null,
      error: refusal("INVALID_REQUEST", 'expected {"jsonrpc":"2.0","id":number|string,"method":string,"params":{}}'),
    };
  }
  const { id, method, params } = request as { id: number | string; method: string; params?: unknown };
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (handler === undefined) {
    return { jsonrpc: "2.0", id, error: refusal("METHOD_NOT_FOUND", `no method ${JSON.stringify(method)}`) };
  }
  try {
    return { jsonrpc: "2.0", id, result: (await handler(params ?? {}, connection)) ?? null };
  } catch (error) {
    if (error instanceof HubError) {
      log(`connection ${connection.id}: ${method} refused: ${error.shortMessage}`);
      return { jsonrpc: "2.0", id, error: error.toJsonRpc() };
    }
    log(`connection ${connection.id}: ${method} failed: ${error instanceof Error ? error.stack : String(error)}`);
    return { jsonrpc: "2.0", id, error: refusal("INTERNAL", "the hub failed to handle this request; it is logged") };
  }
}

function refusal(reason: ConstructorParameters<typeof HubError>[0], message: string) {
  return new HubError(reason, message).toJsonRpc();
}

function validId(id: unknown): boolean {
  return (typeof id === "number" && Number.isSafeInteger(id)) || (typeof id === "string" && id.length <= 64);
}

/** The id of a request we refuse before parsing it properly, when it has a readable one. */
function requestId(raw: unknown): number | string | null {
  try {
    const id = (JSON.parse(String(raw)) as { id?: unknown }).id;
    return validId(id) ? (id as number | string) : null;
  } catch {
    return null;
  }
}
