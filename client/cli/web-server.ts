// The server of `piecepay web`: the built page (client/web/dist), its piecepay.json (chain, contracts, tracker), the
// chain's JSON-RPC under /rpc (same origin, so the page needs no CORS from the node), a WebSocket tracker under
// /tracker (browsers and `--webrtc` Node peers meet there), and on a local development chain only, /faucet, which
// sends test ETH from the node's first unlocked account to the page's own development key.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Server_ from "bittorrent-tracker/server";
import { getAddress, isAddress, parseEther, toQuantity } from "ethers";
import { rpcCall } from "./context.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
};

/** The most a JSON-RPC request body may be (a deposit's calldata is a few KiB). */
const MAX_RPC_BODY = 1 << 20;

/** What the page's piecepay.json says, less what the server adds (its own URLs). */
export interface WebAppSettings {
  chainId: bigint;
  chainName: string;
  /** The chain's RPC as this server reaches it (and as a wallet on this machine would). */
  rpcUrl: string;
  adjudicator: string;
  voucherApp: string;
  tokens: { address: string; symbol: string; decimals: number }[];
  confirmations?: number;
  /** On a local development chain: the node's unlocked account the faucet sends from. */
  faucetFrom?: string;
  /** Test ETH the faucet sends a page's development key that holds less than a tenth of it. */
  faucetAmount?: bigint;
}

export interface WebServer {
  url: string;
  /** The WebSocket tracker's announce URL. */
  tracker: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves `dist` and the rest on `host:port` (0: any free port). */
export async function startWebServer(
  dist: string,
  settings: WebAppSettings,
  options: { port: number; host: string; log?: (line: string) => void },
): Promise<WebServer> {
  // Pages announce every 12 s (a fifth of the interval, bittorrent-tracker's rule for WebSocket peers), each time
  // with fresh WebRTC offers: a connection lost while it was being made is tried again then, not 2 minutes later.
  const tracker = new Server_({ udp: false, http: false, stats: false, ws: { noServer: true }, interval: 60_000 });
  tracker.on("warning", (error: Error) => options.log?.(`tracker warning: ${error.message}`));
  tracker.on("error", (error: Error) => options.log?.(`tracker error: ${error.message}`));
  let base = "";
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://server");
    if (url.pathname === "/piecepay.json") return json(res, 200, pageConfig());
    if (url.pathname === "/rpc" && req.method === "POST") return proxyRpc(req, res, settings.rpcUrl);
    if (url.pathname === "/faucet" && req.method === "POST") {
      return faucet(req, res, settings).catch(() => {
        if (!res.headersSent) json(res, 502, { error: `the chain at ${settings.rpcUrl} does not answer` });
      });
    }
    return serveFile(res, dist, url.pathname);
  }

  function pageConfig() {
    return {
      chainId: String(settings.chainId),
      chainName: settings.chainName,
      rpcUrl: settings.rpcUrl,
      rpcPath: "rpc",
      adjudicator: settings.adjudicator,
      voucherApp: settings.voucherApp,
      trackers: [`${base.replace(/^http/, "ws")}/tracker`],
      iceServers: [],
      tokens: settings.tokens,
      ...(settings.confirmations === undefined ? {} : { confirmations: settings.confirmations }),
      devChain: settings.faucetFrom !== undefined,
    };
  }

  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://server").pathname !== "/tracker") {
      socket.destroy();
      return;
    }
    tracker.ws.handleUpgrade(req, socket, head, (ws: unknown) => tracker.ws.emit("connection", ws, req));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const name = options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  base = `http://${name}:${port}`;
  return {
    url: `${base}/`,
    tracker: `${base.replace(/^http/, "ws")}/tracker`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => tracker.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Forwards one JSON-RPC request (or batch) to the chain, answering 502 with a JSON-RPC error when it is down. */
async function proxyRpc(req: IncomingMessage, res: ServerResponse, rpcUrl: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_RPC_BODY);
  } catch (error) {
    return json(res, 413, { jsonrpc: "2.0", id: null, error: { code: -32600, message: String(error) } });
  }
  try {
    const upstream = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(30_000),
    });
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  } catch {
    // Plain text, not a JSON-RPC answer: the page's provider (RetryingJsonRpcProvider) retries a 502 without one, and
    // takes a JSON-RPC error as the node's final word.
    res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end(`the chain at ${rpcUrl} does not answer`);
  }
}

/** Test ETH for a page's development key, on a development chain only; nothing when it already holds enough. */
async function faucet(req: IncomingMessage, res: ServerResponse, settings: WebAppSettings): Promise<void> {
  if (settings.faucetFrom === undefined) return json(res, 404, { error: "no faucet: this is not a development chain" });
  let address: unknown;
  try {
    ({ address } = JSON.parse((await readBody(req, 1024)).toString() || "{}") as { address?: unknown });
  } catch {
    return json(res, 400, { error: 'send {"address": "0x..."}' });
  }
  if (typeof address !== "string" || !isAddress(address)) return json(res, 400, { error: "no address" });
  const amount = settings.faucetAmount ?? parseEther("100");
  const balance = BigInt(await rpcCall<string>(settings.rpcUrl, "eth_getBalance", [address, "latest"]));
  if (balance >= amount / 10n) return json(res, 200, { sent: "0", balance: String(balance) });
  const hash = await rpcCall<string>(settings.rpcUrl, "eth_sendTransaction", [
    { from: settings.faucetFrom, to: getAddress(address), value: toQuantity(amount) },
  ]);
  // Answer once it is mined, so that the page's first deposit sees the ETH.
  for (let i = 0; i < 600; i++) {
    const receipt = await rpcCall<{ status: string } | null>(settings.rpcUrl, "eth_getTransactionReceipt", [hash]);
    if (receipt !== null) return json(res, 200, { sent: String(amount), txHash: hash });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  json(res, 504, { error: `the faucet's transaction ${hash} was not mined in a minute` });
}

function serveFile(res: ServerResponse, dist: string, pathname: string): void {
  const relative = path.normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, "");
  let file = path.join(dist, relative === "" ? "index.html" : relative);
  if (!file.startsWith(dist)) {
    res.writeHead(403).end();
    return;
  }
  if (!existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, "index.html");
  res.writeHead(200, {
    "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
    "cache-control": "no-cache",
  });
  createReadStream(file).pipe(res);
}
