// `piecepay web`: serves the web app (client/web/app, built by Vite into client/web/dist) with a WebSocket tracker
// and the chain's JSON-RPC on one port, and prints the URL. The page seeds and downloads over WebRTC, paying from
// the person's wallet (or, on a local development chain, a development key the server's faucet funds).
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Contract, getAddress, isAddress } from "ethers";
import { CliError, type Command, intOption, UsageError } from "../command.js";
import { connect, findDeployment, ROOT, rpcUrl } from "../context.js";
import { DEV_CHAIN_IDS } from "../dev-chain.js";
import { listenError } from "../ports.js";
import { startWebServer, type WebAppSettings } from "../web-server.js";

const APP = path.join(ROOT, "client/web/app");
const DIST = path.join(ROOT, "client/web/dist");
const VITE_CONFIG = path.join(ROOT, "vite.config.ts");

export const web: Command = {
  name: "web",
  summary: "serve the web app (seed and download in a browser) with a tracker, until Ctrl-C",
  usage: "web [--port N] [--host ADDR] [--rpc URL] [--token ADDRESS]... [--no-faucet]",
  description: [
    "Serves the web app on http://HOST:PORT/: a page that seeds and downloads over WebRTC and pays per piece from",
    "the person's wallet (an injected EIP-1193 wallet such as MetaMask; the page asks it to switch to this chain).",
    "The same port carries a WebSocket tracker at ws://HOST:PORT/tracker, which the page announces to and which",
    "`piecepay seed --webrtc --announce ws://HOST:PORT/tracker` joins, and the chain's JSON-RPC at /rpc.",
    "The contracts are the deployment of the chain at --rpc (as `piecepay chain` records it).",
    "",
    "On a local development chain (Hardhat's node or anvil, chain id 31337 or 1337) the page also offers a",
    "development account, so that trying it needs no wallet extension: a key the page keeps, funded with test ETH",
    "by the server from the node's first unlocked account (--no-faucet turns that off).",
    "",
    "The app is built with Vite when client/web/dist is missing or older than its sources (`npm run build:web`).",
    'Stays in the foreground; Ctrl-C stops it. With --json it prints one line, {"event":"ready","url":...}.',
  ].join("\n"),
  options: {
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string", multiple: true },
    "no-faucet": { type: "boolean" },
  },
  optionHelp: [
    ["--port N", "the port of the page, the tracker and the RPC proxy (default 8080; 0: any free port)"],
    ["--host ADDR", "the address to listen on (default 127.0.0.1; 0.0.0.0 to serve the LAN)"],
    ["--token ADDRESS", "an ERC-20 token the page offers as a price's asset (repeatable)"],
    ["--no-faucet", "on a development chain, offer no development account"],
  ],
  examples: [
    "piecepay chain   # in another terminal: a local chain with the contracts",
    "piecepay web",
    "piecepay web --port 9000 --rpc http://127.0.0.1:8546 --json",
  ],

  async run({ globals, values, out, signal }) {
    const port = intOption(values, "port", 0, 65_535);
    const host = values.host as string;
    const url = rpcUrl(globals);
    const { provider, chainId } = await connect(url);
    let settings: WebAppSettings;
    try {
      const deployment = await findDeployment(globals, provider, chainId);
      const tokens = await Promise.all(
        ((values.token as string[] | undefined) ?? []).map((a) => tokenInfo(a, provider)),
      );
      const faucetFrom = values["no-faucet"] ? undefined : await devAccount(url, chainId);
      settings = {
        chainId,
        chainName: DEV_CHAIN_IDS.includes(chainId) ? "local development chain" : `chain ${chainId}`,
        rpcUrl: url,
        adjudicator: deployment.adjudicator,
        voucherApp: deployment.voucherApp,
        tokens,
        ...(faucetFrom === undefined ? {} : { faucetFrom }),
      };
    } finally {
      provider.destroy();
    }
    await buildApp((line) => out.note(line));
    const server = await startWebServer(DIST, settings, { port, host, log: (line) => out.note(line) }).catch(
      (error: unknown) => {
        throw listenError(error, port, "--port", host);
      },
    );
    try {
      out.result(
        {
          event: "ready",
          url: server.url,
          tracker: server.tracker,
          rpc: url,
          chainId,
          faucet: settings.faucetFrom !== undefined,
        },
        [
          `piecepay web: open ${server.url}`,
          `  tracker  ${server.tracker}`,
          `  chain    ${settings.chainName} (${chainId}) at ${url}`,
          settings.faucetFrom === undefined ? "" : "  the page offers a development account (test ETH from the node)",
          "Ctrl-C stops it.",
        ]
          .filter((line) => line !== "")
          .join("\n"),
      );
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    } finally {
      await server.close();
    }
  },
};

/** The node's first unlocked account on a development chain (the faucet's source); undefined elsewhere. */
async function devAccount(url: string, chainId: bigint): Promise<string | undefined> {
  if (!DEV_CHAIN_IDS.includes(chainId)) return undefined;
  const { assertDevChain } = await import("../dev-chain.js");
  try {
    return getAddress((await assertDevChain(url, chainId)).accounts[0]);
  } catch {
    return undefined;
  }
}

async function tokenInfo(address: string, provider: import("ethers").Provider) {
  if (!isAddress(address)) throw new UsageError(`--token ${address} is not an address`);
  const token = new Contract(
    address,
    ["function symbol() view returns (string)", "function decimals() view returns (uint8)"],
    provider,
  );
  try {
    const [symbol, decimals] = await Promise.all([token.symbol(), token.decimals()]);
    return { address: getAddress(address), symbol: String(symbol), decimals: Number(decimals) };
  } catch (error) {
    throw new CliError(`--token ${address} is not an ERC-20 token on this chain`, "check the address", {
      cause: error,
    });
  }
}

/** Builds the app with Vite when client/web/dist is missing or older than a file of client/web/app or the config. */
export async function buildApp(say: (line: string) => void = () => {}): Promise<void> {
  if (!needsAppBuild()) return;
  say("building the web app (vite build)");
  const { build } = await import("vite");
  await build({ configFile: VITE_CONFIG, logLevel: "error" });
}

function needsAppBuild(): boolean {
  const built = path.join(DIST, "index.html");
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs,
      ),
    );
  const sources = [APP, ...["client/web/shims", "client/session", "client/wire", "sdk"].map((d) => path.join(ROOT, d))];
  return Math.max(statSync(VITE_CONFIG).mtimeMs, ...sources.map(newest)) > builtAt;
}
