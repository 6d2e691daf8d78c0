// A client's two accounts apart: the wallet (an EIP-1193 wallet such as MetaMask, or any ethers Signer) sends the
// transactions and receives every payout and refund; the session key, made here and kept in the channel store, is
// the channel's participant and signs states and vouchers without a prompt. See docs/adr/0012-wallet-and-session-key.md.
import {
  BrowserProvider,
  type BrowserProviderOptions,
  type Eip1193Provider,
  hexlify,
  isError,
  type JsonRpcSigner,
  type Provider,
  randomBytes,
  SigningKey,
  Wallet,
} from "ethers";
import { PiecepayError } from "./errors.js";
import type { ChannelStore } from "./store/types.js";

/**
 * The name under which `sessionKey` keeps its key in a store's secrets.
 * @example const exists = (await store.getSecret(SESSION_KEY_SECRET)) !== undefined
 */
export const SESSION_KEY_SECRET = "session-key";

/**
 * The store's session key, made on first use from 32 secure random bytes and kept in the store, so that a reload or
 * a restart signs as the same participant. Two tabs or processes making one at once end up with the same key. It
 * needs no ETH: pass it as the client's `signer`, and the wallet as `wallet`. Never log it.
 * @example const signer = await sessionKey(store) // then PiecepayClient.create({ signer, wallet, store, ... })
 */
export async function sessionKey(store: ChannelStore, provider?: Provider | null): Promise<Wallet> {
  const key = (await store.getSecret(SESSION_KEY_SECRET)) ?? (await store.keepSecret(SESSION_KEY_SECRET, newKey()));
  return new Wallet(key, provider);
}

/** 32 random bytes that are a valid secp256k1 private key (0 and the group order's multiples are not). */
function newKey(): string {
  for (;;) {
    const key = hexlify(randomBytes(32));
    try {
      void new SigningKey(key).publicKey;
      return key;
    } catch {
      // about 2^-128 likely: draw again
    }
  }
}

/**
 * A wallet from an EIP-1193 provider (`window.ethereum`, an EIP-6963 provider, or any object with `request`),
 * through ethers' `BrowserProvider`: asks for its account (the wallet's prompt) and returns the signer that sends
 * the client's transactions. No private key is ever in the page.
 * @throws PiecepayError USER_REJECTED when the user refuses to connect
 * @example const wallet = await walletFromEip1193(window.ethereum)
 */
export async function walletFromEip1193(
  ethereum: Eip1193Provider,
  options: BrowserProviderOptions & { account?: string | number } = {},
): Promise<JsonRpcSigner> {
  const { account, ...providerOptions } = options;
  const provider = new BrowserProvider(ethereum, undefined, providerOptions);
  try {
    return await provider.getSigner(account);
  } catch (error) {
    throw rejectionError(error, "the connection") ?? error;
  }
}

/**
 * USER_REJECTED when `error` says the wallet's user refused (ethers' ACTION_REJECTED, or EIP-1193 code 4001
 * anywhere in its causes); otherwise undefined.
 * @example throw rejectionError(error, "the deposit") ?? error
 */
export function rejectionError(error: unknown, what: string): PiecepayError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    if (current instanceof PiecepayError) return current.code === "USER_REJECTED" ? current : undefined;
    if (isError(current, "ACTION_REJECTED") || (current as { code?: unknown }).code === 4001) {
      return new PiecepayError("USER_REJECTED", `the wallet's user rejected ${what}: nothing was sent`, {
        cause: error,
      });
    }
    const next = current as { info?: { error?: unknown }; error?: unknown; cause?: unknown };
    current = next.info?.error ?? next.error ?? next.cause;
  }
  return undefined;
}
