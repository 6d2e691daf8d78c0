// `piecepay seed <file|dir> --price ETH`: seeds with payment per piece until Ctrl-C. Every leecher pays through a
// voucher channel; its vouchers are on disk before they count; a leecher that vanishes has its latest voucher
// enforced on chain (also after our own restart: the channels are in the store).
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { ChannelWatcher } from "../../../sdk/index.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import { DEFAULT_FUNDING_TIMEOUT_MS, PaidSeeder } from "../../session/seeder.js";
import { DEFAULT_MAX_UNFUNDED, DEFAULT_MAX_UNFUNDED_PER_IP } from "../../session/unfunded-cap.js";
import { CliError, type Command, UsageError } from "../command.js";
import { connectClient } from "../context.js";
import { explainError } from "../errors.js";
import { formatAmount } from "../output.js";
import { PEER_LIMIT_HELP, PEER_LIMIT_OPTIONS, peerLimits } from "../peer-limits.js";

export const seed: Command = {
  name: "seed",
  summary: "seed a file or directory, paid per piece, until Ctrl-C",
  usage:
    "seed <file|dir> --price ETH [--port N] [--announce URL]... [--max-unfunded-per-ip N] [--max-unfunded N] (--keystore PATH | --key HEX) [--rpc URL]",
  description: [
    "Seeds <file|dir> and charges every leecher --price per piece through a voucher channel: a leecher is served",
    "only what its paid credit covers (plain BitTorrent peers get nothing). Each voucher is verified and stored",
    "in <data-dir>/channels.db before it counts. When a leecher asks to close, one transaction pays us what we",
    "served; when it vanishes, its latest voucher is enforced on chain after --enforce-after seconds (challenge,",
    "wait, payout), also across a restart of this command. A watcher answers stale challenges on our channels.",
    "Unfunded channel proposals are capped per address and in total (one over the cap is refused and its peer",
    "dropped, nothing signed or stored); one that is not funded within --funding-timeout seconds is forgotten.",
    "An account with no ETH can seed and is paid all the same: it countersigns the leecher's close and the leecher",
    "submits it. Enforcing the voucher of a leecher that vanished needs gas: without it we say so, with the amount.",
    "Prints the magnet link and writes <name>.torrent to the data dir; runs until Ctrl-C.",
  ].join("\n"),
  positionals: true,
  options: {
    ...PEER_LIMIT_OPTIONS,
    price: { type: "string" },
    port: { type: "string" },
    announce: { type: "string", multiple: true },
    "piece-length": { type: "string" },
    "enforce-after": { type: "string" },
    "max-unfunded-per-ip": { type: "string" },
    "max-unfunded": { type: "string" },
    "funding-timeout": { type: "string" },
    "upload-limit": { type: "string" },
  },
  optionHelp: [
    ["--price ETH", "price per piece, in ETH (required)"],
    ["--port N", "TCP port for peers (default: any free port)"],
    ["--announce URL", "a tracker to announce to (repeatable; e.g. from `piecepay tracker`)"],
    ["--piece-length KiB", "piece length for a new torrent (default: webtorrent's choice)"],
    ["--upload-limit KiB/s", "the most we upload per second, over all peers (default: no limit)"],
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
  ],
  examples: [
    "piecepay seed movie.mkv --price 0.0001 --keystore seeder.json",
    "piecepay seed ./album --price 0.00005 --key 0x... --rpc http://127.0.0.1:8545 --announce http://127.0.0.1:8000/announce",
  ],

  async run({ globals, values, positionals, out, signal }) {
    const input = positionals[0];
    if (!input) throw new UsageError("seed needs a file or directory: piecepay seed <file|dir> --price ETH");
    if (!existsSync(input)) throw new CliError(`${input} does not exist`);
    if (values.price === undefined) throw new UsageError("seed needs --price ETH (the price per piece)");
    const price = amount(String(values.price), "--price");
    const enforceAfter = Number(values["enforce-after"] ?? "30");
    if (!(enforceAfter >= 0)) throw new UsageError("--enforce-after must be a number of seconds");
    const port = values.port === undefined ? 0 : Number(values.port);
    const maxUnfundedPerIp = count(values["max-unfunded-per-ip"], "--max-unfunded-per-ip", DEFAULT_MAX_UNFUNDED_PER_IP);
    const maxUnfunded = count(values["max-unfunded"], "--max-unfunded", DEFAULT_MAX_UNFUNDED);
    const fundingTimeout = Number(values["funding-timeout"] ?? DEFAULT_FUNDING_TIMEOUT_MS / 1000);
    if (!(fundingTimeout > 0)) throw new UsageError("--funding-timeout must be a number of seconds above 0");
    const announce = (values.announce as string[] | undefined) ?? [];
    const uploadLimit = values["upload-limit"] === undefined ? -1 : Number(values["upload-limit"]) * 1024;
    if (!(uploadLimit === -1 || (Number.isFinite(uploadLimit) && uploadLimit > 0))) {
      throw new UsageError("--upload-limit must be a number of KiB per second above 0");
    }

    const connected = await connectClient(globals, { pollingIntervalMs: 2_000 });
    const { client, chainId, deployment } = connected;
    const seeder = new PaidSeeder({
      client,
      pricePerPiece: price,
      asset: ZeroAddress,
      enforceAfterMs: enforceAfter * 1000,
      maxUnfundedPerIp,
      maxUnfunded,
      fundingTimeoutMs: fundingTimeout * 1000,
    });
    seeder.on("warning", (error: Error) => out.note(`warning: ${explainError(error).message}`));
    seeder.on("countersigned", (s) =>
      out.note(`${s.peer}: no ETH for the close's gas here; countersigned it for the leecher to submit`),
    );
    seeder.on("closed", (s, hash) =>
      out.result({ event: "closed", ...s, tx: hash }, `closed ${s.peer}: served ${s.served} pieces, tx ${hash}`),
    );
    seeder.on("enforced", (s, hash) =>
      out.result({ event: "enforced", ...s, tx: hash }, `enforced ${s.peer}'s voucher: tx ${hash}`),
    );
    const watcher = new ChannelWatcher(client, {
      pollingIntervalMs: 2_000,
      log: (e, f) => out.note(`watcher: ${e} ${JSON.stringify(f, (_k, v) => (typeof v === "bigint" ? `${v}` : v))}`),
    });
    const torrentClient = createTorrentClient({
      limits: peerLimits(values),
      dht: false,
      lsd: false,
      utp: false,
      natUpnp: false,
      natPmp: false,
      torrentPort: port,
      uploadLimit,
      tracker: announce.length > 0 ? {} : false,
    });
    try {
      const torrent = await new Promise<Torrent>((resolve, reject) => {
        torrentClient.once("error", reject);
        const options: Record<string, unknown> = { announce };
        if (values["piece-length"]) options.pieceLength = Number(values["piece-length"]) * 1024;
        const t = torrentClient.seed(input, options, resolve);
        seeder.attach(t);
        seeder.resume(); // leechers that left while we were down: enforce their vouchers
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
          pricePerPiece: price,
        },
        [
          `seeding ${torrent.name} (${torrent.pieces.length} pieces) at ${formatAmount(price)} per piece, paid to ${client.address}`,
          `magnet:  ${torrent.magnetURI}`,
          `torrent: ${torrentPath}`,
          `peers:   127.0.0.1:${listening}`,
        ].join("\n"),
      );
      watcher.start();
      const bar = out.progress("seed");
      const tick = setInterval(() => {
        const { paid, served } = seeder.stats();
        bar.update({ bytes: torrent.uploaded, speed: torrent.uploadSpeed, peers: torrent.numPeers, earned: paid });
        void served;
      }, 250);
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      clearInterval(tick);
      bar.done();
      const { paid, served } = seeder.stats();
      out.result(
        { event: "stopped", paid, served },
        `stopped: ${served} pieces served, ${formatAmount(paid)} in vouchers`,
      );
    } finally {
      seeder.destroy();
      await watcher.stop();
      await new Promise((resolve) => torrentClient.destroy(() => resolve(undefined)));
      connected.close();
    }
  },
};

/** A whole number of at least 1 from `value`, or `fallback` when the flag is absent. */
function count(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1`);
  return n;
}

export function amount(value: string, flag: string): bigint {
  let parsed: bigint;
  try {
    parsed = parseEther(value);
  } catch {
    throw new UsageError(`${flag} ${value} is not an amount of ETH`);
  }
  if (parsed <= 0n) throw new UsageError(`${flag} must be above 0`);
  return parsed;
}
