// The chain check every signature and transaction depends on, with its last verdict. A check is an RPC round trip
// (a wallet's eth_chainId): an action makes it once when it starts (`withChainChecked`), and `pay`, which sends
// nothing and must not stall on a dead RPC, only looks at the last verdict and refreshes it in the background.
import { isError, JsonRpcApiProvider, type Provider } from "ethers";
import { PiecepayError, WrongChainError } from "../errors.js";
import { RetryingJsonRpcProvider } from "../rpc-retry.js";

export class ChainGuard {
  readonly #provider: () => Provider;
  readonly #expected: bigint;
  /** What answers the checks, for messages: "wallet", or "RPC" for a client without one. */
  readonly #what: string;
  readonly #intervalMs: number;
  /** When the chain id was last seen to be ours; a chain seen to be another, until a check says ours again. */
  #checkedAt = 0;
  #wrongChain: PiecepayError | undefined;
  #background: Promise<void> | undefined;

  constructor(provider: () => Provider, expected: bigint, what: string, intervalMs: number) {
    this.#provider = provider;
    this.#expected = expected;
    this.#what = what;
    this.#intervalMs = intervalMs;
  }

  /** Asks the wallet (or RPC) for its chain id: throws WRONG_CHAIN (a `WrongChainError`) or RPC_UNAVAILABLE. */
  async assert(): Promise<void> {
    try {
      await this.#check();
      this.#wrongChain = undefined;
      this.#checkedAt = Date.now();
    } catch (error) {
      if (error instanceof PiecepayError && error.code === "WRONG_CHAIN") this.#wrongChain = error;
      throw error;
    }
  }

  /**
   * The check of a step that sends nothing: throws if the last check saw another chain; when that check is older
   * than the interval, starts a new one in the background (the next call sees its verdict).
   */
  assertRecently(): void {
    if (this.#wrongChain) throw this.#wrongChain;
    if (Date.now() - this.#checkedAt <= this.#intervalMs) return;
    this.#background ??= this.assert()
      .catch(() => undefined) // an RPC outage: the next call tries again
      .finally(() => {
        this.#background = undefined;
      });
  }

  async #check(): Promise<void> {
    const provider = this.#provider();
    // A RetryingJsonRpcProvider knows its chain statically (no round trip in getNetwork): ask it to look.
    let chainId: bigint;
    try {
      if (provider instanceof RetryingJsonRpcProvider) {
        await provider.checkChain();
        chainId = provider.expectedChainId;
      } else ({ chainId } = await provider.getNetwork());
    } catch (error) {
      if (error instanceof PiecepayError) throw error;
      // ethers throws NETWORK_ERROR ("network changed") when the RPC's chain id differs from the one it saw first
      // (a wallet whose user switched networks): ask the provider for the chain it is on now.
      if (isError(error, "NETWORK_ERROR")) {
        const now =
          provider instanceof JsonRpcApiProvider ? await provider.send("eth_chainId", []).catch(() => null) : null;
        if (now === null) {
          const why = `the ${this.#what}'s chain changed under us: refusing to sign or send`;
          throw new PiecepayError("WRONG_CHAIN", why, { cause: error });
        }
        throw new WrongChainError(this.#expected, BigInt(now), `the ${this.#what}`, { cause: error });
      }
      throw new PiecepayError("RPC_UNAVAILABLE", `the ${this.#what} did not tell its chain id`, { cause: error });
    }
    if (chainId !== this.#expected) throw new WrongChainError(this.#expected, chainId, `the ${this.#what}`);
  }
}
