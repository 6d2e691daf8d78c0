// Amounts typed on the command line (--price, --max-price, --budget): decimal numbers of the payment asset (ETH, or
// a token in its own decimals), checked for what a user gets wrong, each with a message that says what is wrong.
import { MaxUint256, parseUnits } from "ethers";
import { UsageError } from "./cli-errors.js";

/** The unit an amount is typed and shown in: ETH (18 decimals) or an ERC-20 token's symbol and decimals. */
export interface AmountUnit {
  symbol: string;
  decimals: number;
}

export const ETH: AmountUnit = { symbol: "ETH", decimals: 18 };

/**
 * `value` (e.g. "0.001") in the smallest unit of `unit` (wei for ETH).
 * @throws UsageError naming `flag` when it is not a number, is negative or 0, has more decimals than the unit, or
 *   exceeds 2^256-1 of the smallest unit (no chain could hold or pay it)
 * @example parseAmount("0.001", "--price") // 10n ** 15n
 */
export function parseAmount(value: string, flag: string, unit: AmountUnit = ETH): bigint {
  const text = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) {
    throw new UsageError(`${flag} ${value} is not an amount of ${unit.symbol} (e.g. ${flag} 0.001)`);
  }
  if (text.startsWith("-") && /[1-9]/.test(text)) {
    throw new UsageError(`${flag} ${value} is negative: it must be above 0 ${unit.symbol}`);
  }
  const unsigned = text.replace(/^[+-]/, "");
  const fraction = unsigned.split(".")[1] ?? "";
  if (fraction.replace(/0+$/, "").length > unit.decimals) {
    throw new UsageError(
      `${flag} ${value} has more than ${unit.decimals} decimals: ${unit.symbol} has no smaller unit`,
    );
  }
  let parsed: bigint;
  try {
    parsed = parseUnits(unsigned.replace(/\.$/, ""), unit.decimals);
  } catch {
    parsed = MaxUint256 + 1n; // a well-formed number too long even for ethers' 512-bit parser
  }
  if (parsed === 0n) throw new UsageError(`${flag} must be above 0 ${unit.symbol}, not ${value}`);
  if (parsed > MaxUint256) {
    throw new UsageError(
      `${flag} ${value} is more than any chain can hold: the most is 2^256-1 of the smallest unit (${shorten(MaxUint256, unit)} ${unit.symbol})`,
    );
  }
  return parsed;
}

/** 2^256-1 in whole units, in scientific notation: about 1.16e59 ETH. */
function shorten(amount: bigint, unit: AmountUnit): string {
  const whole = amount / 10n ** BigInt(unit.decimals);
  const digits = whole.toString();
  return digits.length <= 6 ? digits : `about ${digits[0]}.${digits.slice(1, 3)}e${digits.length - 1}`;
}
