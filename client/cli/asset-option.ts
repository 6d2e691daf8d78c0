// --asset: the ERC-20 token a seeder is paid in and a leecher pays in (ETH when absent). Amounts on the command line
// and in the output are in the token's own units (its decimals and symbol, read from the token).
import { type AssetInfo, describeAsset, ETH_ASSET, PiecepayError } from "../../sdk/index.js";
import { CliError, type CommandValues, UsageError } from "./command.js";
import { explainError } from "./errors.js";

export const ASSET_OPTIONS = { asset: { type: "string" } } as const;

export const ASSET_HELP: [string, string] = [
  "--asset ADDRESS",
  "the ERC-20 token to pay in (default: ETH); amounts are then in that token, with its decimals and symbol",
];

/** --asset as an address, checked before anything connects; undefined for ETH. */
export function assetOption(values: CommandValues): string | undefined {
  const raw = values.asset;
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(raw)) {
    throw new UsageError(
      `--asset ${raw} is not a token address (0x and 40 hex digits)`,
      "give the ERC-20 token's contract address, or leave --asset out to pay in ETH",
    );
  }
  return raw;
}

/**
 * The asset's symbol and decimals from the chain (ETH when `address` is undefined).
 * @throws CliError when no ERC-20 token answers at `address`
 */
export async function resolveAsset(
  provider: Parameters<typeof describeAsset>[0],
  address: string | undefined,
): Promise<AssetInfo> {
  if (address === undefined) return ETH_ASSET;
  try {
    return await describeAsset(provider, address);
  } catch (error) {
    if (error instanceof PiecepayError && error.code === "NOT_A_TOKEN") {
      throw new CliError(`--asset ${address}: ${error.shortMessage}`, "check the token's address and --rpc's chain");
    }
    const { message, hint } = explainError(error);
    throw new CliError(`could not read the token at ${address}: ${message}`, hint);
  }
}
