// `piecepay get <magnet|.torrent> --max-price ETH --budget ETH --out DIR`: downloads, paying each seeder per piece
// through a voucher channel inside a growing credit window, then closes every channel at what it delivered.
import { existsSync, readFileSync } from "node:fs";
import { formatEther, ZeroAddress } from "ethers";
import { type AssetInfo, assetBalance, PiecepayError } from "../../../sdk/index.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import type { HubAccount } from "../../session/hub-route.js";
import { DEFAULT_MAX_WINDOW, type LeecherRefusal, PaidLeecher } from "../../session/leecher.js";
import { type AmountUnit, ETH, parseAmount } from "../amounts.js";
import { ASSET_HELP, ASSET_OPTIONS, assetOption, resolveAsset } from "../asset-option.js";
import { CliError, type Command, interruptedExitCode, intOption, UsageError } from "../command.js";
import { type Connected, connectClient } from "../context.js";
import { DISCOVERY_HELP, DISCOVERY_OPTIONS, discoveryOptions } from "../discovery.js";
import { explainError, explainText, FUND_HINT } from "../errors.js";
import { freeGet } from "../free-get.js";
import { connectHubOrDirect, leecherLedger } from "../hub-account.js";
import { keepSeeding } from "../keep-seeding.js";
import { formatAmount, type Output } from "../output.js";
import { resolvePeers } from "../peer-addresses.js";
import { PEER_LIMIT_HELP, PEER_LIMIT_OPTIONS, peerLimits } from "../peer-limits.js";
import { destroyTorrentClient, listeningPort } from "../ports.js";
import { RefusedSeeders } from "../refused-seeders.js";
import { SELL_HELP, SELL_OPTIONS, sellFlags } from "../sell-options.js";
import { type Selling, startSelling } from "../selling.js";
import { printTrades, tradesOnChain } from "../trade-summary.js";
import { assertWebSocketTracker, loadNodeWebRtc, WEBRTC_HELP, WEBRTC_OPTIONS } from "../webrtc.js";

export const get: Command = {
  name: "get",
  summary: "download a torrent, free or paying each seeder per piece (--price: and sell what we verify), then settle",
  usage:
    "get <magnet|file.torrent> [--out DIR] [--peer HOST:PORT]... [--announce URL]... [--webrtc] [--port N] [--upload-limit KiB/s] [--seed] [--max-price AMOUNT --budget AMOUNT [--asset TOKEN] [--hub URL] [--price AMOUNT [--enforce-after S] [--unconfirmed-pieces N]] (--keystore PATH | --key HEX)]",
  description: [
    "Downloads a torrent. Without --max-price and --budget it is a plain BitTorrent download, as webtorrent-cli does",
    "it: no key, no chain and no price are needed; free peers serve us and we share what we have, as BitTorrent",
    "peers do; a paid seeder met on the way is named once with its price and skipped. With --seed we keep sharing",
    "after the download, until Ctrl-C.",
    "",
    "With them, each seeder that charges at most --max-price per piece gets a voucher channel with a",
    "deposit from --budget (the most this command ever deposits in all); vouchers are paid ahead of requests",
    "inside a credit window that starts at 2 pieces and doubles with each verified piece (at most --max-window), so at most",
    "one window is ever at risk per seeder. A piece counts only once its hash verifies; a seeder whose piece fails",
    "is not paid for it and is dropped, and banned at its second such piece. At the end every channel is closed",
    "at what its seeder delivered and the rest of the deposit comes back. Free peers serve us as in plain BitTorrent",
    "(--prefer fast, the default, downloads from them and the paid seeders side by side; --prefer free pays only for",
    "pieces that no free peer unchoking us has);",
    "without --price we share nothing with anyone, during the download or after.",
    "",
    "With --price we also sell every piece we have verified, at that price, to any peer that pays (a voucher channel",
    "as with `piecepay seed`), during the download and, with --seed, after it until Ctrl-C. The price is ours to set:",
    "above --max-price is allowed. Our address is printed first (`peers: 127.0.0.1:PORT`). When we stop (the download",
    "done without --seed, or Ctrl-C with it), each buyer is told we leave and closes at what we delivered; a channel",
    "still open after 30 s is named with its vouchers: `piecepay withdraw --force` enforces them. The summary gives,",
    "per peer, what we paid it and what it paid us on chain (payout events), the net, and the totals. A watcher",
    "answers stale challenges on our channels meanwhile, and the sell channels of an earlier run still open are",
    "enforced after --enforce-after seconds, as `seed` does.",
    "",
    "Before anything is sent, the account must hold at least one piece at --max-price plus the gas of a deposit:",
    "otherwise get stops at once and says what the account holds. Each deposit is recorded in <data-dir> before it",
    "is sent; one that confirms after the download finished (free peers were faster) is closed like the others, and",
    "whatever get could not close is left to `piecepay withdraw`. What the summary calls paid is what the chain paid",
    "each seeder, read from the adjudicator's payout events once the close has --confirmations blocks on top.",
    "",
    "Amounts are in ETH, or with --asset in that ERC-20 token (its decimals and symbol, read from the token); each",
    "deposit in a token is approved first (one approve per deposit, ETH for gas still needed), and only seeders",
    "paid in the same asset are used.",
    "",
    "Interrupted during the download (Ctrl-C: exit code 130; SIGTERM: 143), get records what it sent, closes its store",
    "and files, and leaves the channels it pays on open (its buyers, with --price, are told to close first). The same",
    "command again (same --out and --data-dir) keeps every verified piece on disk, continues each seeder's open",
    "channel for the torrent instead of depositing again, and pays each piece once. After the download, Ctrl-C is how",
    "--seed ends: exit code 0.",
    "",
    "With --hub URL (what `piecepay hub` prints) we pay through that hub: one deposit, into a ledger channel with it",
    "(from --budget, once: a later get reuses the ledger while it has a free balance), then no transaction at all.",
    "A seeder whose offer names the hub is paid per piece over a virtual channel that our ledger and its ledger",
    "guarantee, with the same vouchers and credit window; the hub takes its fee (printed) on what we pay, and",
    "--max-price bounds the price plus that fee. A seeder that names no hub, or whose price plus the fee is above",
    "--max-price, is paid over a direct channel as without --hub, and so is every seeder when the hub cannot be",
    "reached (a note says so). At the end each virtual channel closes at what its seeder delivered and the hub",
    "settles it into both ledgers; `piecepay withdraw --hub URL` takes the rest out.",
    "",
    "With --webrtc we also download from WebRTC peers (browsers, and Node seeders started with `seed --webrtc`) that",
    "the torrent's ws:// or wss:// trackers (or those given with --announce) introduce, paying them the same way;",
    "TCP peers are used as before. Without a WebSocket tracker, --webrtc is refused.",
  ].join("\n"),
  positionals: true,
  options: {
    ...PEER_LIMIT_OPTIONS,
    ...DISCOVERY_OPTIONS,
    ...ASSET_OPTIONS,
    ...WEBRTC_OPTIONS,
    "max-price": { type: "string" },
    budget: { type: "string" },
    out: { type: "string" },
    peer: { type: "string", multiple: true },
    announce: { type: "string", multiple: true },
    timeout: { type: "string" },
    "max-window": { type: "string" },
    prefer: { type: "string" },
    port: { type: "string" },
    "upload-limit": { type: "string" },
    hub: { type: "string" },
    ...SELL_OPTIONS,
  },
  optionHelp: [
    [
      "--max-price AMOUNT",
      "to pay seeders: the most we pay per piece; a dearer seeder is named with its price, not used",
    ],
    ["--budget AMOUNT", "to pay seeders: the most we deposit in all channels together (through a hub: fees included)"],
    [
      "--hub URL",
      "pay seeders that name this hub through it: one ledger deposit, then no transaction per seeder (others directly)",
    ],
    ASSET_HELP,
    ["--out DIR", "where the files go (default: the current directory)"],
    [
      "--peer HOST:PORT",
      "a peer to connect to directly (repeatable; e.g. what `piecepay seed` prints); when these are the only source and all are refused, get stops",
    ],
    [
      "--announce URL",
      "a tracker to ask for peers, besides the torrent's own (repeatable; e.g. from `piecepay tracker`)",
    ],
    WEBRTC_HELP,
    ...DISCOVERY_HELP,
    [
      "--prefer fast|free",
      "with free peers and paid seeders both: fast (default) downloads from both side by side; free pays only for pieces no free peer unchoking us has",
    ],
    ...SELL_HELP,
    ["--port N", "TCP port for peers (default, or 0: any free port); printed with --price or --seed"],
    ["--upload-limit KiB/s", "the most we upload per second, over all peers (default: no limit)"],
    ["--timeout S", "give up after S seconds without finishing (default 600)"],
    [
      "--max-window N",
      "the most pieces paid ahead per seeder, at least 1 (default 256): the most at risk is N x price",
    ],
    ...PEER_LIMIT_HELP,
  ],
  examples: [
    "piecepay get 'magnet:?xt=urn:btih:...' --out ~/Downloads",
    "piecepay get movie.torrent --max-price 0.0001 --budget 0.05 --out ~/Downloads --keystore leecher.json",
    "piecepay get 'magnet:?xt=urn:btih:...' --max-price 0.0001 --budget 0.05 --peer 127.0.0.1:6881 --key 0x...",
    "piecepay get movie.torrent --asset 0xA0b8...eB48 --max-price 0.01 --budget 20 --keystore leecher.json",
    "piecepay get movie.torrent --max-price 0.0001 --budget 0.05 --price 0.00008 --seed --keystore leecher.json",
    "piecepay get 'magnet:?xt=urn:btih:...' --seed --port 6881",
    "piecepay get movie.torrent --max-price 0.0001 --budget 0.05 --hub ws://127.0.0.1:8600 --keystore leecher.json",
    "piecepay get 'magnet:?xt=urn:btih:...&tr=ws%3A%2F%2F127.0.0.1%3A8000' --webrtc --max-price 0.0001 --budget 0.05 --keystore leecher.json",
  ],

  async run({ globals, values, positionals, out, signal }) {
    const id = positionals[0];
    if (!id) throw new UsageError("get needs a magnet link or a .torrent file");
    // Payment flags only when paid seeders are to be paid: without them, a free download (no key, no chain).
    const paying = values["max-price"] !== undefined || values.budget !== undefined;
    if (paying && values["max-price"] === undefined) {
      throw new UsageError("to pay seeders get needs --max-price AMOUNT (the most per piece) with --budget");
    }
    if (paying && values.budget === undefined) {
      throw new UsageError("to pay seeders get needs --budget AMOUNT (the most to deposit) with --max-price");
    }
    if (!paying && values.hub !== undefined) {
      throw new UsageError("--hub is how we pay seeders: give --max-price and --budget too");
    }
    if (!paying && values.asset !== undefined) {
      throw new UsageError("--asset says what we pay in: give --max-price and --budget too, or leave it out");
    }
    const discovery = discoveryOptions(values, ((values.peer as string[] | undefined) ?? []).length > 0);
    const assetAddress = assetOption(values);
    // Amounts of ETH are checked before anything connects; amounts of a token once its decimals are read.
    const amounts = (unit: AmountUnit) => ({
      maxPrice: parseAmount(String(values["max-price"]), "--max-price", unit),
      budget: parseAmount(String(values.budget), "--budget", unit),
    });
    let { maxPrice, budget } = paying && assetAddress === undefined ? amounts(ETH) : { maxPrice: 0n, budget: 0n };
    const timeout = Number(values.timeout ?? "600");
    if (!(timeout > 0)) throw new UsageError(`--timeout must be a number of seconds above 0, not "${values.timeout}"`);
    const maxWindow = windowOption(values["max-window"]);
    // Selling: what we verify, at --price, during the download and (--seed) after it. Checked before any connection.
    const sell = sellFlags(values, paying);
    const seeds = values.seed === true;
    let sellPrice = sell && assetAddress === undefined ? sell.price(ETH) : 0n;
    const port = values.port === undefined ? 0 : intOption(values, "port", 0, 65_535);
    const uploadLimit = values["upload-limit"] === undefined ? -1 : Number(values["upload-limit"]) * 1024;
    if (!(uploadLimit === -1 || (Number.isFinite(uploadLimit) && uploadLimit > 0))) {
      throw new UsageError("--upload-limit must be a number of KiB per second above 0");
    }
    const prefer = values.prefer ?? "fast";
    if (prefer !== "fast" && prefer !== "free") {
      throw new UsageError(`--prefer is fast or free, not "${prefer}"`);
    }
    if (values.prefer !== undefined && !paying) {
      throw new UsageError("--prefer chooses between free peers and paid seeders: give --max-price and --budget too");
    }
    const torrentId: string | Uint8Array = id.startsWith("magnet:") ? id : existsSync(id) ? readFileSync(id) : id;
    if (typeof torrentId === "string" && !torrentId.startsWith("magnet:")) {
      throw new CliError(`${id} is neither a magnet link nor a .torrent file`);
    }
    const peers = await resolvePeers((values.peer as string[] | undefined) ?? []);
    const announce = (values.announce as string[] | undefined) ?? [];
    // The torrent's own trackers are known only once webtorrent parsed it: checked again then (below).
    if (values.webrtc && typeof torrentId === "string") {
      assertWebSocketTracker([...announce, ...magnetTrackers(torrentId)], "the magnet link and --announce");
    }
    const wrtc = values.webrtc ? await loadNodeWebRtc() : undefined;
    const torrentOptions = {
      limits: peerLimits(values),
      ...discovery,
      utp: false,
      natUpnp: false,
      natPmp: false,
      torrentPort: port,
      uploadLimit,
      // Without --webrtc, `wrtc: false` keeps webtorrent off WebRTC (it would answer a magnet's ws:// trackers).
      tracker: { announce, wrtc: wrtc ?? false },
    };
    if (!paying) {
      return freeGet(
        {
          torrentClient: createTorrentClient(torrentOptions),
          torrentId,
          out: String(values.out ?? "."),
          peers,
          discovers: discovery.dht !== false || discovery.lsd,
          timeoutSeconds: timeout,
          seed: seeds,
          port,
          hasKey: globals.key !== undefined || globals.keystore !== undefined || Boolean(process.env.PIECEPAY_KEY),
          ...(values.webrtc
            ? { checkTrackers: (list: string[]) => assertWebSocketTracker(list, "the torrent and --announce") }
            : {}),
        },
        out,
        signal,
      );
    }
    const connected = await connectClient(globals, { pollingIntervalMs: 1_000 }, (line) => out.note(line));
    const { client } = connected;
    let unit: AssetInfo;
    let hub: HubAccount | undefined;
    try {
      unit = await resolveAsset(connected.provider, assetAddress);
      if (assetAddress !== undefined) ({ maxPrice, budget } = amounts(unit));
      if (sell && assetAddress !== undefined) sellPrice = sell.price(unit);
      // A hub that cannot be used is no reason not to download: every seeder is then paid directly (a note says so).
      const connection =
        values.hub === undefined ? undefined : await connectHubOrDirect(client, String(values.hub), out);
      hub =
        connection &&
        (await leecherLedger(connection, { deposit: budget, minimum: maxPrice, unit, asset: unit.address }, out));
      if (hub === undefined) budget = await assertCanOpen(connected, maxPrice, budget, unit, out);
      else out.note(`the hub's fee: ${hub.connection.info.feeBps} basis points of what we pay through it`);
    } catch (error) {
      hub?.connection.close();
      connected.close();
      throw error;
    }
    const leecher = new PaidLeecher({
      client,
      maxPricePerPiece: maxPrice,
      budget,
      asset: unit.address,
      closeTimeoutMs: 60_000,
      maxWindow,
      prefer,
      ...(hub ? { hub } : {}),
      ...(sell
        ? {
            sell: {
              pricePerPiece: sellPrice,
              enforceAfterMs: sell.enforceAfterMs,
              unconfirmedPieces: sell.unconfirmedPieces,
            },
          }
        : {}),
    });
    leecher.on("warning", (error: Error) => out.note(`warning: ${explainError(error).message}`));
    // An account that cannot pay a deposit and its gas will not pay any: stop now, rather than retry until --timeout.
    let fatal: ((error: Error) => void) | undefined;
    leecher.on("fund-failed", (error: unknown) => {
      if (error instanceof PiecepayError && error.code === "INSUFFICIENT_FUNDS") {
        const { message, hint } = explainError(error);
        fatal?.(new CliError(message, hint?.replace("<address>", client.address)));
      }
    });
    // A seeder we will not pay (dearer than --max-price, another chain or asset) is named at once. When the --peer
    // list is the only source (no DHT, no tracker) and every one of them was refused, get stops: nobody is left.
    const refused = new RefusedSeeders(maxPrice, unit);
    let onlyPeers = false;
    leecher.on("refused", (refusal: LeecherRefusal) => {
      const text = refused.add(refusal);
      if (text !== undefined) out.note(text);
      if (onlyPeers && peers.every((peer) => refused.peers.has(peer))) {
        fatal?.(new CliError(refused.reasons.join("; "), refused.hint));
      }
    });
    const torrentClient = createTorrentClient(torrentOptions);
    let selling: Selling | undefined;
    try {
      if (leecher.seller) {
        // Buyers need our address: printed first (the ready line of --json), as `seed` prints its own.
        const listening = await listeningPort(torrentClient, port);
        out.result(
          {
            event: "selling",
            port: listening,
            payee: client.address,
            asset: unit.address,
            pricePerPiece: sellPrice,
            seed: seeds,
          },
          [
            `selling each piece we verify at ${formatAmount(sellPrice, unit)} per piece, paid to ${client.address}, ${seeds ? "until Ctrl-C" : "until our download is done"}`,
            `peers:   127.0.0.1:${listening}`,
          ].join("\n"),
        );
      }
      const started = Date.now();
      const torrent = torrentClient.add(torrentId, { path: String(values.out ?? ".") });
      leecher.attach(torrent);
      if (leecher.seller) selling = startSelling(leecher.seller, client, out, unit);
      // Pieces verified before `ready` are webtorrent's check of the files already on disk (an earlier run's).
      let onDisk = 0;
      torrent.on("verified", () => {
        if (!torrent.ready) onDisk++;
      });
      torrent.once("ready", () => {
        if (onDisk > 0) out.note(`resuming: ${onDisk} of ${torrent.pieces.length} pieces already on disk and verified`);
      });
      torrent.on("infoHash", () => {
        if (values.webrtc) {
          try {
            assertWebSocketTracker(torrent.announce ?? [], "the torrent and --announce");
          } catch (error) {
            fatal?.(error as Error);
            return;
          }
        }
        onlyPeers =
          peers.length > 0 && (torrent.announce ?? []).length === 0 && discovery.dht === false && !discovery.lsd;
        for (const peer of peers) torrent.addPeer(peer);
      });
      const bar = out.progress("get");
      const vouchers = () => ({
        paid: leecher.stats().reduce((a, p) => a + p.paid, 0n),
        ...(leecher.seller ? { earned: leecher.seller.stats().paid } : {}),
        unit,
      });
      const tick = setInterval(() => {
        bar.update({
          bytes: torrent.downloaded,
          total: torrent.length || undefined,
          speed: torrent.downloadSpeed,
          peers: torrent.numPeers,
          ...vouchers(),
        });
      }, 250);
      try {
        await new Promise<void>((resolve, reject) => {
          fatal = reject;
          const timer = setTimeout(
            () =>
              reject(
                new CliError(
                  [`not finished after ${timeout} s`, ...refused.reasons].join("; "),
                  "check --peer, the seeders' price and your --budget",
                ),
              ),
            timeout * 1000,
          );
          torrent.once("done", () => {
            clearTimeout(timer);
            resolve();
          });
          torrent.once("error", (error: Error) =>
            reject(new CliError(`download failed: ${explainText(error.message)}`)),
          );
          // A clean stop: the deposits in flight are recorded, the store and the files are closed (below), the
          // channels stay open on chain. The same command again continues them (one deposit per seeder).
          const interrupted = () =>
            reject(
              new CliError(
                "interrupted: channels stay open; the same command again resumes the download in them",
                "or run `piecepay withdraw` to settle them",
                { exitCode: interruptedExitCode(signal.reason) },
              ),
            );
          if (signal.aborted) interrupted();
          else signal.addEventListener("abort", interrupted, { once: true });
        });
      } finally {
        clearInterval(tick);
      }
      const seconds = (Date.now() - started) / 1000;
      bar.done();
      out.note(`downloaded ${torrent.name} in ${seconds.toFixed(2)} s; closing channels`);
      const settled = await leecher.settle();
      // What we paid is what the chain paid each seeder (its payout events), not the amount we offered to close at.
      let total = 0n;
      let throughHub = 0n;
      for (const p of settled) {
        if (p.hub !== undefined) {
          // Settled into our ledger with the hub (a state the hub and we signed), not on chain: what the virtual
          // channel's final state pays the seeder, and the hub's fee on it.
          throughHub += p.closed ? p.spent + p.fee : 0n;
          const what = p.closed
            ? `paid ${formatAmount(p.spent, unit)} + ${formatAmount(p.fee, unit)} hub fee through hub ${p.hub}, settled into our ledger`
            : `not closed: its seeder may take up to ${formatAmount(p.spent, unit)} + fee through the hub`;
          out.result(
            { event: "settled", ...p, vouchers: p.paid, paid: p.closed ? p.spent : null },
            `${p.peer}: ${p.delivered} pieces at ${formatAmount(p.pricePerPiece, unit)}: ${what}`,
          );
          continue;
        }
        const paid = await paidOnChain(client, p.channelId);
        total += paid ?? 0n;
        const what = p.closed
          ? `paid ${paid === undefined ? "(unknown: the RPC did not answer)" : formatAmount(paid, unit)} on chain`
          : `not closed: its seeder may take up to ${formatAmount(p.spent, unit)}`;
        out.result(
          { event: "settled", ...p, vouchers: p.paid, paid: paid ?? null },
          `${p.peer}: ${p.delivered} pieces at ${formatAmount(p.pricePerPiece, unit)}: ${what}`,
        );
      }
      out.result(
        {
          event: "done",
          name: torrent.name,
          bytes: torrent.length,
          seconds,
          asset: unit.address,
          paid: total,
          channels: settled.length,
          piecesOnDisk: onDisk,
          ...(hub
            ? { throughHub, ledger: hub.ledgerId, ledgerFree: (await hub.connection.balances(hub.ledgerId)).user }
            : {}),
        },
        `done: ${torrent.name}, ${torrent.length} bytes, ${formatAmount(total, unit)} paid on chain to ${settled.filter((p) => p.hub === undefined).length} seeder(s)${
          hub
            ? `, ${formatAmount(throughHub, unit)} (fees included) through hub ${hub.connection.info.hub} to ${settled.filter((p) => p.hub !== undefined).length}; ledger ${hub.ledgerId} has ${formatAmount((await hub.connection.balances(hub.ledgerId)).user, unit)} free`
            : ""
        }`,
      );
      if (selling) {
        if (seeds) {
          out.note("download done: selling what we have until Ctrl-C");
          await keepSeeding(torrent, signal, out, vouchers);
        }
        // Our buyers close at what we delivered before the summary reads the chain.
        await selling.stop();
        printTrades(await tradesOnChain(leecher, client), out, unit);
      }
    } finally {
      // A seller that stops on an error or an interruption says bye too, and names what it leaves open.
      await selling?.stop();
      // Every deposit in flight records what it sent (or forgets its proposal) before the store closes.
      await leecher.idle();
      await destroyTorrentClient(torrentClient);
      await hub?.connection.settled();
      hub?.connection.close();
      connected.close();
    }
  },
};

/** The trackers (`tr=`) of a magnet link; none for anything else. */
function magnetTrackers(id: string): string[] {
  if (!id.startsWith("magnet:?")) return [];
  return new URLSearchParams(id.slice("magnet:?".length)).getAll("tr");
}

/** --max-window: at least 1, since a window of 0 pays nothing ahead and no paid seeder would ever send a piece. */
function windowOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_WINDOW;
  const n = Number(value);
  if (typeof value === "string" && /^\s*0+\s*$/.test(value)) {
    throw new UsageError(
      `--max-window 0 would pay no piece ahead, so no paid seeder would ever send one: give at least 1 (default ${DEFAULT_MAX_WINDOW}; at most N x price is at risk per seeder)`,
    );
  }
  if (typeof value !== "string" || !/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `--max-window must be a whole number of pieces, at least 1 (default ${DEFAULT_MAX_WINDOW}), not "${value}"`,
    );
  }
  return n;
}

/** What channel `id` paid its seeder on chain (payout events); undefined when the RPC did not answer. */
async function paidOnChain(client: Connected["client"], id: string | undefined): Promise<bigint | undefined> {
  if (!id) return 0n;
  try {
    return (await client.settlement(id)).toPeer;
  } catch {
    return undefined;
  }
}

/** The gas of one deposit, with a margin (a first deposit measures about 47,000: gas-snapshot.json). */
const DEPOSIT_GAS = 100_000n;
/** The gas of a token's `approve` before each deposit in a token, with a margin (OpenZeppelin's: about 46,000). */
const APPROVE_GAS = 60_000n;

/**
 * Before any proposal: the account must hold at least one piece at `maxPrice` plus the gas of a deposit (and of an
 * approve, in a token), or `get` stops at once saying what it holds (an empty account otherwise retried every
 * seeder until --timeout). Returns the budget, lowered to the token balance when that is smaller: a deposit above
 * the balance would only revert.
 */
async function assertCanOpen(
  { client, provider }: Connected,
  maxPrice: bigint,
  budget: bigint,
  unit: AssetInfo,
  out: Output,
): Promise<bigint> {
  const inToken = unit.address !== ZeroAddress;
  let balance: bigint;
  let tokens: bigint;
  let fee: bigint;
  try {
    balance = await provider.getBalance(client.address);
    tokens = inToken ? await assetBalance(provider, unit.address, client.address) : balance;
    const feeData = await provider.getFeeData();
    fee = feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n;
  } catch (error) {
    const { message, hint } = explainError(error);
    throw new CliError(`could not read the balance of ${client.address}: ${message}`, hint);
  }
  const gas = (inToken ? DEPOSIT_GAS + APPROVE_GAS : DEPOSIT_GAS) * fee;
  if (!inToken && balance < maxPrice + gas) {
    throw new CliError(
      `account ${client.address} holds ${ether(balance)} ETH; a paid download needs at least ${ether(maxPrice + gas)} ETH (one piece at --max-price plus about ${ether(gas)} ETH of gas for its deposit)`,
      FUND_HINT.replace("<address>", client.address),
    );
  }
  if (inToken && tokens < maxPrice) {
    throw new CliError(
      `account ${client.address} holds ${formatAmount(tokens, unit)}; a paid download needs at least ${formatAmount(maxPrice, unit)} (one piece at --max-price)`,
      `send the account some ${unit.symbol} (${unit.address}) first`,
    );
  }
  if (inToken && balance < gas) {
    throw new CliError(
      `account ${client.address} holds ${ether(balance)} ETH; paying in ${unit.symbol} still needs about ${ether(gas)} ETH of gas for an approve and a deposit`,
      FUND_HINT.replace("<address>", client.address),
    );
  }
  if (inToken && tokens < budget) {
    out.note(`the account holds ${formatAmount(tokens, unit)}: deposits are limited to that, not --budget`);
    return tokens;
  }
  return budget;
}

function ether(wei: bigint): string {
  return formatEther(wei).replace(/\.0$/, "");
}
