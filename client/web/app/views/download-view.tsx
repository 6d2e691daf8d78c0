// Download: a link's magnet (from the page's URL fragment, or pasted), the most to pay per piece and a budget.
import { useState } from "preact/hooks";
import type { TokenInfo } from "../config.js";
import { AmountInput, AssetSelect, ETH, parseAmount } from "./amount-input.js";

export function DownloadView(props: {
  tokens: TokenInfo[];
  magnet: string;
  onDownload: (magnet: string, maxPricePerPiece: bigint, budget: bigint, asset: string) => void;
  onError: (error: unknown) => void;
}) {
  const [magnet, setMagnet] = useState(props.magnet);
  const [maxPrice, setMaxPrice] = useState("0.0001");
  const [budget, setBudget] = useState("0.1");
  const [asset, setAsset] = useState(ETH);

  const start = () => {
    try {
      props.onDownload(
        magnet.trim(),
        parseAmount(maxPrice, asset, props.tokens, "the maximum price per piece"),
        parseAmount(budget, asset, props.tokens, "the budget"),
        asset,
      );
    } catch (error) {
      props.onError(error);
    }
  };

  return (
    <section class="panel">
      <h2>Download</h2>
      <label>
        Magnet link
        <input
          value={magnet}
          placeholder="magnet:?xt=urn:btih:…"
          data-testid="magnet"
          onInput={(e) => setMagnet((e.target as HTMLInputElement).value)}
        />
      </label>
      <div class="row">
        <AmountInput
          label="At most per piece"
          value={maxPrice}
          asset={asset}
          tokens={props.tokens}
          testid="max-price"
          onInput={setMaxPrice}
        />
        <AmountInput
          label="Budget"
          value={budget}
          asset={asset}
          tokens={props.tokens}
          testid="budget"
          onInput={setBudget}
        />
        <AssetSelect value={asset} tokens={props.tokens} onChange={setAsset} />
        <button type="button" disabled={magnet.trim() === ""} onClick={start} data-testid="download-start">
          Download
        </button>
      </div>
    </section>
  );
}
