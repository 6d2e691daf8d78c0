// What paying per piece costs a torrent client, measured in this one run on Hardhat's in-process chain, with real
// webtorrent peers over TCP loopback, real signatures (local wallets, as the CLI uses) and real SQLite stores on disk:
//   1. one seeder -> one leecher, the same file unpaid and paid: MiB/s each and their ratio (target >= 0.9); also
//      unpaid with TCP_NODELAY (as paid wires send), a reference for what that setting alone is worth, and unpaid
//      with plain webtorrent clients, for what the wire guard costs (every other run uses guarded clients);
//   2. from adding the torrent on a leecher (seeder already running) to its first verified paid piece, channel
//      opening included (target <= 500 ms), with the SDK's polling at POLL_MS and once at its default (4 s);
//   3. one seeder -> N leechers at once, unpaid and paid: aggregate MiB/s and their ratio (target >= 0.8).
// Every process-wide figure (peak RSS) is for this one Node process, which runs the chain and every peer.
// Usage: tsx scripts/bench-client.ts [--json] [--size MiB] [--leechers N] [--swarm-size MiB] [--piece KiB] [--runs N]
//                                    [--max-window PIECES]
import { once } from "node:events";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NonceManager, parseEther, Wallet, ZeroAddress } from "ethers";
import { network } from "hardhat";
import type { Torrent } from "webtorrent";
import WebTorrent from "webtorrent";
import { LOOPBACK_ONLY, sendWithoutDelay } from "../client/session/extension.js";
import { createTorrentClient } from "../client/session/guarded-client.js";
import { PaidLeecher } from "../client/session/leecher.js";
import { PaidSeeder } from "../client/session/seeder.js";
import { PiecepayClient, SqliteChannelStore } from "../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../typechain-types/index.js";

const USAGE = `Usage: npm run bench:client -- [--json] [--size MiB] [--leechers N] [--swarm-size MiB] [--piece KiB]
                              [--runs N] [--max-window PIECES]

Paid vs unpaid webtorrent on Hardhat's in-process chain, over TCP loopback, measured in one run:
  1. one seeder -> one leecher, a file of --size MiB (default 256): MiB/s unpaid and paid, ratio (target >= 0.9);
     also unpaid with TCP_NODELAY (as paid wires send), for reference
  2. adding a torrent -> first verified paid piece, channel opening included (target <= 500 ms)
  3. one seeder -> --leechers N (default 20) at once, a file of --swarm-size MiB (default 32): aggregate MiB/s
     unpaid and paid, ratio (target >= 0.8)
--piece sets the piece length in KiB (default 256); --runs how many times 1 and 3 run, unpaid and paid in turn
(default 3; the median counts); --max-window the paying leecher's maxWindow (default: the leecher's own, 256 pieces).
--json prints one JSON object with every figure, the targets and whether each is met.`;

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    size: { type: "string", default: "256" },
    leechers: { type: "string", default: "20" },
    "swarm-size": { type: "string", default: "32" },
    piece: { type: "string", default: "256" },
    runs: { type: "string", default: "3" },
    "max-window": { type: "string" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const SIZE_MIB = Number(values.size);
const LEECHERS = Number(values.leechers);
const SWARM_MIB = Number(values["swarm-size"]);
const PIECE_KIB = Number(values.piece);
const RUNS = Number(values.runs);
const MAX_WINDOW = values["max-window"] === undefined ? undefined : Number(values["max-window"]);
for (const [flag, value] of Object.entries({
  size: SIZE_MIB,
  leechers: LEECHERS,
  "swarm-size": SWARM_MIB,
  runs: RUNS,
  ...(MAX_WINDOW === undefined ? {} : { "max-window": MAX_WINDOW }),
})) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${flag} must be a positive integer`);
}
if (!Number.isInteger(PIECE_KIB) || PIECE_KIB < 16 || (PIECE_KIB & (PIECE_KIB - 1)) !== 0) {
  throw new Error("--piece must be a power of two, at least 16 (KiB)");
}

const MiB = 1024 * 1024;
const PIECE = PIECE_KIB * 1024;
const PRICE = parseEther("0.00001");
/** The SDK's polling interval here: the payee polls the chain for the deposit this often (its default is 4 s). */
const POLL_MS = 20;
const SDK_SETTINGS = { pollingIntervalMs: POLL_MS, blockTimeSeconds: 1, safetyMarginSeconds: 5, confirmations: 1 };
const FIRST_PIECE_TRIALS = 5;
const FIRST_PIECE_MIB = 4;
// Leechers get every piece from the seeder, never from each other (no PEX), so each figure measures one seeder.
const NO_DISCOVERY = { ...LOOPBACK_ONLY, utPex: false } as const;
const TARGETS = { singleRatio: 0.9, firstPieceMs: 500, swarmRatio: 0.8 };

// ------------------------------------------------------------------------------------------------ bookkeeping

const dir = mkdtempSync(join(tmpdir(), "piecepay-bench-"));
const clients = new Set<WebTorrent>();
const stores: SqliteChannelStore[] = [];
const seeders: PaidSeeder[] = [];

/** Peak resident set size while `run` runs, sampled every 20 ms, in MiB. */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ result: T; peakRssMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMiB: Math.round(peak / MiB) };
  } finally {
    clearInterval(timer);
  }
}

const warnings: string[] = [];
function warn(who: string, error: Error): void {
  warnings.push(`${who}: ${error.message}`);
  if (!values.json) process.stderr.write(`  warning from a ${who}: ${error.message}\n`);
}

function progress(message: string): void {
  if (!values.json) process.stderr.write(`  ${message}\n`);
}

/** Writes `mib` MiB of random bytes to a file, 16 MiB at a time (so that the file is not held in memory). */
async function randomFile(name: string, mib: number): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  const path = join(dir, "data", name);
  mkdirSync(join(dir, "data"), { recursive: true });
  const fd = openSync(path, "w");
  for (let left = mib; left > 0; left -= 16) writeSync(fd, randomBytes(Math.min(16, left) * MiB));
  closeSync(fd);
  return path;
}

async function destroyClient(client: WebTorrent): Promise<void> {
  clients.delete(client);
  await new Promise<void>((resolve) => client.destroy(() => resolve()));
}

async function cleanUp(): Promise<void> {
  for (const s of seeders.splice(0)) s.destroy();
  await Promise.all([...clients].map(destroyClient));
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------------------ chain

const { ethers } = await network.create();
const [deployer] = await ethers.getSigners();
const chainId = (await ethers.provider.getNetwork()).chainId;
const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();

/**
 * A fresh local wallet (what the CLI signs with) holding 100 ETH, behind a NonceManager: the SDK does not serialize
 * one account's transactions, so a seeder closing several channels at once with a bare Wallet sends two
 * transactions with one nonce and all but one fail ("Nonce too low").
 */
async function wallet(): Promise<NonceManager> {
  const w = new Wallet(Wallet.createRandom().privateKey, ethers.provider);
  await (await deployer.sendTransaction({ to: w.address, value: parseEther("100") })).wait();
  return new NonceManager(w);
}

async function sdk(signer: NonceManager, pollingIntervalMs = POLL_MS): Promise<PiecepayClient> {
  const store = new SqliteChannelStore(join(dir, `${await signer.getAddress()}-${stores.length}.db`));
  stores.push(store);
  return PiecepayClient.create({
    signer,
    chainId,
    adjudicator,
    voucherApp,
    store,
    ...SDK_SETTINGS,
    pollingIntervalMs,
  });
}

// ---------------------------------------------------------------------------------------------------- peers

interface Seeding {
  client: WebTorrent;
  torrent: Torrent;
  port: number;
  seeder?: PaidSeeder;
}

/** Seeds the file at `path`, paid through a PaidSeeder when `payee` is given, else as plain BitTorrent. */
/** Unpaid wires with TCP_NODELAY, as paid wires have: a reference that shows what that setting alone is worth. */
function withoutDelay(torrent: Torrent): void {
  torrent.on("wire", (wire) => sendWithoutDelay(torrent, wire));
}

/** A webtorrent client as piecepay makes them (every wire guarded), or plain webtorrent for the reference run. */
function torrentClient(guarded: boolean): WebTorrent {
  return guarded ? createTorrentClient(NO_DISCOVERY) : new WebTorrent(NO_DISCOVERY);
}

async function seed(path: string, payee?: PiecepayClient, noDelay = false, guarded = true): Promise<Seeding> {
  const client = torrentClient(guarded);
  clients.add(client);
  const seeder = payee
    ? new PaidSeeder({ client: payee, pricePerPiece: PRICE, asset: ZeroAddress, enforce: false })
    : undefined;
  if (seeder) seeders.push(seeder);
  seeder?.on("warning", (error: Error) => warn("seeder", error));
  const torrent = await new Promise<Torrent>((resolve) => {
    const t = client.seed(path, { announce: [], pieceLength: PIECE }, resolve);
    seeder?.attach(t);
    if (noDelay) withoutDelay(t);
  });
  if (!client.address()) await once(client, "listening");
  const port = client.address()?.port ?? client.torrentPort;
  return { client, torrent, port, seeder };
}

interface Leeching {
  client: WebTorrent;
  torrent: Torrent;
  leecher?: PaidLeecher;
  /** ms since `add` of: the first verified piece, the channel funded, the first voucher sent, done. */
  marks: { firstPiece?: number; funded?: number; firstVoucher?: number; done: Promise<number> };
}

/** Adds `seeding`'s torrent to a fresh client that connects to the seeder only; pays when `payer` is given. */
function leech(seeding: Seeding, payer?: PiecepayClient, noDelay = false, guarded = true): Leeching {
  const client = torrentClient(guarded);
  clients.add(client);
  const out = mkdtempSync(join(dir, "out-"));
  const start = performance.now();
  const torrent = client.add(seeding.torrent.torrentFile, { path: out });
  const leecher = payer
    ? new PaidLeecher({
        client: payer,
        maxPricePerPiece: PRICE,
        budget: parseEther("10"), // more than any file here costs: the budget never limits the download
        asset: ZeroAddress,
        ...(MAX_WINDOW ? { maxWindow: MAX_WINDOW } : {}),
      })
    : undefined;
  leecher?.attach(torrent);
  if (noDelay) withoutDelay(torrent);
  leecher?.on("warning", (error: Error) => warn("leecher", error));
  torrent.on("infoHash", () => torrent.addPeer(`127.0.0.1:${seeding.port}`));
  const since = () => Math.round((performance.now() - start) * 10) / 10;
  const marks: Leeching["marks"] = {
    done: new Promise<number>((resolve, reject) => {
      torrent.once("done", () => resolve(performance.now() - start));
      torrent.once("error", reject);
    }),
  };
  torrent.once("verified", () => {
    marks.firstPiece = since();
  });
  leecher?.once("channel", () => {
    marks.funded = since();
  });
  leecher?.once("paid", () => {
    marks.firstVoucher = since();
  });
  return { client, torrent, leecher, marks };
}

/** Closes the leecher's channels (one transaction each, by the seeder), then destroys its client. */
async function finish(leeching: Leeching): Promise<void> {
  if (leeching.leecher) {
    const settled = await leeching.leecher.settle();
    const pieces = leeching.torrent.pieces.length;
    const delivered = settled.reduce((a, p) => a + p.delivered, 0);
    if (delivered !== pieces || settled.some((p) => !p.closed)) {
      throw new Error(`settled ${delivered} of ${pieces} pieces (${settled.filter((p) => p.closed).length} closed)`);
    }
  }
  await destroyClient(leeching.client);
}

// ------------------------------------------------------------------------------------------------- the runs

const mibps = (mib: number, ms: number) => Math.round((mib / (ms / 1000)) * 10) / 10;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * One seeder -> one leecher of a `mib` MiB file; paid when `paid`; unpaid with TCP_NODELAY when `noDelay`; with
 * plain webtorrent clients (no wire guard) when not `guarded`.
 */
async function single(path: string, mib: number, paid: boolean, noDelay = false, guarded = true) {
  const seeding = await seed(path, paid ? await sdk(await wallet()) : undefined, noDelay, guarded);
  const vouchers = { sent: 0 };
  const leeching = leech(seeding, paid ? await sdk(await wallet()) : undefined, noDelay, guarded);
  leeching.leecher?.on("paid", () => vouchers.sent++);
  const ms = await leeching.marks.done;
  const firstPieceMs = leeching.marks.firstPiece;
  await finish(leeching);
  if (seeding.seeder && seeding.seeder.stats().served !== seeding.torrent.pieces.length) {
    throw new Error(`the seeder served ${seeding.seeder.stats().served} of ${seeding.torrent.pieces.length} pieces`);
  }
  seeding.seeder?.destroy();
  await destroyClient(seeding.client);
  return { seconds: Math.round(ms) / 1000, mibps: mibps(mib, ms), vouchers: vouchers.sent, firstPieceMs };
}

/** One seeder -> `n` leechers at once of a `mib` MiB file: aggregate MiB/s until the last one is done. */
async function swarm(path: string, mib: number, n: number, paid: boolean) {
  const seeding = await seed(path, paid ? await sdk(await wallet()) : undefined);
  const payers = paid ? await Promise.all(Array.from({ length: n }, async () => sdk(await wallet()))) : [];
  const start = performance.now();
  const leechings = Array.from({ length: n }, (_, i) => leech(seeding, payers[i]));
  const times = await Promise.all(leechings.map((l) => l.marks.done));
  const ms = performance.now() - start;
  await Promise.all(leechings.map(finish));
  seeding.seeder?.destroy();
  await destroyClient(seeding.client);
  return {
    seconds: Math.round(ms) / 1000,
    mibps: mibps(n * mib, ms),
    slowestLeecherSeconds: Math.round(Math.max(...times)) / 1000,
    fastestLeecherSeconds: Math.round(Math.min(...times)) / 1000,
  };
}

/** Fresh leechers, one after another, against one running paid seeder: add -> first verified piece. */
async function firstPiece(path: string, trials: number, seederPollingMs: number) {
  const seeding = await seed(path, await sdk(await wallet(), seederPollingMs));
  const payer = await wallet();
  const samples: Array<{ firstPiece: number; funded: number; firstVoucher: number }> = [];
  for (let i = 0; i < trials; i++) {
    const leeching = leech(seeding, await sdk(payer));
    await leeching.marks.done;
    const { firstPiece = Number.NaN, funded = Number.NaN, firstVoucher = Number.NaN } = leeching.marks;
    samples.push({ firstPiece, funded, firstVoucher });
    await finish(leeching);
  }
  seeding.seeder?.destroy();
  await destroyClient(seeding.client);
  return samples;
}

type Measured<F extends (...args: never[]) => Promise<unknown>> = {
  result: Awaited<ReturnType<F>>;
  peakRssMiB: number;
};

/** The median run by MiB/s, with every run's MiB/s and the highest peak RSS of them. */
function summary<T extends { mibps: number }>(runs: Array<{ result: T; peakRssMiB: number }>) {
  const sorted = [...runs].sort((a, b) => a.result.mibps - b.result.mibps);
  const mid = sorted[Math.floor(sorted.length / 2)].result;
  return {
    ...mid,
    runsMiBps: runs.map((r) => r.result.mibps),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
  };
}

const started = new Date();
async function measure() {
  progress(`writing ${SIZE_MIB} MiB and ${SWARM_MIB} MiB of random bytes to ${dir}`);
  const bigFile = await randomFile("big.bin", SIZE_MIB);
  const swarmFile = await randomFile("swarm.bin", SWARM_MIB);
  const smallFile = await randomFile("small.bin", FIRST_PIECE_MIB);

  progress("warming up (one small paid download)");
  await firstPiece(smallFile, 1, POLL_MS);

  const unpaid1: Array<Measured<typeof single>> = [];
  const noDelay1: Array<Measured<typeof single>> = [];
  const unguarded1: Array<Measured<typeof single>> = [];
  const paid1: Array<Measured<typeof single>> = [];
  for (let i = 1; i <= RUNS; i++) {
    progress(
      `1. one seeder -> one leecher, ${SIZE_MIB} MiB, unpaid, unpaid with TCP_NODELAY, paid (run ${i} of ${RUNS})`,
    );
    unpaid1.push(await withPeakRss(() => single(bigFile, SIZE_MIB, false)));
    noDelay1.push(await withPeakRss(() => single(bigFile, SIZE_MIB, false, true)));
    unguarded1.push(await withPeakRss(() => single(bigFile, SIZE_MIB, false, false, false)));
    paid1.push(await withPeakRss(() => single(bigFile, SIZE_MIB, true)));
  }

  progress(`2. add -> first verified paid piece, ${FIRST_PIECE_TRIALS} fresh leechers, polling ${POLL_MS} ms`);
  const first = await firstPiece(smallFile, FIRST_PIECE_TRIALS, POLL_MS);
  progress("2. add -> first verified paid piece, once with the SDK's default polling (4 s)");
  const firstDefault = await firstPiece(smallFile, 1, 4000);

  const unpaid3: Array<Measured<typeof swarm>> = [];
  const paid3: Array<Measured<typeof swarm>> = [];
  for (let i = 1; i <= RUNS; i++) {
    progress(`3. one seeder -> ${LEECHERS} leechers, ${SWARM_MIB} MiB, unpaid then paid (run ${i} of ${RUNS})`);
    unpaid3.push(await withPeakRss(() => swarm(swarmFile, SWARM_MIB, LEECHERS, false)));
    paid3.push(await withPeakRss(() => swarm(swarmFile, SWARM_MIB, LEECHERS, true)));
  }

  const single1 = {
    unpaid: summary(unpaid1),
    unpaidNoDelay: summary(noDelay1),
    unpaidUnguarded: summary(unguarded1),
    paid: summary(paid1),
  };
  const swarm3 = { unpaid: summary(unpaid3), paid: summary(paid3) };
  const singleRatio = ratio(single1.paid.mibps, single1.unpaid.mibps);
  const firstMs = first.map((s) => s.firstPiece);
  const swarmRatio = ratio(swarm3.paid.mibps, swarm3.unpaid.mibps);
  return {
    date: started.toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    pieceLengthKiB: PIECE_KIB,
    runs: RUNS,
    leecherMaxWindow: MAX_WINDOW ?? "default",
    pricePerPieceWei: PRICE.toString(),
    sdkPollingMs: POLL_MS,
    single: {
      sizeMiB: SIZE_MIB,
      ...single1,
      ratio: singleRatio,
      ratioToUnpaidNoDelay: ratio(single1.paid.mibps, single1.unpaidNoDelay.mibps),
      guardRatio: ratio(single1.unpaid.mibps, single1.unpaidUnguarded.mibps),
      target: TARGETS.singleRatio,
      met: singleRatio >= TARGETS.singleRatio,
    },
    firstPiece: {
      sizeMiB: FIRST_PIECE_MIB,
      trials: first.length,
      medianMs: median(firstMs),
      maxMs: Math.max(...firstMs),
      samplesMs: firstMs,
      medianFundedMs: median(first.map((s) => s.funded)),
      medianFirstVoucherMs: median(first.map((s) => s.firstVoucher)),
      inSingleRunsMs: paid1.map((m) => m.result.firstPieceMs),
      defaultPollingMs: firstDefault[0].firstPiece,
      target: TARGETS.firstPieceMs,
      met: median(firstMs) <= TARGETS.firstPieceMs,
    },
    swarm: {
      leechers: LEECHERS,
      sizeMiB: SWARM_MIB,
      ...swarm3,
      ratio: swarmRatio,
      target: TARGETS.swarmRatio,
      met: swarmRatio >= TARGETS.swarmRatio,
    },
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
const report = await measure().finally(cleanUp);

if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const r = report;
  const verdict = (met: boolean) => (met ? "met" : "MISSED");
  const s = r.single;
  const f = r.firstPiece;
  const w = r.swarm;
  console.log(
    `Paid vs unpaid webtorrent, measured in this run (${r.machine.cpus} cores, ${r.machine.cpu}, Node ${r.machine.node});`,
  );
  console.log(
    `piece length ${PIECE_KIB} KiB, TCP loopback, Hardhat's in-process chain, SDK polling ${POLL_MS} ms, one process;`,
  );
  console.log(
    `throughputs are the median of ${RUNS} runs (unpaid and paid alternate); leecher credit window: ${MAX_WINDOW === undefined ? "default" : `max ${MAX_WINDOW} pieces`}.`,
  );
  console.log("");
  console.log(`1. one seeder -> one leecher, ${s.sizeMiB} MiB          MiB/s     s   peak RSS MiB`);
  console.log(
    `   unpaid                                  ${row(s.unpaid.mibps, s.unpaid.seconds, s.unpaid.peakRssMiB)}`,
  );
  console.log(
    `   unpaid, TCP_NODELAY (reference)         ${row(s.unpaidNoDelay.mibps, s.unpaidNoDelay.seconds, s.unpaidNoDelay.peakRssMiB)}`,
  );
  console.log(
    `   unpaid, plain webtorrent (no guard)     ${row(s.unpaidUnguarded.mibps, s.unpaidUnguarded.seconds, s.unpaidUnguarded.peakRssMiB)}`,
  );
  console.log(
    `   paid (${String(s.paid.vouchers).padStart(4)} vouchers)                   ${row(s.paid.mibps, s.paid.seconds, s.paid.peakRssMiB)}`,
  );
  console.log(
    `   paid / unpaid: ${s.ratio} (target >= ${s.target}: ${verdict(s.met)}); runs, MiB/s: unpaid ${s.unpaid.runsMiBps.join(", ")}; paid ${s.paid.runsMiBps.join(", ")}`,
  );
  console.log(
    `   paid / unpaid with TCP_NODELAY: ${s.ratioToUnpaidNoDelay}; runs, MiB/s: ${s.unpaidNoDelay.runsMiBps.join(", ")}`,
  );
  console.log(
    `   unpaid guarded / plain webtorrent: ${s.guardRatio} (what the wire guard costs); runs, MiB/s: ${s.unpaidUnguarded.runsMiBps.join(", ")}`,
  );
  console.log("");
  console.log(`2. add -> first verified paid piece (channel opened on chain), ${f.trials} fresh leechers`);
  console.log(
    `   median ${f.medianMs} ms, max ${f.maxMs} ms (samples ${f.samplesMs.join(", ")}) (target <= ${f.target} ms: ${verdict(f.met)})`,
  );
  console.log(
    `   of which: channel funded at ${f.medianFundedMs} ms, first voucher sent at ${f.medianFirstVoucherMs} ms (medians)`,
  );
  console.log(
    `   in the ${s.sizeMiB} MiB runs: ${f.inSingleRunsMs.join(", ")} ms; with the SDK's default 4 s polling: ${f.defaultPollingMs} ms`,
  );
  console.log("");
  console.log(`3. one seeder -> ${w.leechers} leechers at once, ${w.sizeMiB} MiB each   MiB/s     s   peak RSS MiB`);
  console.log(
    `   unpaid (aggregate)                      ${row(w.unpaid.mibps, w.unpaid.seconds, w.unpaid.peakRssMiB)}`,
  );
  console.log(`   paid (aggregate)                        ${row(w.paid.mibps, w.paid.seconds, w.paid.peakRssMiB)}`);
  console.log(
    `   paid / unpaid: ${w.ratio} (target >= ${w.target}: ${verdict(w.met)}); runs, MiB/s: unpaid ${w.unpaid.runsMiBps.join(", ")}; paid ${w.paid.runsMiBps.join(", ")}`,
  );
  console.log("");
  console.log(`Peak RSS of the whole run: ${r.peakRssMiB} MiB`);
}

function row(mibPerS: number, seconds: number, rss: number): string {
  return `${mibPerS.toFixed(1).padStart(7)} ${seconds.toFixed(2).padStart(6)} ${String(rss).padStart(9)}`;
}
