// Ctrl-C (or a kill) in the middle of a paid `piecepay get`, then the same command again, as a user does it: the
// second run continues the channel the first one funded (one channel, one deposit), recognises every piece already
// on disk, and the seeder is paid exactly the pieces it delivered, read from the chain. `seed` and `get` are child
// processes of client/cli/bin.mjs on an anvil child process; the seeder's upload is throttled so that the download
// can be interrupted in its middle.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet } from "ethers";
import { accountStorePath } from "../../../client/cli/stores.js";
import { gasSpentSince, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { freePort, type LocalNode, root, startAnvil } from "../helpers/nodes.js";

const BIN = path.join(root, "client/cli/bin.mjs");
const PHRASE = "test test test test test test test test test test test junk";
const PIECE = 64 * 1024;
const PIECES = 16;
const PRICE = "0.001";
const PRICE_WEI = parseEther(PRICE);

/** The environment without any PIECEPAY_ variable of the machine. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PIECEPAY_")));
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv() }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

const jsonLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Stops a child with SIGINT, unless it already exited. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  await exited;
}

/** How many pieces of `file` on disk hash like the pieces of `data`: what a resumed run can reuse. */
function piecesOnDisk(file: string, data: Buffer): number {
  if (!existsSync(file)) return 0;
  const disk = readFileSync(file);
  let count = 0;
  for (let i = 0; i < PIECES; i++) {
    const piece = (b: Buffer) =>
      createHash("sha1")
        .update(b.subarray(i * PIECE, (i + 1) * PIECE))
        .digest("hex");
    if (disk.length >= (i + 1) * PIECE && piece(disk) === piece(data)) count++;
  }
  return count;
}

describe("piecepay get, interrupted and run again", function () {
  this.timeout(120_000);
  const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let record: string;
  let adjudicator: string;
  const scratchDirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-resume-"));
    scratchDirs.push(dir);
    return dir;
  };

  before(async function () {
    node = await startAnvil();
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
    const deployer = new Wallet(key(0).privateKey, provider);
    adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
    const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
    record = JSON.stringify({
      chainId: 31337,
      contracts: { Adjudicator: { address: adjudicator }, VoucherPaymentApp: { address: voucherApp } },
    });
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
    for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  });

  function dataDir(): string {
    const dir = scratch();
    mkdirSync(path.join(dir, "deployments"), { recursive: true });
    writeFileSync(path.join(dir, "deployments", "31337.json"), record);
    return dir;
  }

  /** `piecepay seed` until stopped: its ready line. */
  async function seed(file: string, seeder: HDNodeWallet, dir = dataDir(), port = 0) {
    const args = ["seed", file, "--price", PRICE, "--piece-length", "64", "--upload-limit", "256", "--port", `${port}`];
    const child = spawn(
      process.execPath,
      [
        BIN,
        ...args,
        "--json",
        "--enforce-after",
        "120",
        "--key",
        seeder.privateKey,
        "--rpc",
        node.url,
        "--data-dir",
        dir,
      ],
      { cwd: root, env: cleanEnv() },
    );
    child.stderr.resume();
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("\n")) resolve(JSON.parse(stdout.slice(0, stdout.indexOf("\n"))));
      });
      child.once("exit", (code) => reject(new Error(`seed exited with ${code}`)));
    });
    return { child, ready };
  }

  /** Starts `args`, stops it with `signal` once `enough()` holds; resolves with its exit code and signal. */
  function interrupt(args: string[], signal: NodeJS.Signals, enough: () => boolean) {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv() });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.resume();
    const poll = setInterval(() => {
      if (enough()) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 20);
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
      child.once("exit", (code, killed) => {
        clearInterval(poll);
        resolve({ code, signal: killed, stderr });
      }),
    );
  }

  /** Deposits the leecher sent since `from`: its transactions to the adjudicator's `deposit`. */
  async function depositsSince(from: number, payer: string): Promise<number> {
    const selector = Adjudicator__factory.createInterface().getFunction("deposit").selector;
    let count = 0;
    for (let n = from + 1; n <= (await provider.getBlockNumber()); n++) {
      const block = await provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from === payer && tx.to === adjudicator && tx.data.startsWith(selector)) count++;
      }
    }
    return count;
  }

  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    it(`${signal} mid-download, then the same get again: one channel, one deposit, the seeder paid exactly ${PIECES} pieces x price on chain, the leecher nothing more`, async function () {
      const seeder = key(signal === "SIGINT" ? 1 : 3);
      const leecher = key(signal === "SIGINT" ? 2 : 4);
      const data = randomBytes(PIECES * PIECE);
      const file = path.join(scratch(), "album.bin");
      writeFileSync(file, data);
      const before = await Promise.all([seeder, leecher].map((w) => provider.getBalance(w.address)));
      const start = await provider.getBlockNumber();
      const seeding = await seed(file, seeder);
      try {
        const out = scratch();
        const leecherDir = dataDir();
        const get = [
          "get",
          String(seeding.ready.torrent),
          "--max-price",
          PRICE,
          "--budget",
          "1",
          "--out",
          out,
          "--peer",
          `127.0.0.1:${seeding.ready.port}`,
          "--key",
          leecher.privateKey,
          "--rpc",
          node.url,
          "--data-dir",
          leecherDir,
          "--json",
        ];
        const target = path.join(out, "album.bin");
        const first = await interrupt(get, signal, () => piecesOnDisk(target, data) >= 3);
        if (signal === "SIGINT") {
          expect(first.code, first.stderr).to.equal(130);
          expect(first.stderr).to.match(/interrupted: channels stay open/);
        } else expect(first.signal).to.equal("SIGKILL");
        const kept = piecesOnDisk(target, data);
        expect(kept).to.be.within(3, PIECES - 1, "stopped in the middle of the download");

        const second = await cli(get);
        expect(second.code, second.stderr).to.equal(0);
        expect(readFileSync(target).equals(data)).to.equal(true);
        const done = jsonLines(second.stdout).find((line) => line.event === "done");
        // Every piece verified on disk before is recognised; the channel is the first run's.
        expect(done).to.include({ channels: 1, piecesOnDisk: kept, paid: (BigInt(PIECES) * PRICE_WEI).toString() });
        const store = new SqliteChannelStore(accountStorePath(leecherDir, leecher.address));
        try {
          expect((await store.listChannels()).map((c) => c.phase)).to.deep.equal(["withdrawn"]);
        } finally {
          store.close();
        }
        expect(await depositsSince(start, leecher.address)).to.equal(1);
        // From the chain: the seeder earned each piece once, the leecher paid that and its gas, to the wei.
        const [seederGas, leecherGas] = await gasSpentSince(provider, [seeder.address, leecher.address], start);
        const after = await Promise.all([seeder, leecher].map((w) => provider.getBalance(w.address)));
        expect(after[0] - before[0] + seederGas).to.equal(BigInt(PIECES) * PRICE_WEI);
        expect(before[1] - after[1] - leecherGas).to.equal(BigInt(PIECES) * PRICE_WEI);
      } finally {
        await stop(seeding.child);
      }
    });
  }
  it("the seeder stopped (Ctrl-C) and started again mid-download: the running get continues the same channel, one deposit, the seeder paid exactly the pieces x price on chain", async function () {
    const seeder = key(5);
    const leecher = key(6);
    const data = randomBytes(PIECES * PIECE);
    const file = path.join(scratch(), "album.bin");
    writeFileSync(file, data);
    const before = await Promise.all([seeder, leecher].map((w) => provider.getBalance(w.address)));
    const start = await provider.getBlockNumber();
    const seederDir = dataDir();
    const port = await freePort();
    let seeding = await seed(file, seeder, seederDir, port);
    try {
      const out = scratch();
      const target = path.join(out, "album.bin");
      const getting = cli([
        "get",
        String(seeding.ready.torrent),
        "--max-price",
        PRICE,
        "--budget",
        "1",
        "--out",
        out,
        "--peer",
        `127.0.0.1:${port}`,
        "--key",
        leecher.privateKey,
        "--rpc",
        node.url,
        "--data-dir",
        dataDir(),
        "--json",
      ]);
      while (piecesOnDisk(target, data) < 3) await new Promise((resolve) => setTimeout(resolve, 20));
      await stop(seeding.child);
      expect(piecesOnDisk(target, data)).to.be.below(PIECES, "stopped in the middle of the download");
      seeding = await seed(file, seeder, seederDir, port); // webtorrent on the leecher's side dials it again
      const got = await getting;
      expect(got.code, got.stderr).to.equal(0);
      expect(readFileSync(target).equals(data)).to.equal(true);
      const done = jsonLines(got.stdout).find((line) => line.event === "done");
      expect(done).to.include({ channels: 1, paid: (BigInt(PIECES) * PRICE_WEI).toString() });
      expect(await depositsSince(start, leecher.address)).to.equal(1);
      const [seederGas, leecherGas] = await gasSpentSince(provider, [seeder.address, leecher.address], start);
      const after = await Promise.all([seeder, leecher].map((w) => provider.getBalance(w.address)));
      expect(after[0] - before[0] + seederGas).to.equal(BigInt(PIECES) * PRICE_WEI);
      expect(before[1] - after[1] - leecherGas).to.equal(BigInt(PIECES) * PRICE_WEI);
    } finally {
      await stop(seeding.child);
    }
  });
  it("SIGTERM stops a get cleanly with exit code 143: nothing deposited, no channel in the store", async function () {
    const leecher = key(7);
    const leecherDir = dataDir();
    const before = await provider.getBalance(leecher.address);
    const magnet = `magnet:?xt=urn:btih:${randomBytes(20).toString("hex")}`;
    const args = ["get", magnet, "--max-price", PRICE, "--budget", "1", "--out", scratch(), "--peer", "127.0.0.1:9"];
    const keyArgs = ["--key", leecher.privateKey, "--rpc", node.url, "--data-dir", leecherDir, "--json"];
    // The store exists once get is connected to the chain: from then on it waits for peers.
    const run = await interrupt([...args, ...keyArgs], "SIGTERM", () =>
      existsSync(accountStorePath(leecherDir, leecher.address)),
    );
    expect(run.code, run.stderr).to.equal(143);
    expect(run.stderr).to.match(/^error: interrupted: channels stay open/m);
    expect(await provider.getBalance(leecher.address)).to.equal(before);
    const store = new SqliteChannelStore(accountStorePath(leecherDir, leecher.address));
    try {
      expect(await store.listChannels()).to.deep.equal([]);
    } finally {
      store.close();
    }
  });
});
