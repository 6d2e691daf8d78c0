// One seed or download: progress, speed, time left, each peer (browser or Node, its price, what was paid), the
// total paid or earned, what happened, and the files (save to disk; play media while it downloads).
import { useState } from "preact/hooks";
import type { TokenInfo } from "../config.js";
import { formatAmount, formatBytes, formatDuration, shortHex } from "../format.js";
import type { FileView, TransferView } from "../web-peer.js";

export function TransferCard(props: {
  transfer: TransferView;
  tokens: TokenInfo[];
  onSave: (file: FileView) => void;
  onPlay?: (file: FileView) => void;
}) {
  const { transfer: t, tokens } = props;
  const [copied, setCopied] = useState(false);
  const amount = (value: bigint, asset = t.asset) => formatAmount(value, asset, tokens);
  const preview = t.state === "preview";
  const percent = (t.progress * 100).toFixed(1);
  return (
    <article class="transfer" data-testid="transfer" data-kind={t.kind} data-infohash={t.infoHash} data-state={t.state}>
      <header>
        <strong>{t.name}</strong>
        <span class="muted">
          {formatBytes(t.length)} · {t.pieces} pieces ·{" "}
          {t.kind === "seed" ? "seeding" : preview ? "not started: nothing asked for or paid yet" : t.state}
        </span>
      </header>
      <div class="progress" title={`${percent}%`}>
        <div style={{ width: `${percent}%` }} />
      </div>
      <p class="stats" data-testid="stats" data-have={t.have} data-pieces={t.pieces}>
        {percent}% · {t.have}/{t.pieces} pieces · ↓ {formatBytes(t.downloadSpeed)}/s · ↑ {formatBytes(t.uploadSpeed)}/s
        {t.kind === "download" && !t.done && <> · {formatDuration(t.timeRemaining)} left</>}
      </p>
      <p>
        {t.kind === "seed" ? (
          <>
            Price {amount(t.price)} per piece · earned{" "}
            <b data-testid="total" data-wei={String(t.total)}>
              {amount(t.total)}
            </b>{" "}
            in vouchers
          </>
        ) : preview ? (
          <>
            Paid{" "}
            <b data-testid="total" data-wei="0">
              nothing
            </b>
            : choose the most to pay per piece and a budget, then Download.
          </>
        ) : (
          <>
            At most {amount(t.price)} per piece, budget {amount(t.budget ?? 0n)} · paid{" "}
            <b data-testid="total" data-wei={String(t.total)}>
              {amount(t.total)}
            </b>
          </>
        )}
      </p>
      {t.kind === "seed" && (
        <p class="share">
          <input readOnly value={t.link} data-testid="share-link" onFocus={(e) => e.currentTarget.select()} />
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              await navigator.clipboard?.writeText(t.link).catch(() => undefined);
              setCopied(true);
            }}
          >
            {copied ? "Copied" : "Copy link"}
          </button>
        </p>
      )}
      {t.peers.length > 0 && (
        <table class="peers">
          <thead>
            <tr>
              <th>Peer</th>
              <th>Runs in</th>
              <th>Price / piece</th>
              <th>{t.kind === "seed" ? "Paid us" : "We paid"}</th>
              <th>Pieces</th>
            </tr>
          </thead>
          <tbody>
            {t.peers.map((p) => (
              <tr
                key={p.address}
                data-testid="peer"
                data-agent={p.agent}
                data-pieces={p.pieces}
                data-paid={String(p.paid)}
                data-price={p.price === undefined ? undefined : String(p.price)}
                data-gone={p.gone ? "yes" : undefined}
                title={p.unusable}
              >
                <td>
                  <code>{shortHex(p.address)}</code> <span class="muted">{p.transport}</span>
                </td>
                <td>{p.agent}</td>
                <td>
                  {p.price === undefined ? "free" : amount(p.price, p.asset)}
                  {p.unusable && <span class="muted"> (not usable: {p.unusable})</span>}
                </td>
                <td>{amount(p.paid)}</td>
                <td>{p.pieces}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {t.notes.length > 0 && (
        <ul class="notes" data-testid="notes">
          {t.notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      )}
      {t.files.length > 0 && (
        <ul class="files">
          {t.files.map((f) => (
            <li key={f.path}>
              {f.path} <span class="muted">{formatBytes(f.length)}</span>{" "}
              {t.done && (
                <button type="button" class="link" onClick={() => props.onSave(f)} data-testid="save">
                  Save
                </button>
              )}
              {f.playable && props.onPlay && !preview && (
                <button type="button" class="link" onClick={() => props.onPlay?.(f)} data-testid="play">
                  Play
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
