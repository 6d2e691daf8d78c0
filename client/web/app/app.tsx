// The page: wallet, seed, download (from the link's magnet), the transfers, and the channels panel. Errors show as
// one sentence a person can act on (errors.ts).
import { useEffect, useMemo, useState } from "preact/hooks";
import type { RpcOutageEvent } from "../../../sdk/index.js";
import { autoWithdrawSetting, defendChannels } from "./channels.js";
import type { AppConfig } from "./config.js";
import { explain } from "./errors.js";
import { saveFile } from "./save-file.js";
import { ChannelsPanel } from "./views/channels-panel.js";
import { DownloadView } from "./views/download-view.js";
import { Player } from "./views/player.js";
import { SeedView } from "./views/seed-view.js";
import { TransferCard } from "./views/transfer-card.js";
import { WalletBar } from "./views/wallet-bar.js";
import { type Connection, connectWallet, type WalletKind } from "./wallet.js";
import { type TransferView, WebPeer } from "./web-peer.js";

const WALLET_CHOICE = "piecepay.wallet";

type Tab = "download" | "seed" | "channels";

/** What the page says while the chain does not answer; nothing once it answers again. */
function outageLine(event: RpcOutageEvent): string | undefined {
  if (event.kind !== "retrying") return undefined;
  return (
    `the chain does not answer (${event.reason}) for ${Math.round(event.downForMs / 1000)} s: trying again for up ` +
    `to ${Math.round(event.patienceMs / 1000)} s. Your channels and vouchers are kept; the download goes on.`
  );
}

/** The magnet of the page's URL fragment (`/#magnet:?…`), if any. */
export function magnetOfLocation(): string {
  const hash = decodeURIComponent(location.hash.slice(1));
  return hash.startsWith("magnet:") ? hash : "";
}

export function App(props: { config: AppConfig }) {
  const { config } = props;
  const [connection, setConnection] = useState<Connection | undefined>(undefined);
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tab, setTab] = useState<Tab>(magnetOfLocation() === "" ? "seed" : "download");
  const [transfers, setTransfers] = useState<TransferView[]>([]);
  const [events, setEvents] = useState<string[]>([]);
  const [playing, setPlaying] = useState<{ infoHash: string; path: string } | undefined>(undefined);
  const [autoWithdraw, setAutoWithdraw] = useState(autoWithdrawSetting.get());
  const [outage, setOutage] = useState<string | undefined>(undefined);
  const peer = useMemo(() => connection && new WebPeer(connection.client, config), [connection, config]);
  const fail = (e: unknown) => setError(explain(e));

  const connect = async (kind: WalletKind) => {
    setConnecting(true);
    setError(undefined);
    try {
      setConnection(await connectWallet(config, kind, (event) => setOutage(outageLine(event))));
      localStorage.setItem(WALLET_CHOICE, kind);
    } catch (e) {
      fail(e);
    } finally {
      setConnecting(false);
    }
  };

  // A link opened in this tab (only the fragment changes: no reload) goes to the download form with its magnet.
  const [linkCount, setLinkCount] = useState(0);
  useEffect(() => {
    const onHash = () => {
      if (magnetOfLocation() === "") return;
      setTab("download");
      setLinkCount((n) => n + 1);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  // A reload reconnects the wallet chosen before, so that unfinished downloads resume.
  useEffect(() => {
    const kind = localStorage.getItem(WALLET_CHOICE) as WalletKind | null;
    if (kind === "dev" || kind === "injected") void connect(kind);
  }, []);

  useEffect(() => {
    if (peer === undefined) return;
    (window as { piecepay?: unknown }).piecepay = { peer };
    const refresh = () => setTransfers(peer.transfers());
    const off = peer.onChange(refresh);
    const timer = setInterval(refresh, 500);
    try {
      peer.resumeSaved();
    } catch (e) {
      fail(e);
    }
    return () => {
      off();
      clearInterval(timer);
      void peer.destroy();
    };
  }, [peer]);

  // The watcher runs while the page is open; the person's withdraw switch restarts it with the new choice.
  useEffect(() => {
    if (peer === undefined) return;
    const stop = defendChannels(peer.client, (event) => setEvents((list) => [...list.slice(-4), event]), autoWithdraw);
    return () => void stop();
  }, [peer, autoWithdraw]);

  const download = (magnet: string, maxPricePerPiece: bigint, budget: bigint, asset: string) => {
    if (peer === undefined) throw new Error("connect a wallet first");
    peer.download(magnet, { maxPricePerPiece, budget, asset });
    setError(undefined);
  };

  return (
    <main>
      <header class="top">
        <h1>
          piecepay <span class="muted">paid file sharing</span>
        </h1>
        <WalletBar config={config} connection={connection} connecting={connecting} onConnect={connect} />
      </header>
      {error !== undefined && (
        <div class="error" role="alert" data-testid="error">
          {error}
          <button type="button" class="link" onClick={() => setError(undefined)}>
            dismiss
          </button>
        </div>
      )}
      {outage !== undefined && (
        <div class="warning" role="status" data-testid="rpc-outage">
          {outage}
        </div>
      )}
      <nav>
        {(["seed", "download", "channels"] as const).map((t) => (
          <button
            key={t}
            type="button"
            class={tab === t ? "tab active" : "tab"}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {t[0].toUpperCase() + t.slice(1)}
          </button>
        ))}
      </nav>
      {connection === undefined || peer === undefined ? (
        <p class="panel muted">Connect a wallet to seed or download.</p>
      ) : (
        <>
          {tab === "seed" && (
            <SeedView
              tokens={config.tokens}
              onError={fail}
              onSeed={async (files, pricePerPiece, asset) => {
                await peer.seed(files, { pricePerPiece, asset });
                setError(undefined);
              }}
            />
          )}
          {tab === "download" && (
            <DownloadView
              key={linkCount}
              tokens={config.tokens}
              magnet={magnetOfLocation()}
              transfers={transfers}
              onLookUp={(magnet) => {
                try {
                  peer.preview(magnet);
                } catch (e) {
                  fail(e);
                }
              }}
              onDownload={download}
              onError={fail}
            />
          )}
          {tab === "channels" && (
            <ChannelsPanel
              client={connection.client}
              tokens={config.tokens}
              onError={fail}
              autoWithdraw={autoWithdraw}
              onAutoWithdraw={(on) => {
                autoWithdrawSetting.set(on);
                setAutoWithdraw(on);
              }}
            />
          )}
          {tab !== "channels" &&
            transfers
              .filter((t) => (tab === "seed" ? t.kind === "seed" : t.kind === "download"))
              .map((t) => (
                <div key={t.infoHash}>
                  <TransferCard
                    transfer={t}
                    tokens={config.tokens}
                    onSave={(file) => saveFile(peer, t.infoHash, file.path).catch(fail)}
                    onPlay={(file) => setPlaying({ infoHash: t.infoHash, path: file.path })}
                  />
                  {playing?.infoHash === t.infoHash && (
                    <Player
                      key={playing.path}
                      peer={peer}
                      infoHash={t.infoHash}
                      path={playing.path}
                      onClose={() => setPlaying(undefined)}
                    />
                  )}
                </div>
              ))}
          {events.length > 0 && (
            <ul class="notes" data-testid="watcher">
              {events.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </main>
  );
}
