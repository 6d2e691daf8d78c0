// What a hub (ADR 0021) buys and costs, measured in this one run on anvil with the real contracts, the real
// `piecepay hub` as a child process (client/cli/bin.mjs, its SQLite store on disk, JSON-RPC over loopback WebSocket)
// and users on the SDK's HubConnection:
//   1. the channel life of a download from S seeders (default 5): the transactions leecher and seeders send once
//      their ledgers exist, counted from the chain (nonces, and every block's transactions by sender), against the
//      same download over direct channels (the SDK's open, fund and close, on the same chain; expected 2 per seeder);
//   2. virtual channels opened and closed per second by the hub: the full life of each (propose, join, fund with
//      both guarantees countersigned, close with V_F and both settlements countersigned) for N concurrent user
//      pairs, and the hub process's own CPU time per virtual channel (process.cpuUsage, read over IPC), against the
//      target of 200 virtual channels opened (and as many closed) per second;
//   3. the hub's memory (RSS and V8 heap after a full GC) in a fresh hub process before and after 1,000 ledgers are
//      opened through its API, with their users' connections open and after they closed;
//   4. that payments need the hub for nothing: vouchers on the virtual channels of 1 are checked by the payee at the
//      rate of a direct channel's (bench:vouchers' method, both on the same vouchers' signer), while the hub receives
//      no request and logs nothing.
// The users run in this process, the hub in its own, on the same cores: the wall-clock rate of 2 counts both; the
// hub's CPU time alone bounds what one core of hub can do.
// Usage: tsx scripts/bench-hub.ts [--json] [--seeders S] [--pairs N] [--virtual M] [--ledgers L] [--profile]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import {
  getAddress,
  HDNodeWallet,
  JsonRpcProvider,
  NonceManager,
  parseEther,
  type Signer,
  Wallet,
  ZeroAddress,
} from "ethers";
import {
  HubConnection,
  HubRpcClient,
  hubFee,
  ledgerOutcome,
  type ProposalOutcome,
  signLogin,
} from "../sdk/hub/index.js";
import {
  channelId,
  type FixedPart,
  MemoryChannelStore,
  PiecepayClient,
  signState,
  signVoucher,
  useSignatureBackend,
  type VariablePart,
  type Voucher,
  verifyVoucher,
} from "../sdk/node.js";
import { type LocalNode, root, startAnvil } from "../test/ts/helpers/nodes.js";
import {
  Adjudicator__factory,
  LedgerApp__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../typechain-types/index.js";
import { benchArgs, printReport } from "./bench-args.js";

const USAGE = `Usage: npm run bench:hub -- [--json] [--seeders S] [--pairs N] [--virtual M] [--ledgers L] [--profile]

On anvil, with \`piecepay hub\` as a child process and users on the SDK's HubConnection, measured in one run:
  1. a download's channels from --seeders S (default 5) through the hub: transactions sent by the leecher and the
     seeders once their ledgers exist (target 0), against direct channels (a deposit and a close per seeder),
     counted from the chain;
  2. --virtual M (default 2400) virtual channels, each through its whole life over the hub's API, by --pairs N
     (default 16) concurrent payer/payee pairs, after 4 lives per pair to warm up: opened and closed per second,
     and the hub's CPU time per virtual channel (target: 200 opened, and as many closed, per second by one hub on
     one core);
  3. the RSS and V8 heap of a fresh hub before and after --ledgers L (default 1000) ledgers opened through its API;
  4. vouchers on the virtual channels of 1, checked as a payee does, against a direct channel's, with the hub idle.
--profile also takes a V8 CPU profile of the hub during 2 and prints where its time went: self time by file and
function, and time inside each of our own functions (piecepay's sdk/ and client/) with what they call.
--json prints one JSON object.`;

const { json, counts, flags } = benchArgs(USAGE, { seeders: "5", pairs: "16", virtual: "2400", ledgers: "1000" }, [
  "profile",
]);
const SEEDERS = counts.seeders ?? 5;
const PAIRS = counts.pairs ?? 16;
const VIRTUAL = counts.virtual ?? 2400;
const LEDGERS = counts.ledgers ?? 1000;
const TARGET_PER_S = 200;
const FEE_BPS = 25n;
const X = parseEther("0.001");
const P = parseEther("0.0001");
const PHRASE = "test test test test test test test test test test test junk";
const devKey = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const MiB = 1024 * 1024;

function progress(line: string): void {
  if (!json) process.stderr.write(`  ${line}\n`);
}

// ------------------------------------------------------------------------------------------------- the chain

const scratch = mkdtempSync(path.join(tmpdir(), "piecepay-bench-hub-"));
const node: LocalNode = await startAnvil();
/** Hubs still running: stopped, with anvil, however the run ends. */
const running = new Set<HubProcess>();
async function cleanUp(): Promise<void> {
  for (const h of running) await h.stop();
  await node.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.once("uncaughtException", async (error) => {
  console.error(error);
  await cleanUp();
  process.exit(1);
});
process.once("unhandledRejection", async (error) => {
  console.error(error);
  await cleanUp();
  process.exit(1);
});
const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, staticNetwork: true });
provider.pollingInterval = 20;
const chainId = (await provider.getNetwork()).chainId;
const deployer = new NonceManager(devKey(9).connect(provider));
const funder = new NonceManager(devKey(4).connect(provider));
const deploy = async (factory: { deploy(): Promise<{ getAddress(): Promise<string> }> }) =>
  (await factory.deploy()).getAddress();
const addresses = {
  adjudicator: await deploy(new Adjudicator__factory(deployer)),
  voucherApp: await deploy(new VoucherPaymentApp__factory(deployer)),
  ledgerApp: await deploy(new LedgerApp__factory(deployer)),
  virtualApp: await deploy(new VirtualVoucherApp__factory(deployer)),
};
const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, funder);

/** A fresh wallet, with `eth` from the funder when given. */
async function wallet(eth?: string): Promise<Wallet> {
  const w = new Wallet(Wallet.createRandom().privateKey, provider);
  if (eth !== undefined) await (await funder.sendTransaction({ to: w.address, value: parseEther(eth) })).wait();
  return w;
}

function sdk(signer: Signer): Promise<PiecepayClient> {
  return PiecepayClient.create({
    signer,
    chainId,
    adjudicator: addresses.adjudicator,
    voucherApp: addresses.voucherApp,
    store: new MemoryChannelStore(),
    pollingIntervalMs: 20,
    blockTimeSeconds: 1,
    safetyMarginSeconds: 5,
    confirmations: 1,
  });
}

// -------------------------------------------------------------------------------------- the hub, a process

interface HubStats {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  profile?: CpuProfile;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

interface HubProcess {
  url: string;
  address: string;
  child: ChildProcess;
  /** Log lines it printed so far (one per thing it signs or refuses). */
  lines(): number;
  /** Its CPU time so far and its memory: after a full GC ("gc"), or starting or ending a CPU profile. */
  stats(ask?: "gc" | "profile-start" | "profile-stop"): Promise<HubStats>;
  stop(): Promise<void>;
}

// Loaded into the hub's process before the CLI: answers the benchmark's IPC questions (its CPU time, its memory
// after a full GC, a V8 CPU profile between two questions), changing nothing else.
const PROBE = `data:text/javascript,${encodeURIComponent(`let session;
process.on("message", async (m) => {
  let profile;
  if (m === "gc") globalThis.gc();
  if (m === "profile-start") {
    const { Session } = await import("node:inspector/promises");
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  if (m === "profile-stop") {
    ({ profile } = await session.post("Profiler.stop"));
    session.disconnect();
  }
  process.send({ memory: process.memoryUsage(), cpu: process.cpuUsage(), profile });
});`)}`;

async function startHub(key: HDNodeWallet): Promise<HubProcess> {
  const dataDir = mkdtempSync(path.join(scratch, "hub-"));
  mkdirSync(path.join(dataDir, "deployments"), { recursive: true });
  const contracts = {
    Adjudicator: { address: addresses.adjudicator },
    VoucherPaymentApp: { address: addresses.voucherApp },
    LedgerApp: { address: addresses.ledgerApp },
    VirtualVoucherApp: { address: addresses.virtualApp },
  };
  writeFileSync(
    path.join(dataDir, "deployments", `${chainId}.json`),
    JSON.stringify({ chainId: Number(chainId), contracts }),
  );
  const nodeFlags = ["--expose-gc", "--import", PROBE];
  const args = ["hub", "--key", key.privateKey, "--rpc", node.url, "--data-dir", dataDir, "--port", "0"];
  args.push("--fee-bps", String(FEE_BPS), "--capacity", "1", "--json");
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PIECEPAY_")));
  const child = spawn(process.execPath, [...nodeFlags, path.join(root, "client/cli/bin.mjs"), ...args], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let lines = 0;
  let first = "";
  let started = false;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      for (const c of text) if (c === "\n") lines++;
      if (started) return;
      first += text;
      if (first.includes("\n")) {
        started = true;
        resolve(JSON.parse(first.slice(0, first.indexOf("\n"))));
      }
    });
    void exited.then(() => reject(new Error(`the hub exited before it was ready:\n${stderr}`)));
  });
  const stats = (ask?: "gc" | "profile-start" | "profile-stop") =>
    new Promise<HubStats>((resolve) => {
      child.once("message", (m) => resolve(m as HubStats));
      child.send(ask ?? "stats");
    });
  const hubProcess: HubProcess = {
    url: String(ready.url),
    address: getAddress(String(ready.hub)),
    child,
    lines: () => lines,
    stats,
    async stop() {
      running.delete(hubProcess);
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(hubProcess);
  return hubProcess;
}

// ---------------------------------------------------------------------------------------- users of a hub

/** A HubConnection that resolves a promise per purpose ("fund <V>", "settle <V>") once it countersigned it. */
async function hubUser(client: PiecepayClient, url: string) {
  const waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const done = new Set<string>();
  const onProposal = (o: ProposalOutcome) => {
    const key = `${o.ledgerId.toLowerCase()} ${o.purpose}`;
    const w = waiting.get(key);
    if (!o.countersigned) {
      w?.reject(new Error(`${key} refused: ${o.reason}`));
      return;
    }
    done.add(key);
    w?.resolve();
  };
  const hub = await HubConnection.connect(client.context, url, { onProposal });
  const countersigned = (ledgerId: string, purpose: string) => {
    const key = `${ledgerId.toLowerCase()} ${purpose}`;
    if (done.has(key)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => waiting.set(key, { resolve, reject }));
  };
  return { client, hub, countersigned };
}
type HubUser = Awaited<ReturnType<typeof hubUser>>;

/**
 * One virtual channel's whole life through the hub: open (propose, join, fund, both guarantees countersigned),
 * vouchers up to `paid` (kept as a download keeps them), close (V_F by both, the hub's signature, both settlements
 * countersigned). Returns V's id.
 */
async function virtualLife(
  payer: HubUser,
  payee: HubUser,
  ledgers: { payer: string; payee: string },
  paid: bigint,
): Promise<string> {
  const proposal = await payer.hub.proposeVirtual({
    payee: payee.client.context.address,
    payerLedger: ledgers.payer,
    payeeLedger: ledgers.payee,
    amount: X,
  });
  const id = channelId(chainId, addresses.adjudicator, proposal.fixedPart);
  const payeeFunded = payee.countersigned(ledgers.payee, `fund ${id}`);
  await payer.hub.fundVirtual(proposal, await payee.hub.joinVirtual(proposal));
  await payer.countersigned(ledgers.payer, `fund ${id}`);
  await payeeFunded;
  const voucher = await signVoucher(payer.client.context.signer, id, paid);
  await payer.client.context.store.putVoucher("sent", voucher);
  await payee.client.context.store.putVoucher("received", voucher);
  const byPayer = await payer.hub.finalState(id, paid);
  const byPayee = await payee.hub.finalState(id, paid);
  const settled = [
    payee.countersigned(ledgers.payee, `settle ${id}`),
    payer.countersigned(ledgers.payer, `settle ${id}`),
  ];
  await payee.hub.closeVirtual(id, byPayee.state, byPayer.signature, byPayee.signature);
  await Promise.all(settled);
  return id;
}

/** Transactions sent by `addresses` in blocks `from..to`, read block by block from the chain. */
async function transactionsBy(senders: string[], from: number, to: number): Promise<number> {
  const wanted = new Set(senders.map((a) => a.toLowerCase()));
  let count = 0;
  for (let n = from; n <= to; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) if (wanted.has(tx.from.toLowerCase())) count++;
  }
  return count;
}

const nonces = (who: string[]) => Promise.all(who.map((a) => provider.getTransactionCount(a)));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// -------------------------------------------------------------------------- 1. a download's transactions

const hubKey = devKey(2);
const hub = await startHub(hubKey);
progress(`hub ${hub.address} at ${hub.url} (pid ${hub.child.pid}), anvil at ${node.url}`);

async function download() {
  const leecherWallet = await wallet("10");
  const seederWallets = await Promise.all(Array.from({ length: SEEDERS }, () => wallet("1")));
  const everyone = [leecherWallet.address, ...seederWallets.map((w) => w.address)];
  const leecher = await hubUser(await sdk(leecherWallet), hub.url);
  const seeders = await Promise.all(seederWallets.map(async (w) => hubUser(await sdk(w), hub.url)));

  // Through the hub: one ledger each (the leecher deposits; the hub deposits into each seeder's).
  const setupNonces = await nonces([...everyone, hub.address]);
  const { ledgerId: a } = await leecher.hub.openLedger({ deposit: parseEther("1") });
  const b: string[] = [];
  for (const s of seeders) b.push((await s.hub.openLedger({ capacity: parseEther("0.5") })).ledgerId);
  const from = await provider.getBlockNumber();
  const before = await nonces(everyone);
  const setup = (await nonces([...everyone, hub.address])).map((n, i) => n - setupNonces[i]);
  // One seeder after another, as they join the download: the leecher's ledger takes one proposal at a time.
  const vIds: string[] = [];
  for (const [i, s] of seeders.entries()) {
    vIds.push(await virtualLife(leecher, s, { payer: a, payee: b[i] }, P * BigInt(i + 1)));
  }
  const after = await nonces(everyone);
  const to = await provider.getBlockNumber();
  const hubRoute = {
    nonceDelta: sum(after.map((n, i) => n - before[i])),
    receipts: await transactionsBy(everyone, from + 1, to),
    ledgerSetup: { leecher: setup[0], seeders: sum(setup.slice(1, -1)), hub: setup[setup.length - 1] },
    blocksChecked: to - from,
  };

  // Direct channels: the same leecher pays each seeder through a channel of its own, opened, funded and closed.
  const directFrom = await provider.getBlockNumber();
  const directBefore = await nonces(everyone);
  for (const [i, s] of seeders.entries()) {
    const payer = leecher.client;
    const payee = s.client;
    const channel = await payer.open({ payee: payee.context.address, deposit: X }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id);
    for (let k = 0; k <= i; k++) await payee.receive(await payer.pay(channel.id, P));
    await payee.close(await payer.offerClose(channel.id));
  }
  const directAfter = await nonces(everyone);
  const directTo = await provider.getBlockNumber();
  const direct = {
    nonceDelta: sum(directAfter.map((n, i) => n - directBefore[i])),
    receipts: await transactionsBy(everyone, directFrom + 1, directTo),
    leecher: directAfter[0] - directBefore[0],
    seeders: sum(directAfter.slice(1).map((n, i) => n - directBefore[i + 1])),
  };
  return { leecher, seeders, ledgers: { a, b }, vIds, hubRoute, direct };
}

progress(`1. a download from ${SEEDERS} seeders, through the hub and over direct channels`);
const dl = await download();

// ------------------------------------------------------------------------ 4. vouchers need no hub (measured here)

/** Voucher checks per second over `vouchers` for about `seconds` (bench:vouchers' loop). */
function rate(vouchers: Voucher[], check: (v: Voucher) => void, seconds = 2): number {
  for (let i = 0; i < 50; i++) check(vouchers[i % vouchers.length]);
  let done = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 64; i++) check(vouchers[done++ % vouchers.length]);
    elapsed = process.hrtime.bigint() - start;
  }
  return (done * 1e9) / Number(elapsed);
}

async function vouchersWithoutHub() {
  progress("4. vouchers on a virtual channel against a direct channel's, the hub idle");
  // A live virtual channel of the first pair (opened, not closed): its payee checks every voucher alone.
  const leecher = dl.leecher;
  const seeder = dl.seeders[0];
  const proposal = await leecher.hub.proposeVirtual({
    payee: seeder.client.context.address,
    payerLedger: dl.ledgers.a,
    payeeLedger: dl.ledgers.b[0],
    amount: X,
  });
  const vId = channelId(chainId, addresses.adjudicator, proposal.fixedPart);
  const funded = seeder.countersigned(dl.ledgers.b[0], `fund ${vId}`);
  await leecher.hub.fundVirtual(proposal, await seeder.hub.joinVirtual(proposal));
  await funded;
  const direct = await leecher.client.open({ payee: seeder.client.context.address, deposit: X }, (p) =>
    seeder.client.join(p),
  );
  const signer = leecher.client.context.signer;
  const count = 256;
  const onVirtual: Voucher[] = [];
  const onDirect: Voucher[] = [];
  // A virtual voucher of `amount` costs the payer amount + fee(amount), all within x.
  const step = X / (BigInt(count) + 1n) - hubFee(X / (BigInt(count) + 1n), FEE_BPS);
  for (let i = 1; i <= count; i++) {
    onVirtual.push(await signVoucher(signer, vId, step * BigInt(i)));
    onDirect.push(await signVoucher(signer, direct.id, step * BigInt(i)));
  }
  const payer = leecher.client.context.address;
  const virtualContext = { channelId: vId, payer, deposited: X, best: 0n };
  const directContext = { channelId: direct.id, payer, deposited: X, best: 0n };
  const cpuBefore = await hub.stats();
  const linesBefore = hub.lines();
  useSignatureBackend("native");
  const rates = { direct: [] as number[], virtual: [] as number[] };
  for (let round = 0; round < 3; round++) {
    rates.direct.push(rate(onDirect, (v) => verifyVoucher(v, directContext)));
    rates.virtual.push(
      rate(onVirtual, (v) => {
        verifyVoucher(v, virtualContext);
        if (v.amount + hubFee(v.amount, FEE_BPS) > X) throw new Error("over x");
      }),
    );
  }
  // The seeder's HubConnection received vouchers through its store as a session would: the hub saw none.
  await seeder.client.context.store.putVoucher("received", onVirtual[count - 1]);
  const cpuAfter = await hub.stats();
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return {
    vouchers: count,
    directPerS: Math.round(median(rates.direct)),
    virtualPerS: Math.round(median(rates.virtual)),
    virtualOverDirect: Number((median(rates.virtual) / median(rates.direct)).toFixed(3)),
    hubLogLinesMeanwhile: hub.lines() - linesBefore,
    hubCpuMsMeanwhile: Math.round(
      (cpuAfter.cpu.user + cpuAfter.cpu.system - cpuBefore.cpu.user - cpuBefore.cpu.system) / 1000,
    ),
    seconds: Number(((rates.direct.length + rates.virtual.length) * 2).toFixed(0)),
  };
}
const vouchers = await vouchersWithoutHub();

// -------------------------------------------------------------------------- 2. virtual channels per second

async function throughput() {
  progress(`2. ${VIRTUAL} virtual channels over ${PAIRS} pairs: opening ${2 * PAIRS} ledgers`);
  const pairs: { payer: HubUser; payee: HubUser; ledgers: { payer: string; payee: string } }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const payer = await hubUser(await sdk(await wallet("2")), hub.url);
    const payee = await hubUser(await sdk(await wallet()), hub.url);
    const { ledgerId: pl } = await payer.hub.openLedger({ deposit: parseEther("1") });
    const { ledgerId: el } = await payee.hub.openLedger({ capacity: parseEther("1") });
    pairs.push({ payer, payee, ledgers: { payer: pl, payee: el } });
  }
  // Warm up, not counted: 4 lives per pair (the JIT, the store's statements). With one, the first few hundred
  // measured lives still ran partly unoptimized code: 600 lives measured 5.5 to 7 ms of hub CPU each, 2400 4.8.
  for (let k = 0; k < 4; k++) await Promise.all(pairs.map((p) => virtualLife(p.payer, p.payee, p.ledgers, P)));
  const per = Math.ceil(VIRTUAL / PAIRS);
  const total = per * PAIRS;
  progress(`   measuring ${total} lives (${per} per pair)`);
  const before = await hub.stats(flags.profile ? "profile-start" : undefined);
  const wallStart = process.hrtime.bigint();
  const ownStart = process.cpuUsage();
  const lifeMs: number[] = [];
  await Promise.all(
    pairs.map(async (p) => {
      for (let k = 0; k < per; k++) {
        const t = process.hrtime.bigint();
        await virtualLife(p.payer, p.payee, p.ledgers, P);
        lifeMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  const own = process.cpuUsage(ownStart);
  const after = await hub.stats(flags.profile ? "profile-stop" : undefined);
  const hubCpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  for (const p of pairs) {
    p.payer.hub.close();
    p.payee.hub.close();
  }
  lifeMs.sort((a, b) => a - b);
  const perS = total / wallSeconds;
  const cpuMsPerVirtual = (hubCpuSeconds * 1000) / total;
  return {
    pairs: PAIRS,
    virtualChannels: total,
    wallSeconds: Number(wallSeconds.toFixed(2)),
    openedPerS: Number(perS.toFixed(1)),
    openedAndClosedPerS: Number((2 * perS).toFixed(1)),
    hubCpuSeconds: Number(hubCpuSeconds.toFixed(2)),
    // In the kernel: mostly the store's writes and fsyncs, and the sockets.
    hubCpuSystemMsPerVirtual: Number(((after.cpu.system - before.cpu.system) / 1000 / total).toFixed(2)),
    hubCpuMsPerVirtual: Number(cpuMsPerVirtual.toFixed(2)),
    hubCoreBoundPerS: Number((1000 / cpuMsPerVirtual).toFixed(1)),
    hubCoreShare: Number((hubCpuSeconds / wallSeconds).toFixed(2)),
    usersCpuSeconds: Number(((own.user + own.system) / 1e6).toFixed(2)),
    lifeMsMedian: Number(lifeMs[Math.floor(lifeMs.length / 2)].toFixed(1)),
    lifeMsP95: Number(lifeMs[Math.floor(lifeMs.length * 0.95)].toFixed(1)),
    targetPerS: TARGET_PER_S,
    meetsTarget: perS >= TARGET_PER_S,
    hubCoreBoundMeetsTarget: 1000 / cpuMsPerVirtual >= TARGET_PER_S,
    profile: after.profile === undefined ? undefined : summarizeProfile(after.profile),
  };
}
const rateOf = await throughput();
for (const u of [dl.leecher, ...dl.seeders]) u.hub.close();
await hub.stop();

// ----------------------------------------------------------------------------------- 3. memory of ledgers

async function memory() {
  progress(`3. a fresh hub: memory before and after ${LEDGERS} ledgers`);
  const fresh = await startHub(devKey(3));
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const baseline = (await fresh.stats("gc")).memory;
    const users: HubRpcClient[] = [];
    let next = 0;
    const openOne = async () => {
      const user = Wallet.createRandom();
      const rpc = await HubRpcClient.connect(fresh.url);
      users.push(rpc);
      const { nonce } = (await rpc.call("login.nonce", {})) as { nonce: string };
      await rpc.call("login", {
        address: user.address,
        signature: await signLogin(user, fresh.address, chainId, nonce),
      });
      const fixedPart: FixedPart = {
        participants: [user.address, fresh.address],
        channelNonce: 1n,
        appDefinition: addresses.ledgerApp,
        challengeDuration: 7200n,
      };
      const info = (await rpc.call("info", {})) as { challengeDuration: string };
      fixedPart.challengeDuration = BigInt(info.challengeDuration);
      const id = channelId(chainId, addresses.adjudicator, fixedPart);
      const deposit = parseEther("0.001");
      const state: VariablePart = {
        outcome: ledgerOutcome(ZeroAddress, user.address, fresh.address, deposit, 0n),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      };
      await rpc.call("ledger.open", { fixedPart, state, signature: await signState(user, id, state) });
      // Anyone may deposit into a channel: the funder pays each user's share, so that users need no ETH.
      await (await adjudicator.deposit(ZeroAddress, id, 0n, deposit, { value: deposit })).wait();
      const synced = (await rpc.call("ledger.sync", { ledgerId: id })) as { phase: string };
      if (synced.phase !== "open") throw new Error(`ledger ${id} is ${synced.phase}, not open`);
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < LEDGERS) {
          next++;
          await openOne();
          if (users.length % 200 === 0) progress(`   ${users.length} ledgers open`);
        }
      }),
    );
    const open = (await fresh.stats("gc")).memory;
    for (const rpc of users) rpc.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const closed = (await fresh.stats("gc")).memory;
    const mib = (bytes: number) => Number((bytes / MiB).toFixed(1));
    const shape = (m: NodeJS.MemoryUsage) => ({ rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) });
    return {
      ledgers: users.length,
      baseline: shape(baseline),
      withConnectionsOpen: shape(open),
      afterConnectionsClosed: shape(closed),
      rssKiBPerLedgerWithConnection: Math.round((open.rss - baseline.rss) / 1024 / users.length),
      heapKiBPerLedgerWithConnection: Number(((open.heapUsed - baseline.heapUsed) / 1024 / users.length).toFixed(1)),
      heapKiBPerLedger: Number(((closed.heapUsed - baseline.heapUsed) / 1024 / users.length).toFixed(1)),
    };
  } finally {
    await fresh.stop();
  }
}
const mem = await memory();

// ------------------------------------------------------------------------------------------ the profile

/**
 * Where the hub's CPU went: self time by file and by function (file:line), and the total time inside each of
 * piecepay's own functions (sdk/, client/), callees included, each counted once per sample; largest first.
 */
function summarizeProfile(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes as (CpuProfile["nodes"][number] & { children?: number[] })[]) {
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const where = (url: string) => url.replace(/^file:\/\//, "").replace(root, "");
  const fileOf = (url: string) =>
    where(url)
      .replace(/^.*node_modules\//, "node_modules/")
      .replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*$/, "$1") || "(native)";
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inside = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(profile.samples[i])?.callFrame;
    if (frame === undefined || frame.functionName === "(idle)" || frame.functionName === "(program)") continue;
    busy += us;
    add(self, `${frame.functionName || "(anonymous)"} ${where(frame.url)}:${frame.lineNumber + 1}`, us);
    add(files, fileOf(frame.url), us);
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)?.callFrame;
      if (f === undefined || !/^(sdk|client)\//.test(where(f.url))) continue;
      const key = `${f.functionName || "(anonymous)"} ${where(f.url)}`;
      if (!seen.has(key)) add(inside, key, us);
      seen.add(key);
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [k, Math.round(us / 1000), Number(((100 * us) / busy).toFixed(1))] as const);
  return { busyMs: Math.round(busy / 1000), files: top(files, 12), functions: top(self, 20), inside: top(inside, 25) };
}

// --------------------------------------------------------------------------------------------- the report

const report = {
  download: {
    seeders: SEEDERS,
    throughHub: dl.hubRoute,
    direct: dl.direct,
    targetThroughHub: 0,
  },
  throughput: rateOf,
  memory: mem,
  vouchers,
  loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  cores: cpus().length,
  cpu: cpus()[0]?.model,
  node: process.version,
};

provider.destroy();
await cleanUp();

printReport(json, report, (r) => {
  const t = r.throughput;
  const d = r.download;
  const m = r.memory;
  const v = r.vouchers;
  const lines = [
    `1. A download's channels from ${d.seeders} seeders (transactions by leecher and seeders, read from the chain):`,
    `   through the hub, once the ledgers exist: ${d.throughHub.nonceDelta} (nonces), ${d.throughHub.receipts} (transactions in the ${d.throughHub.blocksChecked} blocks mined meanwhile); target 0: ${d.throughHub.nonceDelta === 0 && d.throughHub.receipts === 0 ? "met" : "MISSED"}`,
    `     (opening the ledgers: leecher ${d.throughHub.ledgerSetup.leecher}, seeders ${d.throughHub.ledgerSetup.seeders}, hub ${d.throughHub.ledgerSetup.hub}; once, for any number of downloads)`,
    `   direct channels: ${d.direct.nonceDelta} (nonces), ${d.direct.receipts} (transactions); leecher ${d.direct.leecher} deposits, seeders ${d.direct.seeders} closes`,
    `2. ${t.virtualChannels} virtual channels, each opened and closed through the hub's API, ${t.pairs} pairs at once:`,
    `   ${t.openedPerS}/s opened and as many closed (${t.openedAndClosedPerS} opens + closes/s) in ${t.wallSeconds} s; target >= ${t.targetPerS}/s: ${t.meetsTarget ? "met" : "MISSED"}`,
    `   hub CPU ${t.hubCpuMsPerVirtual} ms per virtual channel (${t.hubCpuSystemMsPerVirtual} ms of it in the kernel; ${t.hubCpuSeconds} s, ${t.hubCoreShare} of a core): one core of hub bounds it at ${t.hubCoreBoundPerS}/s (${t.hubCoreBoundMeetsTarget ? "met" : "MISSED"})`,
    `   users (this process) ${t.usersCpuSeconds} s of CPU; one life ${t.lifeMsMedian} ms median, ${t.lifeMsP95} ms p95`,
    `3. Hub memory, ${m.ledgers} ledgers opened through the API (after a full GC):`,
    `   baseline      RSS ${m.baseline.rssMiB} MiB, heap ${m.baseline.heapUsedMiB} MiB`,
    `   ledgers open, users connected  RSS ${m.withConnectionsOpen.rssMiB} MiB, heap ${m.withConnectionsOpen.heapUsedMiB} MiB (${m.rssKiBPerLedgerWithConnection} KiB RSS, ${m.heapKiBPerLedgerWithConnection} KiB heap per ledger)`,
    `   users gone    RSS ${m.afterConnectionsClosed.rssMiB} MiB, heap ${m.afterConnectionsClosed.heapUsedMiB} MiB (${m.heapKiBPerLedger} KiB heap per ledger)`,
    `4. Vouchers checked by a payee, ${v.vouchers} vouchers, median of 3 x 2 s each: direct ${v.directPerS.toLocaleString("en")}/s, virtual ${v.virtualPerS.toLocaleString("en")}/s (${v.virtualOverDirect}); the hub meanwhile: ${v.hubLogLinesMeanwhile} log lines, ${v.hubCpuMsMeanwhile} ms CPU`,
  ];
  const profile = r.throughput.profile;
  if (profile !== undefined) {
    lines.push(`The hub's CPU profile during 2 (${profile.busyMs} ms not idle), self time by file:`);
    for (const [k, ms, pct] of profile.files)
      lines.push(`   ${String(ms).padStart(6)} ms ${String(pct).padStart(5)}%  ${k}`);
    lines.push("   self time by function:");
    for (const [k, ms, pct] of profile.functions)
      lines.push(`   ${String(ms).padStart(6)} ms ${String(pct).padStart(5)}%  ${k}`);
    lines.push("   time inside piecepay's functions, callees included:");
    for (const [k, ms, pct] of profile.inside)
      lines.push(`   ${String(ms).padStart(6)} ms ${String(pct).padStart(5)}%  ${k}`);
  }
  lines.push(`load average (1, 5, 15 min) at the end: ${r.loadAverage.join(", ")} on ${r.cores} cores; Node ${r.node}`);
  return lines;
});
