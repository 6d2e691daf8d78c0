// The flags with which `get` sells what it has verified (`--price`), and keeps doing so after the download (`--seed`):
// their help rows and the usage checks that need no chain. The price of a token is parsed once its decimals are read.
import { DEFAULT_UNCONFIRMED_PIECES } from "../session/seeder.js";
import { type AmountUnit, parseAmount } from "./amounts.js";
import { type CommandValues, UsageError } from "./command.js";

export const SELL_OPTIONS = {
  price: { type: "string" },
  seed: { type: "boolean" },
  "enforce-after": { type: "string" },
  "unconfirmed-pieces": { type: "string" },
} as const;

export const SELL_HELP: [string, string][] = [
  [
    "--price AMOUNT",
    "with --max-price and --budget: sell every piece we have verified at AMOUNT per piece (ETH or --asset units, above 0), ours to set whatever --max-price is",
  ],
  [
    "--seed",
    "after the download, keep selling (with --price) or sharing free (a free get) until Ctrl-C; without it, get leaves once its channels are closed",
  ],
  [
    "--enforce-after S",
    "with --price: seconds a buyer that vanished gets to come back and close before we enforce its voucher (default 30)",
  ],
  [
    "--unconfirmed-pieces N",
    `with --price: pieces sold on a buyer's deposit not yet --confirmations deep (default ${DEFAULT_UNCONFIRMED_PIECES}; 0 waits)`,
  ],
];

/** How `get` sells, from its flags: undefined when it does not (no --price). */
export interface SellFlags {
  /** The price text, parsed by `price(unit)` once the asset's decimals are known. */
  price(unit: AmountUnit): bigint;
  enforceAfterMs: number;
  unconfirmedPieces: number;
}

/**
 * Checks the selling flags against `paying` (--max-price and --budget given). Throws a UsageError for --price in a
 * free get, for --seed in a paid get that does not sell, and for a seller's flag without --price.
 */
export function sellFlags(values: CommandValues, paying: boolean): SellFlags | undefined {
  if (values.price === undefined) {
    for (const flag of ["enforce-after", "unconfirmed-pieces"]) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for selling: give --price too`);
    }
    if (values.seed === true && paying) {
      throw new UsageError(
        "a paid get shares nothing, so --seed alone has nothing to do: give --price AMOUNT to sell what we verified, during the download and after it",
      );
    }
    return undefined;
  }
  if (!paying) {
    throw new UsageError(
      "--price sells the pieces we verify: give --max-price and --budget too (a free get shares what it has for nothing; `piecepay seed --price` sells a file we have)",
    );
  }
  const text = String(values.price);
  const price = (unit: AmountUnit) => parseAmount(text, "--price", unit);
  const enforceAfter = Number(values["enforce-after"] ?? "30");
  if (!(enforceAfter >= 0)) throw new UsageError("--enforce-after must be a number of seconds");
  const raw = values["unconfirmed-pieces"];
  const unconfirmed = raw === undefined ? DEFAULT_UNCONFIRMED_PIECES : Number(raw);
  if (raw !== undefined && (!/^\d+$/.test(String(raw)) || !Number.isSafeInteger(unconfirmed))) {
    throw new UsageError("--unconfirmed-pieces must be a whole number");
  }
  return { price, enforceAfterMs: enforceAfter * 1000, unconfirmedPieces: unconfirmed };
}
