// `piecepay demo`: the whole product in one command, on an embedded chain. Deploys the contracts, seeds a generated
// file from two paid seeders, downloads it with payment per piece, settles every channel cooperatively, and prints
// balances before and after, the gas spent and the throughput.

import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatEther, formatUnits, parseUnits, type Signer } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import {
  type AssetInfo,
  assetBalance,
  describeAsset,
  ETH_ASSET,
  gasSpentSince,
  PiecepayClient,
  SqliteChannelStore,
} from "../../../sdk/node.js";
import { LOOPBACK_ONLY } from "../../session/extension.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import { PaidLeecher } from "../../session/leecher.js";
import { PaidSeeder } from "../../session/seeder.js";
import { type AmountUnit, ETH, parseAmount } from "../amounts.js";
import { CliError, type Command, UsageError } from "../command.js";
import { formatAmount, formatBytes } from "../output.js";

export const demo: Command = {
  name: "demo",
  summary: "seed a generated file from two paid seeders and download it with payment, on an embedded chain",
  usage: "demo [--size MiB] [--price AMOUNT] [--piece-length KiB] [--seeders N] [--asset eth|token]",
  description: [
    "Starts an embedded chain (Hardhat's in-process EVM), deploys the adjudicator and the voucher app, seeds a",
    "generated file from N paid seeders (default 2) over TCP loopback, downloads it with a leecher that pays each",
    "seeder per piece with vouchers inside a growing credit window, checks the file, closes every channel",
    "cooperatively (one transaction each) and prints every account's balance before and after, the gas spent and",
    "the throughput. Each seeder ends with price x pieces it served, to the wei.",
    "",
    "With --asset token the payments are in an ERC-20 token instead of ETH: the demo deploys a 6-decimal test token",
    "(USD6, like USDC) on its embedded chain, mints it to the leecher, and shows token balances (gas stays in ETH).",
    "The embedded chain is new at each run, so no existing token address could be given.",
  ].join("\n"),
  options: {
    size: { type: "string" },
    price: { type: "string" },
    "piece-length": { type: "string" },
    seeders: { type: "string" },
    asset: { type: "string" },
  },
  optionHelp: [
    ["--size MiB", "size of the generated file (default 64)"],
    ["--price AMOUNT", "price per piece, in ETH or USD6 (default 0.0001)"],
    ["--piece-length KiB", "piece length (default 256)"],
    ["--seeders N", "paid seeders, 1 to 4 (default 2)"],
    ["--asset eth|token", "pay in ETH (default) or in a 6-decimal ERC-20 test token the demo deploys"],
  ],
  examples: ["piecepay demo", "piecepay demo --size 256 --json", "npm run demo -- --size 16 --asset token"],

  async run({ values, out, signal }) {
    const sizeMiB = positive(values.size ?? "64", "--size");
    const pieceKiB = positive(values["piece-length"] ?? "256", "--piece-length");
    const seederCount = positive(values.seeders ?? "2", "--seeders");
    if (seederCount > 4) throw new UsageError("--seeders must be 1 to 4");
    const inToken = assetChoice(values.asset);
    const price = parseAmount(String(values.price ?? "0.0001"), "--price", inToken ? DEMO_TOKEN : ETH);

    // Hardhat is loaded here only, behind the one module of client/ allowed to load it (see its header).
    const { startEmbeddedChain } = await import("../../embedded-chain.js");
    const chain = await startEmbeddedChain();
    const { provider, chainId, adjudicator, voucherApp } = chain;
    const [, leecherAccount, ...sellers] = chain.accounts.slice(0, 2 + seederCount);
    const dir = mkdtempSync(join(tmpdir(), "piecepay-demo-"));
    const clients: WebTorrent[] = [];
    const stores: SqliteChannelStore[] = [];
    const seeders: PaidSeeder[] = [];
    try {
      out.note(`chain ${chainId} (embedded): adjudicator ${adjudicator}, voucher app ${voucherApp}`);
      // A throwaway chain has no token to name: the demo deploys a test one (contracts/test/SixDecimalToken.sol).
      let unit: AssetInfo = ETH_ASSET;
      if (inToken) {
        const minted = parseUnits("1000000", DEMO_TOKEN.decimals);
        unit = await describeAsset(provider, await chain.deployTestToken(leecherAccount.address, minted));
        out.note(`token ${unit.symbol} (${unit.decimals} decimals) at ${unit.address}, 1000000 minted to the leecher`);
      }
      const balanceOf = (address: string) => assetBalance(provider, unit.address, address);
      const sdk = async (signer: Signer, name: string) => {
        const store = new SqliteChannelStore(join(dir, `${name}.db`));
        stores.push(store);
        return PiecepayClient.create({
          signer,
          chainId,
          adjudicator,
          voucherApp,
          store,
          confirmations: 1,
          pollingIntervalMs: 50,
          blockTimeSeconds: 1,
          safetyMarginSeconds: 30,
        });
      };
      const accounts = [leecherAccount, ...sellers];
      const before = await Promise.all(accounts.map((a) => balanceOf(a.address)));
      const startBlock = await provider.getBlockNumber();

      const data = randomBytes(sizeMiB * 1024 * 1024);
      out.note(
        `seeding ${formatBytes(data.length)} from ${seederCount} paid seeder(s) at ${formatAmount(price, unit)} per piece`,
      );
      const ports: number[] = [];
      let torrentFile: Uint8Array | undefined;
      let pieces = 0;
      for (const [i, seller] of sellers.entries()) {
        const client = createTorrentClient(LOOPBACK_ONLY);
        clients.push(client);
        const seeder = new PaidSeeder({
          client: await sdk(seller, `seeder-${i}`),
          pricePerPiece: price,
          asset: unit.address,
        });
        seeders.push(seeder);
        const torrent = await new Promise<Torrent>((resolve) => {
          // In our own folder: webtorrent writes a seeded buffer to <tmp>/webtorrent/<name> by default, shared by every
          // process on the machine, and another run's demo.bin there would be served as ours (and fail its hash).
          const t = client.seed(
            data,
            { name: "demo.bin", announce: [], pieceLength: pieceKiB * 1024, path: join(dir, `seed-${i}`) },
            resolve,
          );
          seeder.attach(t);
        });
        torrentFile = torrent.torrentFile;
        pieces = torrent.pieces.length;
        ports.push(client.address()?.port ?? client.torrentPort);
      }
      if (!torrentFile) throw new CliError("no seeder started");

      const budget = BigInt(pieces) * price * 2n;
      const leecherClient = createTorrentClient(LOOPBACK_ONLY);
      clients.push(leecherClient);
      const leecher = new PaidLeecher({
        client: await sdk(leecherAccount, "leecher"),
        maxPricePerPiece: price,
        budget,
        asset: unit.address,
      });
      const bar = out.progress("get");
      const started = Date.now();
      const torrent = leecherClient.add(torrentFile, { path: join(dir, "download") });
      leecher.attach(torrent);
      torrent.on("infoHash", () => {
        for (const port of ports) torrent.addPeer(`127.0.0.1:${port}`);
      });
      const tick = setInterval(() => {
        const paid = leecher.stats().reduce((a, p) => a + p.paid, 0n);
        bar.update({
          bytes: torrent.downloaded,
          total: data.length,
          speed: torrent.downloadSpeed,
          peers: torrent.numPeers,
          paid,
          unit,
        });
      }, 100);
      try {
        await new Promise<void>((resolve, reject) => {
          torrent.once("done", () => resolve());
          torrent.once("error", reject);
          signal.addEventListener("abort", () => reject(new CliError("interrupted")), { once: true });
        });
      } finally {
        clearInterval(tick);
      }
      const seconds = (Date.now() - started) / 1000;
      bar.done({ bytes: data.length, total: data.length });
      if (!readFileSync(join(dir, "download", "demo.bin")).equals(data))
        throw new CliError("the downloaded file differs");
      out.note("download verified; closing every channel cooperatively");
      const settled = await leecher.settle();

      const after = await Promise.all(accounts.map((a) => balanceOf(a.address)));
      const gas = await gasSpentSince(
        provider,
        accounts.map((a) => a.address),
        startBlock,
      );
      const names = ["leecher", ...sellers.map((_, i) => `seeder ${i + 1}`)];
      const rows = accounts.map((a, i) => {
        const served = i === 0 ? undefined : seeders[i - 1].stats().served;
        return {
          account: names[i],
          address: a.address,
          before: before[i],
          after: after[i],
          change: after[i] - before[i],
          gas: gas[i],
          pieces: served ?? settled.reduce((sum, p) => sum + p.delivered, 0),
        };
      });
      const throughput = data.length / 1024 / 1024 / seconds;
      const symbol = unit.symbol;
      const amount = (value: bigint) => formatUnits(value, unit.decimals);
      out.table(
        ["account", "address", `before (${symbol})`, `after (${symbol})`, `change (${symbol})`, "gas (ETH)", "pieces"],
        rows.map((r) => [
          r.account,
          r.address,
          amount(r.before),
          amount(r.after),
          amount(r.change),
          formatEther(r.gas),
          String(r.pieces),
        ]),
      );
      // What an account earned: its balance change, plus the gas it paid when gas and payment are both ETH.
      const earned = (r: (typeof rows)[number]) => r.change + (inToken ? 0n : r.gas);
      out.line();
      out.line(`file: ${formatBytes(data.length)} in ${pieces} pieces of ${pieceKiB} KiB, verified`);
      out.line(`download: ${seconds.toFixed(2)} s, ${throughput.toFixed(1)} MiB/s (paid, channel opening included)`);
      // What the leecher paid in all, from the chain: its balance change, with its gas added back when both are ETH.
      const paidInAll = -earned(rows[0]);
      out.line(
        `price: ${formatAmount(price, unit)} per piece; paid in all (on chain): ${formatAmount(paidInAll, unit)}`,
      );
      for (const [i, r] of rows.entries()) {
        if (i === 0) continue;
        const exact = earned(r) === BigInt(r.pieces) * price;
        out.line(
          `${r.account}: served ${r.pieces} pieces, earned ${formatAmount(earned(r), unit)} ${exact ? "= price x pieces, to the smallest unit" : "(MISMATCH)"}`,
        );
      }
      out.result({
        chainId,
        size: data.length,
        pieces,
        asset: unit.address,
        symbol: unit.symbol,
        decimals: unit.decimals,
        pricePerPiece: price,
        seconds,
        mibPerSecond: throughput,
        accounts: rows,
      });
    } finally {
      for (const s of seeders) s.destroy();
      await Promise.all(clients.map((c) => new Promise((resolve) => c.destroy(() => resolve(undefined)))));
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
      await chain.close();
    }
  },
};

function positive(value: string | boolean, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number`);
  return n;
}

/** The demo token's units, known before the chain starts so that --price is checked first. */
const DEMO_TOKEN: AmountUnit = { symbol: "USD6", decimals: 6 };

/** --asset eth (default) or token: whether the demo pays in its test token. */
function assetChoice(value: string | boolean | undefined): boolean {
  if (value === undefined || value === "eth") return false;
  if (value === "token") return true;
  throw new UsageError(
    `--asset ${value}: the demo's chain is new at each run, so it takes "eth" or "token" (a test token it deploys), not an address`,
  );
}
