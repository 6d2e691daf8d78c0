// Who pays and is paid in the page: the injected EIP-1193 wallet (MetaMask and the like) or, on a local development
// chain only, the development account that piecepay.json offers (test money). Either way the SDK's session key,
// kept in this origin's IndexedDB, signs every state and voucher, so no voucher asks the wallet anything; the wallet
// sends the deposits and closes (one approval per channel) and receives the payouts.
import { type Eip1193Provider, toBeHex, Wallet } from "ethers";
import {
  IndexedDbChannelStore,
  PiecepayClient,
  RetryingJsonRpcProvider,
  type RpcOutageEvent,
  rejectionError,
  sessionKey,
  walletFromEip1193,
} from "../../../sdk/index.js";
import type { AppConfig } from "./config.js";
import { AppError } from "./errors.js";

/** The wallet a browser extension injected (EIP-1193), if any. */
function injected(): Eip1193Provider | undefined {
  return typeof window === "undefined" ? undefined : (window as { ethereum?: Eip1193Provider }).ethereum;
}

export type WalletKind = "injected" | "dev";

export interface Connection {
  kind: WalletKind;
  client: PiecepayClient;
  store: IndexedDbChannelStore;
  /** The wallet's address (deposits from it, payouts to it). */
  address: string;
}

/** Whether the page has an injected wallet. */
export function hasInjectedWallet(): boolean {
  return injected() !== undefined;
}

/**
 * Connects the wallet of `kind` on the app's chain and opens its channels' store: one IndexedDB per chain and wallet.
 * `onOutage` hears of the development account's RPC outages (an injected wallet rides out its own).
 */
export async function connectWallet(
  config: AppConfig,
  kind: WalletKind,
  onOutage?: (event: RpcOutageEvent) => void,
): Promise<Connection> {
  const chainId = BigInt(config.chainId);
  const wallet = kind === "dev" ? await devWallet(config, onOutage) : await injectedWallet(config);
  const address = await wallet.getAddress();
  const store = await IndexedDbChannelStore.open(`piecepay-${config.chainId}-${address.toLowerCase()}`);
  const client = await PiecepayClient.create({
    signer: await sessionKey(store),
    wallet,
    chainId,
    adjudicator: config.adjudicator,
    voucherApp: config.voucherApp,
    store,
    // A seeder sees a deposit at the next poll, and a leecher's first paid piece waits for it: once a second (the
    // SDK's default is 4 s), a read through the page's own server.
    pollingIntervalMs: 1000,
    ...(config.confirmations === undefined ? {} : { confirmations: config.confirmations }),
  });
  return { kind, client, store, address };
}

/**
 * The page's development account: a key of its own, kept in this origin's localStorage (test money only, on a
 * development chain), funded by the server's faucet from the node's unlocked account.
 */
async function devWallet(config: AppConfig, onOutage?: (event: RpcOutageEvent) => void): Promise<Wallet> {
  if (!config.devChain) throw new AppError("this chain is not a development chain: connect a wallet.");
  const rpc = new URL(config.rpcPath, document.baseURI).href;
  // The SDK's provider, as the CLI's: an RPC that resets or drops requests for a while (up to 2 min) is retried, and
  // a transaction whose answer was lost is looked up before it is sent again. No cached reads: two deposits sent
  // one after the other would otherwise read the same pending nonce.
  const provider = new RetryingJsonRpcProvider(rpc, BigInt(config.chainId), {
    pollingInterval: 1000,
    ...(onOutage === undefined ? {} : { onOutage }),
  });
  const slot = `piecepay.dev-key.${config.chainId}`;
  const key = localStorage.getItem(slot) ?? Wallet.createRandom().privateKey;
  localStorage.setItem(slot, key);
  const wallet = new Wallet(key, provider);
  const response = await fetch(new URL("faucet", document.baseURI), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ address: wallet.address }),
  }).catch(() => undefined);
  if (response === undefined || !response.ok) {
    const body = (await response?.json().catch(() => undefined)) as { error?: string } | undefined;
    const why = response === undefined ? "the page's server does not answer" : (body?.error ?? response.statusText);
    throw new AppError(`the development faucet failed: ${why}`);
  }
  return wallet;
}

async function injectedWallet(config: AppConfig) {
  const ethereum = injected();
  if (ethereum === undefined) {
    throw new AppError(
      "no wallet found: install a browser wallet such as MetaMask" +
        (config.devChain ? ", or use the development account (test money)." : "."),
    );
  }
  try {
    await ethereum.request({ method: "eth_requestAccounts" });
    await switchChain(ethereum, config);
  } catch (error) {
    throw rejectionError(error, "the connection") ?? error;
  }
  // Another account or chain chosen in the wallet: the page starts again with it (its store is per chain and
  // account), as wallets recommend; what was running resumes from IndexedDB.
  const events = ethereum as Eip1193Provider & { on?: (event: string, listener: () => void) => unknown };
  for (const event of ["accountsChanged", "chainChanged"]) events.on?.(event, () => location.reload());
  return walletFromEip1193(ethereum, { pollingInterval: 1000 });
}

/** Asks the wallet to move to the app's chain, adding it first when the wallet does not know it (EIP-3085). */
async function switchChain(ethereum: Eip1193Provider, config: AppConfig): Promise<void> {
  const wanted = toBeHex(BigInt(config.chainId));
  const current = (await ethereum.request({ method: "eth_chainId" })) as string;
  if (BigInt(current) === BigInt(wanted)) return;
  try {
    await ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: wanted }] });
  } catch (error) {
    if ((error as { code?: number }).code !== 4902) throw error;
    await ethereum.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId: wanted,
          chainName: config.chainName,
          rpcUrls: [config.rpcUrl],
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        },
      ],
    });
  }
  const now = (await ethereum.request({ method: "eth_chainId" })) as string;
  if (BigInt(now) !== BigInt(wanted)) {
    throw new AppError(`your wallet is on chain ${BigInt(now)}; switch it to ${config.chainName} (${config.chainId}).`);
  }
}
