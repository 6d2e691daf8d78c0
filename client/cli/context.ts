// From the global options to what a command works with: the RPC (checked before use), our account (a key or an
// encrypted keystore), the deployment record of the RPC's chain, the channel store, and a PiecepayClient.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, JsonRpcProvider, type Signer, Wallet } from "ethers";
import { loadKeystore, PiecepayClient, type PiecepayClientOptions, SqliteChannelStore } from "../../sdk/index.js";
import { CliError, type GlobalOptions, UsageError } from "./command.js";
import { readPassword } from "./password.js";

/** The RPC a command uses when it needs a chain and --rpc is not given. */
export const DEFAULT_RPC = "http://127.0.0.1:8545";

/** The repository's root (where node_modules/, deployments/ and hardhat.config.ts are). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** The addresses a client needs, from deployments/<chainId>.json. */
export interface Deployment {
  adjudicator: string;
  voucherApp: string;
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
 * background). The provider's request cache is off: on an automining node it returns stale nonces.
 * @throws CliError when the RPC does not answer
 */
export async function connect(url: string): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
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
  const provider = new JsonRpcProvider(url, Number(chainId), { cacheTimeout: -1, pollingInterval: 500 });
  return { provider, chainId };
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

/** Where the deployment records are looked for, in order: the data dir's, PIECEPAY_DEPLOYMENTS_DIR, the repo's. */
export function deploymentDirs(globals: GlobalOptions): string[] {
  const dirs = [path.join(globals.dataDir, "deployments")];
  if (process.env.PIECEPAY_DEPLOYMENTS_DIR) dirs.push(path.resolve(process.env.PIECEPAY_DEPLOYMENTS_DIR));
  dirs.push(path.join(ROOT, "deployments"));
  return dirs;
}

/**
 * The adjudicator's and the voucher app's addresses on `chainId`, from the first deployments/<chainId>.json found.
 * @throws CliError when the chain has no deployment record, or it is malformed
 */
export function readDeployment(globals: GlobalOptions, chainId: bigint): Deployment {
  for (const dir of deploymentDirs(globals)) {
    const file = path.join(dir, `${chainId}.json`);
    if (!existsSync(file)) continue;
    try {
      const record = JSON.parse(readFileSync(file, "utf8")) as {
        chainId: number;
        contracts: Record<string, { address: string }>;
      };
      if (BigInt(record.chainId) !== chainId) throw new Error(`it says chain id ${record.chainId}`);
      return {
        adjudicator: getAddress(record.contracts.Adjudicator.address),
        voucherApp: getAddress(record.contracts.VoucherPaymentApp.address),
        file,
      };
    } catch (error) {
      throw new CliError(
        `${file} is not a usable deployment record (${(error as Error).message})`,
        "fix or remove it",
        {
          cause: error,
        },
      );
    }
  }
  throw new CliError(
    `no deployment of the contracts on chain ${chainId} (looked in ${deploymentDirs(globals).join(", ")})`,
    "run `piecepay chain` for a local chain with the contracts, or `npm run deploy:localhost` against your node",
  );
}

/** <data-dir>/channels.db */
export function storePath(globals: GlobalOptions): string {
  return path.join(globals.dataDir, "channels.db");
}

/** The channel store in the data dir, created if missing. */
export function openStore(globals: GlobalOptions): SqliteChannelStore {
  return new SqliteChannelStore(storePath(globals));
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
 * A PiecepayClient for our account on the chain at --rpc, with the addresses of its deployment record and the
 * store in the data dir. The account is loaded first, so a wrong password fails before any network traffic.
 * @example const { client, close } = await connectClient(globals); try { ... } finally { close() }
 */
export async function connectClient(
  globals: GlobalOptions,
  options: Partial<Omit<PiecepayClientOptions, "signer" | "chainId" | "adjudicator" | "voucherApp" | "store">> = {},
): Promise<Connected> {
  const wallet = await loadSigner(globals);
  const { provider, chainId } = await connect(rpcUrl(globals));
  let store: SqliteChannelStore | undefined;
  try {
    const deployment = readDeployment(globals, chainId);
    store = openStore(globals);
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
        opened.close();
        provider.destroy();
      },
    };
  } catch (error) {
    store?.close();
    provider.destroy();
    throw error;
  }
}
