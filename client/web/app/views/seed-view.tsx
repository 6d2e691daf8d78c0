// Seed: drop (or choose) files or a folder, set a price per piece, and get a link to share. The tab seeds while it
// is open.
import { useState } from "preact/hooks";
import type { TokenInfo } from "../config.js";
import { AmountInput, AssetSelect, ETH, parseAmount } from "./amount-input.js";

export function SeedView(props: {
  tokens: TokenInfo[];
  onSeed: (files: File[], pricePerPiece: bigint, asset: string) => Promise<void>;
  onError: (error: unknown) => void;
}) {
  const [files, setFiles] = useState<File[]>([]);
  const [price, setPrice] = useState("0.0001");
  const [asset, setAsset] = useState(ETH);
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);

  const start = async () => {
    setBusy(true);
    try {
      await props.onSeed(files, parseAmount(price, asset, props.tokens, "the price per piece"), asset);
      setFiles([]);
    } catch (error) {
      props.onError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel">
      <h2>Seed</h2>
      <section
        aria-label="Drop files to seed"
        class={over ? "drop over" : "drop"}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          setFiles([...(e.dataTransfer?.files ?? [])]);
        }}
      >
        {files.length === 0 ? "Drop files here, or choose them:" : `${files.length} file(s) chosen`}
        <input
          type="file"
          multiple
          data-testid="seed-files"
          onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])}
        />
        <label class="muted">
          or a folder:{" "}
          <input
            type="file"
            // @ts-expect-error: a non-standard attribute every current browser supports
            webkitdirectory=""
            onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])}
          />
        </label>
      </section>
      <div class="row">
        <AmountInput
          label="Price per piece"
          value={price}
          asset={asset}
          tokens={props.tokens}
          testid="seed-price"
          onInput={setPrice}
        />
        <AssetSelect value={asset} tokens={props.tokens} onChange={setAsset} />
        <button type="button" disabled={busy || files.length === 0} onClick={start} data-testid="seed-start">
          {busy ? "Hashing…" : "Seed"}
        </button>
      </div>
    </section>
  );
}
