// `piecepay seed <file|dir> --price ETH`: seeds with payment per piece until Ctrl-C. Every leecher pays through a
// voucher channel; its vouchers are on disk before they count; a leecher that vanishes has its latest voucher
// enforced on chain (also after our own restart: the channels are in the store).
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { defendHubChannel } from "../../../sdk/hub/index.js";
import { type AssetInfo, ChannelWatcher, type PiecepayClient } from "../../../sdk/index.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import type { HubAccount } from "../../session/hub-route.js";
import {
  DEFAULT_FUNDING_TIMEOUT_MS,
  DEFAULT_UNCONFIRMED_PIECES,
  PaidSeeder,
  type SeederPeerStats,
} from "../../session/seeder.js";
import { DEFAULT_MAX_UNFUNDED, DEFAULT_MAX_UNFUNDED_PER_IP } from "../../session/unfunded-cap.js";
import { parseAmount } from "../amounts.js";
import { ASSET_HELP, ASSET_OPTIONS, assetOption, resolveAsset } from "../asset-option.js";
import { CliError, type Command, intOption, UsageError } from "../command.js";
import { connectClient } from "../context.js";
import { DISCOVERY_HELP, DISCOVERY_OPTIONS, discoveryOptions } from "../discovery.js";
import { freeSeed } from "../free-seed.js";
import { connectHub, seederLedger } from "../hub-account.js";
import { formatAmount } from "../output.js";
import { PEER_LIMIT_HELP, PEER_LIMIT_OPTIONS, peerLimits } from "../peer-limits.js";
import { destroyTorrentClient } from "../ports.js";
import { type SeedSource, startSeeding } from "../seed-source.js";
import { reportSeller } from "../seller-log.js";
import { watcherLine } from "../watcher-log.js";
import {
  assertWebSocketTracker,
  isWebSocketTracker,
  loadNodeWebRtc,
  SEEDER_ANNOUNCE,
  WEBRTC_HELP,
  WEBRTC_OPTIONS,
} from "../webrtc.js";

export const seed: Command = {
  name: "seed",
  summary: "seed a file or directory, paid per piece (or free), until Ctrl-C",
  usage:
    "seed <file|dir> (--price AMOUNT [--asset TOKEN] | --free) [--torrent FILE|MAGNET] [--port N] [--announce URL]... [--webrtc] [--max-unfunded-per-ip N] [--max-unfunded N] [--unconfirmed-pieces N] [--confirmations N] [--hub URL [--hub-capacity AMOUNT]] (--keystore PATH | --key HEX) [--rpc URL]",
  description: [
    "Seeds <file|dir> and charges every leecher --price per piece through a voucher channel: a leecher is served",
    "only what its paid credit covers (plain BitTorrent peers get nothing). Each voucher is verified and stored in",
    "<data-dir>/channels/<address>.db before it counts. When a leecher asks to close, one transaction pays us what we",
    "served; when it vanishes, its latest voucher is enforced on chain after --enforce-after seconds (challenge,",
    "wait, payout), also across a restart of this command. A watcher answers stale challenges on our channels.",
    "Unfunded channel proposals are capped per address and in total (one over the cap is refused and its peer",
    "dropped, nothing signed or stored); one that is not funded within --funding-timeout seconds is forgotten.",
    "An account with no ETH can seed and is paid all the same: it countersigns the leecher's close and the leecher",
    "submits it. Enforcing the voucher of a leecher that vanished needs gas: without it we say so, with the amount.",
    "With --asset TOKEN we are paid in that ERC-20 token and --price is in its units; leechers paying in another",
    "asset are refused.",
    "A deposit counts in full once it has --confirmations blocks on top (default: 1 on a local chain, 5 on a",
    "testnet, 12 on mainnet); until then a leecher is served at most --unconfirmed-pieces. If a re-org takes the",
    "deposit off the chain meanwhile, we see its holdings drop, stop serving and drop the leecher: the loss is",
    "at most those pieces. What we report as earned is what the chain paid us (its payout events), never a voucher.",
    "With --webrtc we also serve WebRTC peers (browsers, and Node peers with `get --webrtc`) that the ws:// or wss://",
    "trackers among --announce introduce, with the same paid extension and vouchers; TCP peers are served as before.",
    "Prints the magnet link and writes <name>.torrent to the data dir; runs until Ctrl-C.",
    "",
    "With --hub URL (what `piecepay hub` prints) leechers with a ledger at that hub may also pay us through it: our",
    "offer names the hub and our ledger with it (opened at start with --hub-capacity, default the hub's most, which",
    "the hub deposits: no transaction of ours; an open one is reused). Each such leecher pays over a virtual channel",
    "that the hub guarantees from its side of our ledger, with the same vouchers; at the close (or, if the leecher",
    "vanishes, after --enforce-after with its largest voucher) the hub settles what we earned into our ledger, off",
    "chain. `piecepay withdraw --hub URL` takes it out; `piecepay channels` shows the ledger. Direct channels work",
    "as without --hub.",
    "",
    "With --torrent we seed an existing torrent (a .torrent file, or a magnet whose metadata the swarm sends) over",
    "<file|dir>, which must be its content, checked piece by piece first: a torrent that another client built for",
    "the same files has another infohash than ours (Transmission adds `private: 0`), and this joins its swarm.",
    "",
    "With --free (or --price 0) we seed for nothing to every peer, plain BitTorrent clients included, as any",
    "BitTorrent client does: no key, no chain and no channel are needed, and nothing is paid.",
  ].join("\n"),
  positionals: true,
  options: {
    ...PEER_LIMIT_OPTIONS,
    ...DISCOVERY_OPTIONS,
    ...ASSET_OPTIONS,
    ...WEBRTC_OPTIONS,
    price: { type: "string" },
    free: { type: "boolean" },
    torrent: { type: "string" },
    port: { type: "string" },
    announce: { type: "string", multiple: true },
    "piece-length": { type: "string" },
    "enforce-after": { type: "string" },
    "max-unfunded-per-ip": { type: "string" },
    "max-unfunded": { type: "string" },
    "funding-timeout": { type: "string" },
    "unconfirmed-pieces": { type: "string" },
    "upload-limit": { type: "string" },
    hub: { type: "string" },
    "hub-capacity": { type: "string" },
  },
  optionHelp: [
    ["--price AMOUNT", "price per piece, in ETH or the --asset token (required unless --free)"],
    ["--free", "seed for nothing, to every peer, plain BitTorrent clients included (as --price 0): no key or chain"],
    ASSET_HELP,
    ["--port N", "TCP port for peers (default, or 0: any free port)"],
    ["--announce URL", "a tracker to announce to (repeatable; e.g. from `piecepay tracker`)"],
    WEBRTC_HELP,
    ...DISCOVERY_HELP,
    [
      "--torrent FILE|MAGNET",
      "seed this existing torrent (e.g. made by another client) over <file|dir>, its content: the same infohash, so we join its swarm",
    ],
    ["--piece-length KiB", "piece length for a new torrent (default: webtorrent's choice)"],
    ["--upload-limit KiB/s", "the most we upload per second, over all peers (default: no limit)"],
    ["--hub URL", "also be paid through this hub: virtual channels that our ledger with it guarantees (no deposit)"],
    [
      "--hub-capacity AMOUNT",
      "the hub's deposit in a new ledger with it, in ETH or the --asset token (default: the hub's most)",
    ],
    ["--enforce-after S", "seconds a vanished leecher gets to come back and close before we enforce (default 30)"],
    ...PEER_LIMIT_HELP,
    [
      "--max-unfunded-per-ip N",
      `unfunded channel proposals held at once from one address (default ${DEFAULT_MAX_UNFUNDED_PER_IP})`,
    ],
    ["--max-unfunded N", `unfunded channel proposals held at once in total (default ${DEFAULT_MAX_UNFUNDED})`],
    [
      "--funding-timeout S",
      `seconds a proposal may wait for its deposit before it is forgotten (default ${DEFAULT_FUNDING_TIMEOUT_MS / 1000})`,
    ],
    [
      "--unconfirmed-pieces N",
      `pieces served on a deposit not yet --confirmations deep: the most a re-org can cost us per leecher (default ${DEFAULT_UNCONFIRMED_PIECES}; 0 waits)`,
    ],
  ],
  examples: [
    "piecepay seed movie.mkv --price 0.0001 --keystore seeder.json",
    "piecepay seed ./holiday-photos --free --announce http://127.0.0.1:8000/announce",
    "piecepay seed ~/Videos/talk.webm --torrent talk.webm.torrent --price 0.0001 --keystore seeder.json",
    "piecepay seed movie.mkv --asset 0xA0b8...eB48 --price 0.01 --keystore seeder.json",
    "piecepay seed movie.mkv --price 0.0001 --hub ws://127.0.0.1:8600 --keystore seeder.json",
    "piecepay seed ./album --price 0.00005 --key 0x... --rpc http://127.0.0.1:8545 --announce http://127.0.0.1:8000/announce",
    "piecepay seed clip.mp4 --price 0.0001 --keystore seeder.json --webrtc --announce ws://127.0.0.1:8000 --announce http://127.0.0.1:8000/announce",
  ],

  async run({ globals, values, positionals, out, signal }) {
    const input = positionals[0];
    if (!input) throw new UsageError("seed needs a file or directory: piecepay seed <file|dir> --price ETH");
    if (!existsSync(input)) throw new CliError(`${input} does not exist`);
    // --free, or a price of 0: seeds to everyone, with no key and no chain.
    const priceZero = values.price !== undefined && /^\s*0*(\.0*)?\s*$/.test(String(values.price));
    const free = values.free === true || priceZero;
    if (values.free === true && values.price !== undefined && !priceZero) {
      throw new UsageError("--free seeds for nothing: leave --price out (or give --price 0)");
    }
    if (!free && values.price === undefined) {
      throw new UsageError("seed needs --price AMOUNT (the price per piece), or --free to seed for nothing");
    }
    if (free && values.asset !== undefined) throw new UsageError("--asset is what we are paid in: not with --free");
    if (free && values.hub !== undefined) throw new UsageError("--hub is how we are paid: not with --free");
    if (values["hub-capacity"] !== undefined && values.hub === undefined) {
      throw new UsageError("--hub-capacity is the hub's deposit in our ledger with it: give --hub URL too");
    }
    const assetAddress = assetOption(values);
    if (values["hub-capacity"] !== undefined && assetAddress === undefined) {
      parseAmount(String(values["hub-capacity"]), "--hub-capacity"); // in ETH: checked before anything connects
    }
    // A price in ETH is checked before anything connects; a price in a token once its decimals are read.
    let price = !free && assetAddress === undefined ? parseAmount(String(values.price), "--price") : 0n;
    const enforceAfter = Number(values["enforce-after"] ?? "30");
    if (!(enforceAfter >= 0)) throw new UsageError("--enforce-after must be a number of seconds");
    const port = values.port === undefined ? 0 : intOption(values, "port", 0, 65_535);
    const maxUnfundedPerIp = count(values["max-unfunded-per-ip"], "--max-unfunded-per-ip", DEFAULT_MAX_UNFUNDED_PER_IP);
    const maxUnfunded = count(values["max-unfunded"], "--max-unfunded", DEFAULT_MAX_UNFUNDED);
    const fundingTimeout = Number(values["funding-timeout"] ?? DEFAULT_FUNDING_TIMEOUT_MS / 1000);
    if (!(fundingTimeout > 0)) throw new UsageError("--funding-timeout must be a number of seconds above 0");
    const announce = (values.announce as string[] | undefined) ?? [];
    if (values.webrtc) assertWebSocketTracker(announce, "--announce");
    const unconfirmedPieces = wholeNumber(
      values["unconfirmed-pieces"],
      "--unconfirmed-pieces",
      DEFAULT_UNCONFIRMED_PIECES,
    );
    const uploadLimit = values["upload-limit"] === undefined ? -1 : Number(values["upload-limit"]) * 1024;
    if (!(uploadLimit === -1 || (Number.isFinite(uploadLimit) && uploadLimit > 0))) {
      throw new UsageError("--upload-limit must be a number of KiB per second above 0");
    }

    const wrtc = values.webrtc ? await loadNodeWebRtc() : undefined;
    const torrentOptions = {
      limits: peerLimits(values),
      ...discoveryOptions(values),
      utp: false,
      natUpnp: false,
      natPmp: false,
      torrentPort: port,
      uploadLimit,
      // Without --webrtc, `wrtc: false` keeps webtorrent off WebRTC (it would offer it to ws:// trackers by itself).
      // With it, the seeder answers WebRTC offers and makes none (SEEDER_ANNOUNCE: crossed offers close both ends).
      // An existing torrent (--torrent) brings trackers of its own.
      tracker:
        announce.length > 0 || values.torrent !== undefined
          ? wrtc
            ? { wrtc, ...SEEDER_ANNOUNCE }
            : { wrtc: false }
          : false,
    };
    if (values.torrent !== undefined && values["piece-length"] !== undefined) {
      throw new UsageError("--piece-length is for a new torrent: --torrent keeps the torrent's own");
    }
    const seedOptions: Record<string, unknown> = { announce };
    if (values["piece-length"]) seedOptions.pieceLength = Number(values["piece-length"]) * 1024;
    const webrtcNote = wrtc
      ? `, and WebRTC peers through ${announce.filter(isWebSocketTracker).join(", ")}`
      : undefined;
    const source: SeedSource = {
      input,
      options: seedOptions,
      port,
      ...(values.torrent === undefined ? {} : { existing: String(values.torrent) }),
    };
    if (free) {
      return freeSeed(
        {
          torrentClient: createTorrentClient(torrentOptions),
          source,
          dataDir: globals.dataDir,
          ...(webrtcNote === undefined ? {} : { webrtcNote }),
        },
        out,
        signal,
      );
    }
    const connected = await connectClient(globals, { pollingIntervalMs: 2_000 }, (line) => out.note(line));
    const { client, chainId, deployment } = connected;
    let unit: AssetInfo;
    let hub: HubAccount | undefined;
    try {
      unit = await resolveAsset(connected.provider, assetAddress);
      if (assetAddress !== undefined) price = parseAmount(String(values.price), "--price", unit);
      if (values.hub !== undefined) {
        const connection = await connectHub(client, String(values.hub));
        hub = await seederLedger(
          connection,
          {
            ...(values["hub-capacity"] === undefined
              ? {}
              : { capacity: parseAmount(String(values["hub-capacity"]), "--hub-capacity", unit) }),
            unit,
            asset: unit.address,
          },
          out,
        );
      }
    } catch (error) {
      hub?.connection.close();
      connected.close();
      throw error;
    }
    const seeder = new PaidSeeder({
      client,
      pricePerPiece: price,
      asset: unit.address,
      enforceAfterMs: enforceAfter * 1000,
      maxUnfundedPerIp,
      maxUnfunded,
      fundingTimeoutMs: fundingTimeout * 1000,
      unconfirmedPieces,
      ...(hub ? { hub } : {}),
    });
    reportSeller(seeder, out, unit);
    const watcher = new ChannelWatcher(client, {
      pollingIntervalMs: 2_000,
      // Our ledger and virtual channels with the hub are defended too (a stale state the hub registers is answered).
      ...(hub ? { defendHub: defendHubChannel } : {}),
      log: (e, f) => out.note(watcherLine(e, f)),
    });
    const torrentClient = createTorrentClient(torrentOptions);
    try {
      const torrent = await startSeeding(torrentClient, source, (t) => {
        seeder.attach(t);
        // Leechers that left while we were down: enforce their vouchers.
        seeder.resume().catch((error) => seeder.emit("warning", error));
      });
      const torrentPath = path.join(globals.dataDir, `${torrent.name}.torrent`);
      writeFileSync(torrentPath, torrent.torrentFile);
      const listening = torrentClient.address()?.port ?? torrentClient.torrentPort;
      out.result(
        {
          event: "seeding",
          chainId,
          adjudicator: deployment.adjudicator,
          payee: client.address,
          magnet: torrent.magnetURI,
          torrent: torrentPath,
          port: listening,
          pieces: torrent.pieces.length,
          webrtc: wrtc !== undefined,
          asset: unit.address,
          pricePerPiece: price,
          ...(hub ? { hub: hub.connection.info.hub, ledger: hub.ledgerId, hubFeeBps: hub.connection.info.feeBps } : {}),
        },
        [
          `seeding ${torrent.name} (${torrent.pieces.length} pieces) at ${formatAmount(price, unit)} per piece, paid to ${client.address}`,
          `magnet:  ${torrent.magnetURI}`,
          `torrent: ${torrentPath}`,
          `peers:   127.0.0.1:${listening}${webrtcNote ?? ""}`,
        ].join("\n"),
      );
      watcher.start();
      const bar = out.progress("seed");
      const tick = setInterval(() => {
        const { paid, served } = seeder.stats();
        bar.update({
          bytes: torrent.uploaded,
          speed: torrent.uploadSpeed,
          peers: torrent.numPeers,
          earned: paid,
          unit,
        });
        void served;
      }, 250);
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      clearInterval(tick);
      bar.done();
      const { paid, served, peers } = seeder.stats();
      const earned = await earnedOnChain(
        client,
        peers.filter((p) => p.hub === undefined),
      );
      const earnedText =
        earned === undefined
          ? "earned on chain unknown (the RPC did not answer)"
          : `${formatAmount(earned, unit)} earned on chain`;
      out.result(
        { event: "stopped", served, earned: earned ?? null, vouchers: paid },
        `stopped: ${served} pieces served, ${earnedText}, ${formatAmount(paid, unit)} in vouchers`,
      );
    } finally {
      seeder.destroy();
      await watcher.stop();
      await destroyTorrentClient(torrentClient);
      await hub?.connection.settled();
      hub?.connection.close();
      connected.close();
    }
  },
};

/** What the chain paid us on the channels of this run, from their payout events; undefined if the RPC failed. */
async function earnedOnChain(client: PiecepayClient, peers: SeederPeerStats[]): Promise<bigint | undefined> {
  const ids = [...new Set(peers.flatMap((p) => (p.channelId ? [p.channelId] : [])))];
  try {
    const earned = await Promise.all(ids.map(async (id) => (await client.settlement(id)).toUs));
    return earned.reduce((a, b) => a + b, 0n);
  } catch {
    return undefined;
  }
}

/** A whole number of at least 0 from `value`, or `fallback` when the flag is absent. */
function wholeNumber(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a whole number`);
  return n;
}

/** A whole number of at least 1 from `value`, or `fallback` when the flag is absent. */
function count(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1`);
  return n;
}
