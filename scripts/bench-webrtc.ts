// Node -> Node over WebRTC, paid and unpaid, measured in this one run: a seeder and a leecher that meet through a
// WebSocket tracker on loopback and reach each other only over WebRTC (webrtc-polyfill, as `--webrtc` loads it),
// with guarded clients, real signatures and SQLite stores, on Hardhat's in-process chain. Unpaid and paid runs
// alternate; the median of each counts. Every wire is checked to be WebRTC, and every paid run to settle in full.
// MiB/s counts from the first wire to the last verified piece; WebRTC's connection set-up (add -> first wire; about
// 1 s with our webrtc-polyfill patch, 10 s before it: see client/README.md) is printed apart.
// Usage: tsx scripts/bench-webrtc.ts [--json] [--size MiB] [--piece KiB] [--runs N]
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import Server from "bittorrent-tracker/server";
import { NonceManager, parseEther, Wallet, ZeroAddress } from "ethers";
import { network } from "hardhat";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { loadNodeWebRtc } from "../client/cli/webrtc.js";
import { LOOPBACK_ONLY } from "../client/session/extension.js";
import { createTorrentClient } from "../client/session/guarded-client.js";
import { PaidLeecher } from "../client/session/leecher.js";
import { PaidSeeder } from "../client/session/seeder.js";
import { PiecepayClient, SqliteChannelStore } from "../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../typechain-types/index.js";
import { benchArgs, printReport } from "./bench-args.js";

const USAGE = `Usage: npm run bench:webrtc -- [--json] [--size MiB] [--piece KiB] [--runs N]

One Node seeder -> one Node leecher over WebRTC (a WebSocket tracker on loopback; no TCP peer), a file of --size MiB
(default 32), pieces of --piece KiB (default 256), unpaid and paid in turn --runs times (default 3): MiB/s of each
(median, from the connection to the last piece) and paid / unpaid, and the median connection set-up time.
--json prints one JSON object.`;

const { json, counts } = benchArgs(USAGE, { size: "32", piece: "256", runs: "3" });
const SIZE_MIB = Number(counts.size);
const PIECE_KIB = Number(counts.piece);
const RUNS = Number(counts.runs);
const MiB = 1024 * 1024;
const PRICE = parseEther("0.00001");
const POLL_MS = 20;
const SDK_SETTINGS = { pollingIntervalMs: POLL_MS, blockTimeSeconds: 1, safetyMarginSeconds: 5, confirmations: 1 };

const progress = (message: string) => {
  if (!json) process.stderr.write(`  ${message}\n`);
};

const dir = mkdtempSync(join(tmpdir(), "piecepay-bench-webrtc-"));
const stores: SqliteChannelStore[] = [];
const wrtc = await loadNodeWebRtc();
const tracker = new Server({ udp: false, http: false, ws: true, stats: false });
await new Promise<void>((resolve) => tracker.listen(0, "127.0.0.1", () => resolve()));
const announce = `ws://127.0.0.1:${(tracker.http?.address() as AddressInfo | undefined)?.port}`;

const { ethers } = await network.create();
const [deployer] = await ethers.getSigners();
const chainId = (await ethers.provider.getNetwork()).chainId;
const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();

async function sdk(): Promise<PiecepayClient> {
  const signer = new NonceManager(new Wallet(Wallet.createRandom().privateKey, ethers.provider));
  await (await deployer.sendTransaction({ to: await signer.getAddress(), value: parseEther("100") })).wait();
  const store = new SqliteChannelStore(join(dir, `${await signer.getAddress()}.db`));
  stores.push(store);
  return PiecepayClient.create({ signer, chainId, adjudicator, voucherApp, store, ...SDK_SETTINGS });
}

function randomFile(mib: number): string {
  mkdirSync(join(dir, "data"), { recursive: true });
  const path = join(dir, "data", "file.bin");
  const fd = openSync(path, "w");
  for (let left = mib; left > 0; left -= 16) writeSync(fd, randomBytes(Math.min(16, left) * MiB));
  closeSync(fd);
  return path;
}

const destroy = (client: WebTorrent) => new Promise<void>((resolve) => client.destroy(() => resolve()));
const typeOf = (torrent: Torrent) => torrent.wires.map((w) => (w as unknown as { type: string }).type);

/** One download over WebRTC: MiB/s from the leecher's first wire to its last verified piece, and the set-up time. */
async function once(path: string, paid: boolean) {
  // No STUN server: loopback needs none, and an unreachable one would hold every offer.
  const options = { ...LOOPBACK_ONLY, utPex: false, tracker: { wrtc, rtcConfig: { iceServers: [] } } };
  const seedClient = createTorrentClient(options);
  const leechClient = createTorrentClient(options);
  const seeder = paid ? new PaidSeeder({ client: await sdk(), pricePerPiece: PRICE, asset: ZeroAddress }) : undefined;
  const payer = paid ? await sdk() : undefined;
  try {
    const seederId = (seedClient as unknown as { peerId: string }).peerId;
    const offered = new Promise<void>((resolve) => {
      const onStart = (peerId: string) => {
        if (peerId !== seederId) return;
        tracker.off("start", onStart);
        resolve();
      };
      tracker.on("start", onStart);
    });
    const seeded = await new Promise<Torrent>((resolve) => {
      const t = seedClient.seed(path, { announce: [announce], pieceLength: PIECE_KIB * 1024 }, resolve);
      seeder?.attach(t);
    });
    // The leecher's offers must not cross the seeder's (both duplicate connections would close): it starts once the
    // seeder's offers went out, as in test/ts/client/webrtc.test.ts.
    await offered;
    const start = performance.now();
    const torrent = leechClient.add(seeded.torrentFile, { path: mkdtempSync(join(dir, "out-")) });
    const leecher = payer
      ? new PaidLeecher({ client: payer, maxPricePerPiece: PRICE, budget: parseEther("10"), asset: ZeroAddress })
      : undefined;
    leecher?.attach(torrent);
    let connected = Number.NaN;
    torrent.once("wire", () => {
      connected = performance.now();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the download did not finish within 120 s")), 120_000);
      torrent.once("done", () => {
        clearTimeout(timer);
        resolve();
      });
      torrent.once("error", reject);
    });
    const ms = performance.now() - connected;
    const types = [...typeOf(torrent), ...typeOf(seeded)];
    if (types.some((t) => t !== "webrtc")) throw new Error(`a wire that is not WebRTC: ${types.join(", ")}`);
    if (leecher) {
      const settled = await leecher.settle();
      const delivered = settled.reduce((a, p) => a + p.delivered, 0);
      if (delivered !== torrent.pieces.length || settled.some((p) => !p.closed)) {
        throw new Error(`settled ${delivered} of ${torrent.pieces.length} pieces`);
      }
    }
    return {
      connectSeconds: Math.round(connected - start) / 1000,
      mibps: Math.round((SIZE_MIB / (ms / 1000)) * 10) / 10,
    };
  } finally {
    seeder?.destroy();
    await Promise.all([destroy(leechClient), destroy(seedClient)]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure() {
  progress(`writing ${SIZE_MIB} MiB of random bytes to ${dir}`);
  const path = randomFile(SIZE_MIB);
  const unpaid: number[] = [];
  const paid: number[] = [];
  const connect: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    progress(`one seeder -> one leecher over WebRTC, ${SIZE_MIB} MiB, unpaid then paid (run ${i} of ${RUNS})`);
    for (const [runs, isPaid] of [
      [unpaid, false],
      [paid, true],
    ] as const) {
      const run = await once(path, isPaid);
      runs.push(run.mibps);
      connect.push(run.connectSeconds);
    }
  }
  return {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    sizeMiB: SIZE_MIB,
    pieceLengthKiB: PIECE_KIB,
    runs: RUNS,
    unpaidMiBps: median(unpaid),
    paidMiBps: median(paid),
    ratio: Math.round((median(paid) / median(unpaid)) * 1000) / 1000,
    runsMiBps: { unpaid, paid },
    medianConnectSeconds: median(connect),
  };
}

const report = await measure().finally(async () => {
  for (const s of stores.splice(0)) s.close();
  await new Promise<void>((resolve) => tracker.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
printReport(json, report, (r) => [
  `Node -> Node over WebRTC, measured in this run (${r.machine.cpus} cores, ${r.machine.cpu}, Node ${r.machine.node});`,
  `${r.sizeMiB} MiB, pieces of ${r.pieceLengthKiB} KiB, median of ${r.runs} runs (unpaid and paid alternate)`,
  `  unpaid  ${r.unpaidMiBps} MiB/s   (runs ${r.runsMiBps.unpaid.join(", ")})`,
  `  paid    ${r.paidMiBps} MiB/s   (runs ${r.runsMiBps.paid.join(", ")})`,
  `  paid / unpaid: ${r.ratio}`,
  `  WebRTC connection set-up (add -> first wire, not in the MiB/s): median ${r.medianConnectSeconds} s`,
]);
// node-datachannel's threads would keep the process alive after the last connection closed.
process.exit(0);
