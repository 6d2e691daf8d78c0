// Download: a link's magnet (from the page's URL fragment, or pasted), looked up at once so that its seeders and
// their prices show before anything is paid; then the most to pay per piece and a budget, filled in from the
// cheapest offer until the person edits them.
import { formatUnits } from "ethers";
import { useEffect, useState } from "preact/hooks";
import type { TokenInfo } from "../config.js";
import { assetOf, formatAmount } from "../format.js";
import { infoHashOf, suggestedTerms, type TransferView } from "../web-peer.js";
import { AmountInput, AssetSelect, ETH, parseAmount } from "./amount-input.js";

const MAGNET = /^magnet:\?.*xt=urn:btih:[0-9a-z]{32,40}/i;

export function DownloadView(props: {
  tokens: TokenInfo[];
  magnet: string;
  transfers: TransferView[];
  onLookUp: (magnet: string) => void;
  onDownload: (magnet: string, maxPricePerPiece: bigint, budget: bigint, asset: string) => void;
  onError: (error: unknown) => void;
}) {
  const [magnet, setMagnet] = useState(props.magnet);
  const [maxPrice, setMaxPrice] = useState("0.0001");
  const [budget, setBudget] = useState("0.1");
  const [asset, setAsset] = useState(ETH);
  // Terms the person typed are theirs: the seeders' offers no longer fill them in.
  const [edited, setEdited] = useState(false);
  const link = magnet.trim();
  const preview = props.transfers.find((t) => t.kind === "download" && t.infoHash === infoHashOf(link));
  const looking = preview?.state === "preview";
  const terms = preview && looking ? suggestedTerms(preview, asset) : undefined;

  useEffect(() => {
    if (MAGNET.test(link)) props.onLookUp(link);
  }, [link]);

  useEffect(() => {
    if (edited || !looking || !preview) return;
    // Every offer in one other asset (a token): pay in it.
    const assets = new Set(preview.peers.flatMap((p) => (p.asset && !p.unusable ? [p.asset.toLowerCase()] : [])));
    if (assets.size === 1 && !assets.has(asset.toLowerCase())) setAsset([...assets][0]);
    if (terms === undefined) return;
    const { decimals } = assetOf(asset, props.tokens);
    setMaxPrice(formatUnits(terms.maxPricePerPiece, decimals));
    setBudget(formatUnits(terms.budget, decimals));
  }, [preview, edited, asset]);

  const edit = (set: (value: string) => void) => (value: string) => {
    setEdited(true);
    set(value);
  };

  const start = () => {
    try {
      props.onDownload(
        link,
        parseAmount(maxPrice, asset, props.tokens, "the maximum price per piece"),
        parseAmount(budget, asset, props.tokens, "the budget"),
        asset,
      );
    } catch (error) {
      props.onError(error);
    }
  };

  const amount = (value: bigint) => formatAmount(value, asset, props.tokens);
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
      {looking && (
        <p class="muted" data-testid="offers" data-seeders={terms?.seeders ?? 0}>
          {terms === undefined
            ? "Looking for seeders and their prices…"
            : `${terms.seeders} seeder${terms.seeders === 1 ? "" : "s"} ask ${
                terms.dearest === terms.maxPricePerPiece
                  ? amount(terms.maxPricePerPiece)
                  : `${amount(terms.maxPricePerPiece)} to ${amount(terms.dearest)}`
              } per piece; the whole file (${preview.pieces} pieces) costs ${amount(
                BigInt(preview.pieces) * terms.maxPricePerPiece,
              )} at the cheapest. Filled in: the cheapest price (raise it to use dearer seeders too), and a deposit of the whole file for each seeder at that price; what is not spent comes back when its channel closes.`}
        </p>
      )}
      <div class="row">
        <AmountInput
          label="At most per piece"
          value={maxPrice}
          asset={asset}
          tokens={props.tokens}
          testid="max-price"
          onInput={edit(setMaxPrice)}
        />
        <AmountInput
          label="Budget"
          value={budget}
          asset={asset}
          tokens={props.tokens}
          testid="budget"
          onInput={edit(setBudget)}
        />
        <AssetSelect
          value={asset}
          tokens={props.tokens}
          onChange={(value) => {
            setEdited(true);
            setAsset(value);
          }}
        />
        <button type="button" disabled={link === ""} onClick={start} data-testid="download-start">
          Download
        </button>
      </div>
    </section>
  );
}
