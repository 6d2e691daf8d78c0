// Local chains as child processes for the tests: anvil (an independent node; with --block-time, blocks are not
// mined on demand, like a public testnet) and `hardhat node`, each in its own process group so that stop() ends
// the wrapper and the node it starts; and a proxy that makes a local node answer like a public RPC.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import path from "node:path";
import { Adjudicator__factory } from "../../../typechain-types/index.js";

export const root = new URL("../../../", import.meta.url).pathname;
export const ANVIL = path.join(root, "node_modules/@foundry-rs/anvil/bin.mjs");
export const HARDHAT = path.join(root, "node_modules/hardhat/dist/src/cli.js");

/** One JSON-RPC call over HTTP; throws the node's error message. */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface LocalNode {
  url: string;
  stop(): Promise<void>;
}

/** Starts `node <script> ...args` in its own process group and waits until it answers eth_chainId. */
export async function startNode(script: string, args: (port: number) => string[]): Promise<LocalNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [script, ...args(port)], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, "SIGTERM"); // the wrapper and the node it starts
      await exited;
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited early:\n${output}`);
    try {
      await rpc(url, "eth_chainId");
      return { url, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${script} did not answer on ${url} within 30 s:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Starts anvil with `args` (e.g. ["--chain-id", "11155111", "--block-time", "1"]) on a free port. */
export function startAnvil(args: string[] = []): Promise<LocalNode> {
  return startNode(ANVIL, (port) => ["--port", String(port), "--silent", ...args]);
}

/** What a public RPC does not serve: time travel and node control, and anything that needs a key held by the node. */
const NOT_PUBLIC = /^(evm_|anvil_|hardhat_|personal_|eth_sendTransaction$|eth_sign)/;

/**
 * A JSON-RPC proxy in front of `target` that answers like a public testnet's RPC: evm_*, anvil_* and hardhat_*
 * methods (and the signing ones: the node holds no key of ours) get the JSON-RPC error -32601 "method not found",
 * eth_accounts is empty, everything else is forwarded as is. Batches are answered element by element. `refused`
 * lists the methods it refused, in order.
 */
export async function startPublicRpcProxy(target: string): Promise<LocalNode & { refused: string[] }> {
  const refused: string[] = [];
  interface Call {
    jsonrpc: "2.0";
    id: number | string | null;
    method: string;
    params?: unknown[];
  }
  const answer = async (call: Call): Promise<unknown> => {
    if (NOT_PUBLIC.test(call.method)) {
      refused.push(call.method);
      return {
        jsonrpc: "2.0",
        id: call.id,
        error: { code: -32601, message: `the method ${call.method} does not exist/is not available` },
      };
    }
    if (call.method === "eth_accounts") return { jsonrpc: "2.0", id: call.id, result: [] };
    const response = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call),
    });
    return response.json();
  };
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      let body: string;
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString()) as Call | Call[];
        body = JSON.stringify(Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed));
      } catch (error) {
        body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: String(error) } });
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    refused,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * For a test whose subject is what a command does after a challenge finalizes, not the wait itself (other tests
 * really wait): on a node that takes evm_* methods, each ChallengeRegistered of `adjudicator` is followed by a block
 * stamped at its finalizesAt, so the command sees the deadline passed at its next look. Returns a stop function.
 */
export function skipChallengeWaits(url: string, adjudicator: string): () => Promise<void> {
  const events = Adjudicator__factory.createInterface();
  const topic = events.getEvent("ChallengeRegistered").topicHash;
  let from = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const head = Number(await rpc<string>(url, "eth_blockNumber"));
      if (head < from) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const logs = await rpc<{ data: string; topics: string[] }[]>(url, "eth_getLogs", [
        {
          address: adjudicator,
          topics: [topic],
          fromBlock: `0x${from.toString(16)}`,
          toBlock: `0x${head.toString(16)}`,
        },
      ]);
      from = head + 1;
      for (const log of logs) {
        const finalizesAt = Number(events.parseLog(log)?.args.finalizesAt);
        const latest = await rpc<{ timestamp: string }>(url, "eth_getBlockByNumber", ["latest", false]);
        if (Number(latest.timestamp) < finalizesAt) {
          await rpc(url, "evm_setNextBlockTimestamp", [finalizesAt]);
          await rpc(url, "evm_mine");
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
