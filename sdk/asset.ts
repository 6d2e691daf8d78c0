import { Contract, type Provider, ZeroAddress } from "ethers";
import { checksumAddress as getAddress } from "./address.js";
import { PiecepayError } from "./errors.js";

// The asset a channel pays in, as people read amounts of it: ETH (the zero address) or an ERC-20 token, whose
// symbol and decimals come from the token itself.

const ERC20_METADATA_ABI = [
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function balanceOf(address owner) view returns (uint256)",
];

/** What an amount of an asset is shown in. */
export interface AssetInfo {
  /** The zero address for ETH, else the token's checksummed address. */
  address: string;
  /** "ETH", or the token's symbol (only letters, digits, `.`, `-` and `_` kept, at most 11 characters). */
  symbol: string;
  /** 18 for ETH, else the token's `decimals()`. */
  decimals: number;
}

/**
 * ETH as an asset: the zero address, 18 decimals.
 * @example formatUnits(amount, ETH_ASSET.decimals)
 */
export const ETH_ASSET: AssetInfo = { address: ZeroAddress, symbol: "ETH", decimals: 18 };

/**
 * The symbol and decimals of `asset` (the zero address: ETH), read from the token on chain.
 * @throws PiecepayError `NOT_A_TOKEN` when no contract is at `asset`, or it does not answer `symbol()` and
 *   `decimals()` as an ERC-20 (`decimals` above 77 would overflow any uint256 amount of one token)
 * @example const usdc = await describeAsset(provider, "0xA0b8..."); formatUnits(amount, usdc.decimals)
 */
export async function describeAsset(provider: Provider, asset: string): Promise<AssetInfo> {
  const address = getAddress(asset);
  if (address === ZeroAddress) return ETH_ASSET;
  if ((await provider.getCode(address)) === "0x") {
    throw new PiecepayError("NOT_A_TOKEN", `no contract at ${address}: not an ERC-20 token`);
  }
  const token = new Contract(address, ERC20_METADATA_ABI, provider);
  let symbol: string;
  let decimals: number;
  try {
    [symbol, decimals] = await Promise.all([token.symbol(), token.decimals().then(Number)]);
  } catch (error) {
    throw new PiecepayError("NOT_A_TOKEN", `${address} does not answer symbol() and decimals() as an ERC-20`, {
      cause: error,
    });
  }
  if (!(decimals >= 0 && decimals <= 77)) {
    throw new PiecepayError("NOT_A_TOKEN", `${address} says it has ${decimals} decimals`);
  }
  // A token names itself: keep what a terminal shows plainly (no escape sequences, no look-alike spaces).
  const clean = String(symbol)
    .replace(/[^A-Za-z0-9._-]/g, "")
    .slice(0, 11);
  return { address, symbol: clean || "TOKEN", decimals };
}

/**
 * What `owner` holds of `asset`: its ETH balance for the zero address, else its token balance.
 * @example const held = await assetBalance(provider, token, client.address)
 */
export async function assetBalance(provider: Provider, asset: string, owner: string): Promise<bigint> {
  if (getAddress(asset) === ZeroAddress) return provider.getBalance(owner);
  return new Contract(asset, ERC20_METADATA_ABI, provider).balanceOf(owner);
}
