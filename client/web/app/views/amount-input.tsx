// An amount field in the asset's units ("0.0001" ETH), and the asset chooser (ETH and the chain's tokens).
import { parseUnits } from "ethers";
import type { TokenInfo } from "../config.js";
import { assetOf } from "../format.js";

export const ETH = "0x0000000000000000000000000000000000000000";

/** `text` in the smallest units of `asset`; a clear error for what is not an amount. */
export function parseAmount(text: string, asset: string, tokens: TokenInfo[], what: string): bigint {
  const { symbol, decimals } = assetOf(asset, tokens);
  try {
    return parseUnits(text.trim(), decimals);
  } catch {
    throw new Error(`${what}: "${text}" is not an amount of ${symbol}`);
  }
}

export function AmountInput(props: {
  label: string;
  value: string;
  asset: string;
  tokens: TokenInfo[];
  testid: string;
  onInput: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <span class="amount">
        <input
          inputMode="decimal"
          value={props.value}
          data-testid={props.testid}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        />
        <span class="muted">{assetOf(props.asset, props.tokens).symbol}</span>
      </span>
    </label>
  );
}

export function AssetSelect(props: { value: string; tokens: TokenInfo[]; onChange: (asset: string) => void }) {
  return (
    <label>
      Paid in
      <select
        value={props.value}
        data-testid="asset"
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value={ETH}>ETH</option>
        {props.tokens.map((t) => (
          <option key={t.address} value={t.address}>
            {t.symbol}
          </option>
        ))}
      </select>
    </label>
  );
}
