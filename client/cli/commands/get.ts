// `piecepay get <magnet|.torrent> --max-price ETH --budget ETH --out DIR`: downloads, paying each seeder per piece
// through a voucher channel inside a growing credit window, then closes every channel at what it delivered.
import { existsSync, readFileSync } from "node:fs";
import { formatEther, ZeroAddress } from "ethers";
import { PiecepayError } from "../../../sdk/index.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import { DEFAULT_MAX_WINDOW, PaidLeecher } from "../../session/leecher.js";
import { CliError, type Command, interruptedExitCode, UsageError } from "../command.js";
import { type Connected, connectClient } from "../context.js";
import { explainError, FUND_HINT } from "../errors.js";
import { formatAmount } from "../output.js";
import { PEER_LIMIT_HELP, PEER_LIMIT_OPTIONS, peerLimits } from "../peer-limits.js";
import { amount } from "./seed.js";

export const get: Command = {
  name: "get",
  summary: "download a torrent, paying each seeder per piece, then settle",
  usage:
    "get <magnet|file.torrent> --max-price ETH --budget ETH --out DIR [--peer HOST:PORT]... (--keystore PATH | --key HEX)",
  description: [
    "Downloads a torrent. Each seeder that charges at most --max-price per piece gets a voucher channel with a",
    "deposit from --budget (the most this command ever deposits in all); vouchers are paid ahead of requests",
    "inside a credit window that starts at 2 pieces and doubles with each verified piece (at most --max-window), so at most",
    "one window is ever at risk per seeder. A piece counts only once its hash verifies; a seeder whose piece fails",
    "is not paid for it and is dropped, and banned at its second such piece. At the end every channel is closed",
    "at what its seeder delivered and the rest of the deposit comes back. Free peers work as in plain BitTorrent.",
    "",
    "Before anything is sent, the account must hold at least one piece at --max-price plus the gas of a deposit:",
    "otherwise get stops at once and says what the account holds. Each deposit is recorded in <data-dir> before it",
    "is sent; one that confirms after the download finished (free peers were faster) is closed like the others, and",
    "whatever get could not close is left to `piecepay withdraw`.",
    "",
    "Interrupted (Ctrl-C: exit code 130; SIGTERM: 143), get records what it sent, closes its store and files, and",
    "leaves its channels open. The same command again (same --out and --data-dir) keeps every verified piece on",
    "disk, continues each seeder's open channel for the torrent instead of depositing again, and pays each piece once.",
  ].join("\n"),
  positionals: true,
  options: {
    ...PEER_LIMIT_OPTIONS,
    "max-price": { type: "string" },
    budget: { type: "string" },
    out: { type: "string" },
    peer: { type: "string", multiple: true },
    timeout: { type: "string" },
    "max-window": { type: "string" },
  },
  optionHelp: [
    ["--max-price ETH", "the most we pay per piece (required); dearer seeders are not used"],
    ["--budget ETH", "the most we deposit in all channels together (required)"],
    ["--out DIR", "where the files go (default: the current directory)"],
    ["--peer HOST:PORT", "a peer to connect to directly (repeatable; e.g. what `piecepay seed` prints)"],
    ["--timeout S", "give up after S seconds without finishing (default 600)"],
    ["--max-window N", "the most pieces paid ahead per seeder (default 256): the most at risk is N x price"],
    ...PEER_LIMIT_HELP,
  ],
  examples: [
    "piecepay get movie.torrent --max-price 0.0001 --budget 0.05 --out ~/Downloads --keystore leecher.json",
    "piecepay get 'magnet:?xt=urn:btih:...' --max-price 0.0001 --budget 0.05 --peer 127.0.0.1:6881 --key 0x...",
  ],

  async run({ globals, values, positionals, out, signal }) {
    const id = positionals[0];
    if (!id) throw new UsageError("get needs a magnet link or a .torrent file");
    if (values["max-price"] === undefined) throw new UsageError("get needs --max-price ETH (the most per piece)");
    if (values.budget === undefined) throw new UsageError("get needs --budget ETH (the most to deposit)");
    const maxPrice = amount(String(values["max-price"]), "--max-price");
    const budget = amount(String(values.budget), "--budget");
    const timeout = Number(values.timeout ?? "600");
    const maxWindow = Number(values["max-window"] ?? DEFAULT_MAX_WINDOW);
    if (!Number.isInteger(maxWindow) || maxWindow < 1)
      throw new UsageError("--max-window must be a whole number of pieces");
    const torrentId: string | Uint8Array = id.startsWith("magnet:") ? id : existsSync(id) ? readFileSync(id) : id;
    if (typeof torrentId === "string" && !torrentId.startsWith("magnet:")) {
      throw new CliError(`${id} is neither a magnet link nor a .torrent file`);
    }
    const connected = await connectClient(globals, { pollingIntervalMs: 1_000 });
    const { client } = connected;
    try {
      await assertCanOpen(connected, maxPrice);
    } catch (error) {
      connected.close();
      throw error;
    }
    const leecher = new PaidLeecher({
      client,
      maxPricePerPiece: maxPrice,
      budget,
      asset: ZeroAddress,
      closeTimeoutMs: 60_000,
      maxWindow,
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
    const peers = (values.peer as string[] | undefined) ?? [];
    const torrentClient = createTorrentClient({
      limits: peerLimits(values),
      dht: peers.length === 0,
      lsd: false,
      utp: false,
      natUpnp: false,
      natPmp: false,
    });
    try {
      const started = Date.now();
      const torrent = torrentClient.add(torrentId, { path: String(values.out ?? ".") });
      leecher.attach(torrent);
      // Pieces verified before `ready` are webtorrent's check of the files already on disk (an earlier run's).
      let onDisk = 0;
      torrent.on("verified", () => {
        if (!torrent.ready) onDisk++;
      });
      torrent.once("ready", () => {
        if (onDisk > 0) out.note(`resuming: ${onDisk} of ${torrent.pieces.length} pieces already on disk and verified`);
      });
      torrent.on("infoHash", () => {
        for (const peer of peers) torrent.addPeer(peer);
      });
      const bar = out.progress("get");
      const tick = setInterval(() => {
        const paid = leecher.stats().reduce((a, p) => a + p.paid, 0n);
        bar.update({
          bytes: torrent.downloaded,
          total: torrent.length || undefined,
          speed: torrent.downloadSpeed,
          peers: torrent.numPeers,
          paid,
        });
      }, 250);
      try {
        await new Promise<void>((resolve, reject) => {
          fatal = reject;
          const timer = setTimeout(
            () =>
              reject(
                new CliError(`not finished after ${timeout} s`, "check --peer, the seeders' price and your --budget"),
              ),
            timeout * 1000,
          );
          torrent.once("done", () => {
            clearTimeout(timer);
            resolve();
          });
          torrent.once("error", (error: Error) => reject(new CliError(`download failed: ${error.message}`)));
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
      for (const p of settled) {
        out.result(
          { event: "settled", ...p },
          `${p.peer}: ${p.delivered} pieces at ${formatAmount(p.pricePerPiece)}: ${p.closed ? "paid" : "not closed: its seeder may take up to"} ${formatAmount(p.spent)}`,
        );
      }
      const total = settled.reduce((a, p) => a + p.spent, 0n);
      out.result(
        {
          event: "done",
          name: torrent.name,
          bytes: torrent.length,
          seconds,
          paid: total,
          channels: settled.length,
          piecesOnDisk: onDisk,
        },
        `done: ${torrent.name}, ${torrent.length} bytes, ${formatAmount(total)} paid to ${settled.length} seeder(s)`,
      );
    } finally {
      // Every deposit in flight records what it sent (or forgets its proposal) before the store closes.
      await leecher.idle();
      await new Promise((resolve) => torrentClient.destroy(() => resolve(undefined)));
      connected.close();
    }
  },
};

/** The gas of one deposit, with a margin (a first deposit measures about 47,000: gas-snapshot.json). */
const DEPOSIT_GAS = 100_000n;

/**
 * Before any proposal: the account must hold at least one piece at `maxPrice` plus the gas of a deposit, or `get`
 * stops at once saying what it holds (an empty account otherwise retried every seeder until --timeout).
 */
async function assertCanOpen({ client, provider }: Connected, maxPrice: bigint): Promise<void> {
  let balance: bigint;
  let fee: bigint;
  try {
    balance = await provider.getBalance(client.address);
    const feeData = await provider.getFeeData();
    fee = feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n;
  } catch (error) {
    const { message, hint } = explainError(error);
    throw new CliError(`could not read the balance of ${client.address}: ${message}`, hint);
  }
  const needed = maxPrice + DEPOSIT_GAS * fee;
  if (balance < needed) {
    throw new CliError(
      `account ${client.address} holds ${ether(balance)} ETH; a paid download needs at least ${ether(needed)} ETH (one piece at --max-price plus about ${ether(DEPOSIT_GAS * fee)} ETH of gas for its deposit)`,
      FUND_HINT.replace("<address>", client.address),
    );
  }
}

function ether(wei: bigint): string {
  return formatEther(wei).replace(/\.0$/, "");
}
