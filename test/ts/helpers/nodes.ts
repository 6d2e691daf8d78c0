// Local chains as child processes for the tests: anvil (an independent node; with --block-time, blocks are not
// mined on demand, like a public testnet) and `hardhat node`, each in its own process group so that stop() ends
// the wrapper and the node it starts.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

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
