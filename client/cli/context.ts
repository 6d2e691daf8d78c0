// From the global options to what a command works with: the RPC (checked before use), our account (a key or an
// encrypted keystore), the deployment record of the RPC's chain, the channel store, and a PiecepayClient.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, type JsonRpcProvider, type Signer, Wallet } from "ethers";
import {
  loadKeystore,
  PiecepayClient,
  type PiecepayClientOptions,
  RetryingJsonRpcProvider,
  type RpcOutageEvent,
  type SqliteChannelStore,
} from "../../sdk/node.js";
import { CliError, type GlobalOptions, UsageError } from "./command.js";
import { readPassword } from "./password.js";
import { openAccountStore } from "./stores.js";

/** The data dir when --data-dir is not given (relative to the working directory). */
export const DEFAULT_DATA_DIR = ".piecepay";

/** The RPC a command uses when it needs a chain and --rpc is not given. */
export const DEFAULT_RPC = "http://127.0.0.1:8545";

/** The repository's root (where node_modules/, deployments/ and hardhat.config.ts are). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** The addresses a client needs, from deployments/<chainId>.json. */
export interface Deployment {
  adjudicator: string;
  voucherApp: string;
  /**
   * The hub's ledger app (ADR 0021), when the record names it: a record written before the hub's apps existed does
   * not, and serves everything but the hub (whose commands ask `hubApps`).
   */
  ledgerApp?: string;
  /** The hub's virtual voucher app, when the record names it (as `ledgerApp`). */
  virtualApp?: string;
  /** The record it came from. */
  file: string;
}

/** One JSON-RPC call over HTTP, with a timeout; throws the node's error message. */
export async function rpcCall<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/**
 * Connects to `url` after checking that it answers eth_chainId (ethers would otherwise retry forever in the
 * background). Every later call rides out an outage (see the SDK's RetryingJsonRpcProvider: a timeout per request,
 * retries with backoff, the chain id checked again after it); `say` hears what it waits for, in a line for people.
 * @throws CliError when the RPC does not answer
 */
export async function connect(
  url: string,
  say?: (line: string) => void,
): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  let chainId: bigint;
  try {
    chainId = BigInt(await rpcCall<string>(url, "eth_chainId"));
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach a chain at ${url} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
      "start one with `piecepay chain` (or `npm run node`), or pass --rpc URL",
      { cause: error },
    );
  }
  const provider = new RetryingJsonRpcProvider(url, chainId, {
    requestTimeoutMs: rpcTimeoutMs(),
    patienceMs: rpcPatienceMs(),
    pollingInterval: 500,
    onOutage: say === undefined ? undefined : outageNotes(url, say),
  });
  return { provider, chainId };
}

/** A request's timeout: PIECEPAY_RPC_TIMEOUT seconds (e.g. 30 for a slow public RPC, 2 for a local node), else 10. */
export function rpcTimeoutMs(): number {
  const raw = process.env.PIECEPAY_RPC_TIMEOUT;
  if (raw === undefined || raw === "") return 10_000;
  const seconds = Number(raw);
  if (!(seconds > 0 && seconds <= 600)) {
    throw new UsageError(`PIECEPAY_RPC_TIMEOUT must be a number of seconds from 0 to 600, not ${JSON.stringify(raw)}`);
  }
  return seconds * 1000;
}

/** How long an outage is ridden out: PIECEPAY_RPC_PATIENCE seconds (e.g. 600 on a flaky link), else 120. */
export function rpcPatienceMs(): number {
  const raw = process.env.PIECEPAY_RPC_PATIENCE;
  if (raw === undefined || raw === "") return 120_000;
  const seconds = Number(raw);
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new UsageError(
      `PIECEPAY_RPC_PATIENCE must be a number of seconds from 0 to 3600, not ${JSON.stringify(raw)}`,
    );
  }
  return seconds * 1000;
}

/**
 * Lines for people about an RPC outage: when it starts, every 5 s while it lasts (what is retried, since when,
 * for how long more), and when the RPC answers again.
 */
export function outageNotes(url: string, say: (line: string) => void): (event: RpcOutageEvent) => void {
  let lastSaid = 0;
  return (event) => {
    const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
    if (event.kind === "recovered") {
      say(`rpc: ${url} answers again after ${seconds(event.downForMs)}; carrying on`);
      lastSaid = 0;
    } else if (event.kind === "gave-up") {
      say(`rpc: gave up on ${event.method} after ${seconds(event.downForMs)}: ${event.reason}`);
    } else if (lastSaid === 0 || Date.now() - lastSaid >= 5_000) {
      lastSaid = Date.now();
      say(
        `rpc: waiting for ${url} (${event.method}: ${event.reason}); down ${seconds(event.downForMs)}, retrying with backoff for up to ${seconds(event.patienceMs)}; channels and peers are kept`,
      );
    }
  };
}

/** The URL of --rpc, or DEFAULT_RPC. */
export function rpcUrl(globals: GlobalOptions): string {
  return globals.rpc ?? DEFAULT_RPC;
}

/**
 * Our account: --key (or PIECEPAY_KEY) or --keystore (password from PIECEPAY_PASSWORD or a prompt).
 * @throws CliError when neither is given, the key is malformed, or the keystore does not open
 */
export async function loadSigner(globals: GlobalOptions, provider?: JsonRpcProvider): Promise<Wallet> {
  const key = globals.key ?? (process.env.PIECEPAY_KEY || undefined);
  if (key !== undefined && globals.keystore !== undefined) {
    throw new UsageError("pass --key or --keystore, not both");
  }
  if (key !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
      throw new CliError("the key is not a 32-byte hex private key", "pass --key 0x<64 hex digits>, or --keystore");
    }
    return new Wallet(key.startsWith("0x") ? key : `0x${key}`, provider);
  }
  if (globals.keystore !== undefined) {
    const password = await readPassword(`password for ${globals.keystore}`);
    return loadKeystore(path.resolve(globals.keystore), password, provider);
  }
  throw new CliError(
    "this command needs our account",
    "pass --keystore PATH (create one with `piecepay keygen --keystore PATH`), or --key HEX",
  );
}

/**
 * Where the deployment records are looked for, in order: the data dir's, PIECEPAY_DEPLOYMENTS_DIR, the default data
 * dir's (./.piecepay, where `piecepay chain` writes when run without --data-dir; and the repository's .piecepay, for
 * `npm run piecepay`, which npm runs from the package root), then the repository's deployments/.
 */
export function deploymentDirs(globals: GlobalOptions): string[] {
  const dirs = [path.join(globals.dataDir, "deployments")];
  if (process.env.PIECEPAY_DEPLOYMENTS_DIR) dirs.push(path.resolve(process.env.PIECEPAY_DEPLOYMENTS_DIR));
  dirs.push(path.resolve(DEFAULT_DATA_DIR, "deployments"), path.join(ROOT, DEFAULT_DATA_DIR, "deployments"));
  dirs.push(path.join(ROOT, "deployments"));
  return [...new Set(dirs)];
}

/** The records of `chainId` found in deploymentDirs, in their order. */
function deploymentFiles(globals: GlobalOptions, chainId: bigint): string[] {
  return deploymentDirs(globals)
    .map((dir) => path.join(dir, `${chainId}.json`))
    .filter((file) => existsSync(file));
}

/** Parses one record. @throws CliError when it is malformed or names another chain */
function parseDeployment(file: string, chainId: bigint): Deployment {
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as {
      chainId: number;
      contracts: Record<string, { address: string }>;
    };
    if (BigInt(record.chainId) !== chainId) throw new Error(`it says chain id ${record.chainId}`);
    const optional = (name: string) => {
      const entry = record.contracts[name];
      return entry === undefined ? undefined : getAddress(entry.address);
    };
    return {
      adjudicator: getAddress(record.contracts.Adjudicator.address),
      voucherApp: getAddress(record.contracts.VoucherPaymentApp.address),
      ledgerApp: optional("LedgerApp"),
      virtualApp: optional("VirtualVoucherApp"),
      file,
    };
  } catch (error) {
    throw new CliError(`${file} is not a usable deployment record (${(error as Error).message})`, "fix or remove it", {
      cause: error,
    });
  }
}

function noDeployment(globals: GlobalOptions, chainId: bigint, skipped: string[] = []): CliError {
  const stale = skipped.length > 0 ? `; ${skipped.join(", ")} name contracts this chain does not have` : "";
  return new CliError(
    `no deployment of the contracts on chain ${chainId} (looked in ${deploymentDirs(globals).join(", ")}${stale})`,
    "run `piecepay chain` for a local chain with the contracts, or `npm run deploy:localhost` against your node",
  );
}

/**
 * The contracts' addresses on `chainId` (the hub's apps when the record names them), from the first
 * deployments/<chainId>.json found.
 * @throws CliError when the chain has no deployment record, or it is malformed
 */
export function readDeployment(globals: GlobalOptions, chainId: bigint): Deployment {
  const [file] = deploymentFiles(globals, chainId);
  if (file === undefined) throw noDeployment(globals, chainId);
  return parseDeployment(file, chainId);
}

/**
 * Like readDeployment, but the record must describe this chain: the first one every contract of which (the
 * adjudicator, the voucher app, and the hub's apps when it names them) has code on the chain at `provider`. A record
 * left by an earlier local chain with the same chain id (a node that was restarted, another data dir) is skipped
 * rather than used.
 * @throws CliError when no record fits
 */
export async function findDeployment(
  globals: GlobalOptions,
  provider: JsonRpcProvider,
  chainId: bigint,
): Promise<Deployment> {
  const skipped: string[] = [];
  for (const file of deploymentFiles(globals, chainId)) {
    const deployment = parseDeployment(file, chainId);
    const { adjudicator, voucherApp, ledgerApp, virtualApp } = deployment;
    const named = [adjudicator, voucherApp, ledgerApp, virtualApp].filter((address) => address !== undefined);
    const codes = await Promise.all(named.map((address) => provider.getCode(address)));
    if (codes.every((code) => code !== "0x")) return deployment;
    skipped.push(file);
  }
  throw noDeployment(globals, chainId, skipped);
}

/**
 * The hub's two apps of `deployment`, which the hub's commands need and the others do not.
 * @throws CliError when its record names either not: it was written before the hub's apps existed
 * @example const { ledgerApp, virtualApp } = hubApps(await findDeployment(globals, provider, chainId))
 */
export function hubApps(deployment: Deployment): { ledgerApp: string; virtualApp: string } {
  const { ledgerApp, virtualApp, file } = deployment;
  if (ledgerApp !== undefined && virtualApp !== undefined) return { ledgerApp, virtualApp };
  const missing = [ledgerApp === undefined ? "LedgerApp" : [], virtualApp === undefined ? "VirtualVoucherApp" : []];
  throw new CliError(
    `${file} names no ${missing.flat().join(" and ")}: it predates the hub's apps, which the hub needs`,
    "deploy them with `npm run deploy:localhost` against your node (or `npm run deploy -- --network NAME`): it " +
      "reuses the contracts already there and adds the missing ones; or start a new local chain with `piecepay chain`",
  );
}

/** The store of `account` in the data dir (one per account: client/cli/stores.ts), created if missing. */
export function openStore(globals: GlobalOptions, account: string): Promise<SqliteChannelStore> {
  return openAccountStore(globals.dataDir, account, (text) => process.stderr.write(`${text}\n`));
}

/** Everything a command that acts on chain needs; `close()` releases the store and the provider. */
export interface Connected {
  client: PiecepayClient;
  provider: JsonRpcProvider;
  chainId: bigint;
  deployment: Deployment;
  store: SqliteChannelStore;
  close(): void;
}

/**
 * A PiecepayClient for our account on the chain at --rpc, with the addresses of its deployment record (the hub's
 * apps when it names them) and the account's store in the data dir. The account is loaded first, so a wrong password
 * fails before any network traffic.
 * @example const { client, close } = await connectClient(globals); try { ... } finally { close() }
 */
export async function connectClient(
  globals: GlobalOptions,
  options: Partial<
    Omit<
      PiecepayClientOptions,
      "signer" | "chainId" | "adjudicator" | "voucherApp" | "ledgerApp" | "virtualApp" | "store"
    >
  > = {},
  say?: (line: string) => void,
): Promise<Connected> {
  const wallet = await loadSigner(globals);
  const { provider, chainId } = await connect(rpcUrl(globals), say);
  let store: SqliteChannelStore | undefined;
  try {
    const deployment = await findDeployment(globals, provider, chainId);
    store = await openStore(globals, wallet.address);
    const signer: Signer = wallet.connect(provider);
    const confirmations = globals.confirmations === undefined ? {} : { confirmations: globals.confirmations };
    const client = await PiecepayClient.create({ signer, chainId, ...deployment, store, ...confirmations, ...options });
    const opened = store;
    return {
      client,
      provider,
      chainId,
      deployment,
      store: opened,
      close() {
        void opened.close();
        provider.destroy();
      },
    };
  } catch (error) {
    void store?.close();
    provider.destroy();
    throw error;
  }
}
