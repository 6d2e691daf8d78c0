// How the page writes amounts, sizes and durations.
import { formatUnits } from "ethers";
import type { TokenInfo } from "./config.js";

const ZERO = "0x0000000000000000000000000000000000000000";

/** The asset's symbol and decimals: ETH for the zero address, else the token's, else the address itself. */
export function assetOf(asset: string, tokens: TokenInfo[]): { symbol: string; decimals: number } {
  if (asset.toLowerCase() === ZERO) return { symbol: "ETH", decimals: 18 };
  const token = tokens.find((t) => t.address.toLowerCase() === asset.toLowerCase());
  return token ?? { symbol: `${asset.slice(0, 8)}…`, decimals: 0 };
}

/**
 * `amount` of `asset` with its symbol, without trailing zeros ("0.0001 ETH"); with `digits`, rounded down to that
 * many decimals (a balance: "99.9851 ETH").
 */
export function formatAmount(amount: bigint, asset: string, tokens: TokenInfo[], digits?: number): string {
  const { symbol, decimals } = assetOf(asset, tokens);
  let text = formatUnits(amount, decimals);
  if (digits !== undefined) {
    const [whole, fraction = ""] = text.split(".");
    text = `${whole}.${fraction.slice(0, digits)}`;
  }
  // formatUnits always writes a decimal point ("100.0"), so only a fraction's zeros go.
  return `${text.replace(/\.?0+$/, "")} ${symbol}`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Seconds as "1 h 2 min", "3 min 4 s", "5 s"; "-" for an unknown or endless time. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  const s = Math.round(ms / 1000);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

export function shortHex(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}
