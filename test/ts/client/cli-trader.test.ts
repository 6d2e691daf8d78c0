// `piecepay get --price`: a downloader that sells what it has verified, as the user runs it. Three processes on anvil:
// an origin `seed`, a trader `get --price --seed` that buys from it, and a later `get` that knows only the trader's
// address and buys every piece from it. Every amount is judged by the chain (balances less gas, and the chain's
// payout events as `piecepay channels --rpc` reads them), and the trader's own figures must equal the chain's.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet } from "ethers";
import { progressLine } from "../../../client/cli/output.js";
import { accountStorePath } from "../../../client/cli/stores.js";
import { gasSpentSince, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, root, startAnvil } from "../helpers/nodes.js";
import { BIN, cleanEnv, cli, jsonLines, type Running, startCli, useScratchDirs } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);

/** Resolves with the first --json line of `running` whose event is `event`, polling its stdout. */
async function lineOf(running: Running, event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = jsonLines(running.stdout()).find((l) => l.event === event);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no "${event}" line within ${timeoutMs} ms:\n${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("piecepay get --price: a downloader that sells what it verified", function () {
  this.timeout(60_000);
  const scratch = useScratchDirs("piecepay-trader-");

  describe("usage errors", function () {
    it("refuses --price without a paid download, a price of 0, --seed on a paid get that sells nothing, and a seller's flag without --price", async function () {
      const magnet = `magnet:?xt=urn:btih:${"ab".repeat(20)}`;
      const paid = ["--max-price", "0.001", "--budget", "1"];
      const [free, zero, seedOnly, enforce] = await Promise.all([
        cli(["get", magnet, "--price", "0.001"]),
        cli(["get", magnet, ...paid, "--price", "0"]),
        cli(["get", magnet, ...paid, "--seed"]),
        cli(["get", magnet, ...paid, "--enforce-after", "5"]),
      ]);
      for (const run of [free, zero, seedOnly, enforce]) {
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stdout).to.equal("");
        expect(run.stderr).to.include("piecepay get --help");
      }
      expect(free.stderr).to.include("error: --price sells the pieces we verify: give --max-price and --budget too");
      expect(zero.stderr).to.include("error: --price must be above 0 ETH, not 0");
      expect(seedOnly.stderr).to.include("error: a paid get shares nothing, so --seed alone has nothing to do");
      expect(enforce.stderr).to.include("error: --enforce-after is for selling: give --price too");
    });
  });

  describe("the progress line", function () {
    it("shows the vouchers both ways, whole, when we buy and sell", function () {
      const stats = { bytes: 1536, total: 3072, peers: 2, paid: parseEther("0.002"), earned: parseEther("0.0004") };
      expect(progressLine("get", stats)).to.equal(
        "get  [##########----------]  50%  1.5 KiB/3.0 KiB  2 peers  vouchers paid 0.002 ETH earned 0.0004 ETH",
      );
      expect(progressLine("get", stats, 60)).to.equal("get  50%  vouchers paid 0.002 ETH earned 0.0004 ETH");
    });
  });

  describe("free get --seed", function () {
    it("keeps sharing after its download: a later get that knows only its address gets the file, and Ctrl-C ends it with 0", async function () {
      const file = path.join(scratch(), "free.bin");
      const data = randomBytes(1024 * 1024);
      writeFileSync(file, data);
      // --rpc at nothing: a free get that touched a chain would fail.
      const none = ["--rpc", "http://127.0.0.1:9", "--no-dht", "--no-lsd"];
      const origin = await startCli(["seed", file, "--free", "--data-dir", scratch(), ...none]);
      const sharer = await startCli([
        "get",
        String(origin.ready.torrent),
        "--seed",
        "--peer",
        `127.0.0.1:${origin.ready.port}`,
        "--out",
        scratch(),
        ...none,
      ]);
      try {
        expect(sharer.ready).to.include({ event: "listening", free: true, seed: true });
        await lineOf(sharer, "done");
        origin.child.kill("SIGINT");
        await origin.exited;
        const out = scratch();
        const later = await cli([
          "get",
          String(origin.ready.torrent),
          "--peer",
          `127.0.0.1:${sharer.ready.port}`,
          "--out",
          out,
          ...none,
        ]);
        expect(later.code, later.stderr).to.equal(0);
        expect(readFileSync(path.join(out, "free.bin")).equals(data)).to.equal(true);
        sharer.child.kill("SIGINT");
        expect((await sharer.exited).code, sharer.stderr()).to.equal(0);
        const stopped = await lineOf(sharer, "stopped");
        expect(Number(stopped.uploaded)).to.be.at.least(data.length);
      } finally {
        origin.child.kill("SIGINT");
        sharer.child.kill("SIGINT");
        await Promise.all([origin.exited, sharer.exited]);
      }
    });
  });

  describe("on anvil: origin, trader, later buyer", function () {
    let node: LocalNode;
    let provider: JsonRpcProvider;
    let deployment: string;

    before(async function () {
      node = await startAnvil();
      provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
      const deployer = new Wallet(key(0).privateKey, provider);
      const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
      const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
      deployment = JSON.stringify({
        chainId: 31337,
        contracts: { Adjudicator: { address: adjudicator }, VoucherPaymentApp: { address: voucherApp } },
      });
    });
    after(async () => {
      provider?.destroy();
      await node?.stop();
    });

    /** A fresh data dir with the suite's deployment record. */
    function dataDir(): string {
      const dir = scratch();
      mkdirSync(path.join(dir, "deployments"), { recursive: true });
      writeFileSync(path.join(dir, "deployments", "31337.json"), deployment);
      return dir;
    }

    /**
     * The origin (`seed --price 0.001`, pieces of 64 KiB) and a trader that buys from it and resells at 0.0004 with
     * `--seed`, both as child processes on the suite's anvil; `extra` goes to the trader's `get`.
     */
    async function originAndTrader(file: string, origin: HDNodeWallet, trader: HDNodeWallet, extra: string[] = []) {
      const chain = ["--rpc", node.url];
      const seeding = await startCli([
        "seed",
        file,
        "--price",
        "0.001",
        "--piece-length",
        "64",
        "--key",
        origin.privateKey,
        "--data-dir",
        dataDir(),
        ...chain,
      ]);
      const traderDir = dataDir();
      const trading = await startCli([
        "get",
        String(seeding.ready.torrent),
        "--max-price",
        "0.001",
        "--budget",
        "1",
        "--price",
        "0.0004",
        "--seed",
        ...extra,
        "--peer",
        `127.0.0.1:${seeding.ready.port}`,
        "--out",
        scratch(),
        "--key",
        trader.privateKey,
        "--data-dir",
        traderDir,
        ...chain,
      ]);
      return { seeding, trading, traderDir };
    }

    it("the trader buys from the origin at its price, sells every piece to a later buyer at its own, and says what the chain paid each way", async function () {
      const PIECES = 32n;
      const ORIGIN_PRICE = parseEther("0.001");
      const RESALE = parseEther("0.0004"); // the trader's price
      const file = path.join(scratch(), "song.bin");
      const data = randomBytes(Number(PIECES) * 64 * 1024);
      writeFileSync(file, data);
      const [origin, trader, buyer] = [key(1), key(2), key(3)];
      const chain = ["--rpc", node.url];
      const balances = () => Promise.all([origin, trader, buyer].map((w) => provider.getBalance(w.address)));
      const start0 = await provider.getBlockNumber();
      const before0 = await balances();
      const { seeding, trading, traderDir } = await originAndTrader(file, origin, trader);
      try {
        // Its first line says where it sells, and at what price.
        expect(trading.ready).to.include({
          event: "selling",
          payee: trader.address,
          pricePerPiece: RESALE.toString(),
          seed: true,
        });
        expect(await lineOf(trading, "done")).to.include({ paid: (PIECES * ORIGIN_PRICE).toString(), channels: 1 });
        // The origin leaves: the later buyer can get the file from the trader alone.
        seeding.child.kill("SIGINT");
        await seeding.exited;

        const start = await provider.getBlockNumber();
        const before = await balances();
        const out = scratch();
        const got = await cli([
          "get",
          String(seeding.ready.torrent),
          "--max-price",
          "0.001",
          "--budget",
          "1",
          // It sells too, without --seed: it leaves by itself once its download is closed (nobody buys from it).
          "--price",
          "0.0002",
          "--peer",
          `127.0.0.1:${trading.ready.port}`,
          "--out",
          out,
          "--key",
          buyer.privateKey,
          "--data-dir",
          dataDir(),
          ...chain,
          "--json",
        ]);
        expect(got.code, got.stderr).to.equal(0);
        expect(readFileSync(path.join(out, "song.bin")).equals(data)).to.equal(true);
        const settled = jsonLines(got.stdout).filter((l) => l.event === "settled");
        expect(settled).to.have.lengthOf(1);
        expect(settled[0]).to.include({ delivered: Number(PIECES), pricePerPiece: RESALE.toString() });
        expect(jsonLines(got.stdout).find((l) => l.event === "summary")).to.include({
          paid: (PIECES * RESALE).toString(),
          earned: "0",
          net: (-PIECES * RESALE).toString(),
        });

        trading.child.kill("SIGINT");
        expect((await trading.exited).code, trading.stderr()).to.equal(0);

        // The chain: the buyer paid the trader pieces x its price, and nobody else; the trader earned exactly that.
        const after = await balances();
        const [originGas, traderGas, buyerGas] = await gasSpentSince(
          provider,
          [origin, trader, buyer].map((w) => w.address),
          start,
        );
        expect(after[1] - before[1], "the trader earned").to.equal(PIECES * RESALE - traderGas);
        expect(before[2] - after[2], "the buyer paid").to.equal(PIECES * RESALE + buyerGas);
        expect(after[0] - before[0] + originGas, "the origin, gone").to.equal(0n);
        // Over the whole run: the trader paid the origin pieces x its price, and is up the difference.
        const [originGas0, traderGas0] = await gasSpentSince(provider, [origin.address, trader.address], start0);
        expect(after[0] - before0[0]).to.equal(PIECES * ORIGIN_PRICE - originGas0);
        expect(after[1] - before0[1]).to.equal(PIECES * RESALE - PIECES * ORIGIN_PRICE - traderGas0);

        // What the trader printed equals the chain: per peer and in total.
        const said = jsonLines(trading.stdout());
        const trades = said.filter((l) => l.event === "trade");
        expect(trades).to.have.lengthOf(2);
        const fromOrigin = trades.find((t) => t.peer === `127.0.0.1:${seeding.ready.port}`);
        const toBuyer = trades.find((t) => t !== fromOrigin);
        expect(fromOrigin).to.include({
          bought: Number(PIECES),
          sold: 0,
          paid: (PIECES * ORIGIN_PRICE).toString(),
          earned: "0",
        });
        expect(toBuyer).to.include({
          bought: 0,
          sold: Number(PIECES),
          paid: "0",
          earned: (PIECES * RESALE).toString(),
        });
        expect(said.find((l) => l.event === "summary")).to.include({
          paid: (PIECES * ORIGIN_PRICE).toString(),
          earned: (PIECES * RESALE).toString(),
          net: (PIECES * RESALE - PIECES * ORIGIN_PRICE).toString(),
        });
        expect(said.find((l) => l.event === "closed")).to.include({
          served: Number(PIECES),
          earned: (PIECES * RESALE).toString(),
        });
        expect(said.filter((l) => l.event === "left-open")).to.deep.equal([]);

        // `piecepay channels --rpc` shows both roles of the trader, with the chain's payout figures.
        const listed = await cli(["channels", "--data-dir", traderDir, ...chain, "--json"]);
        expect(listed.code, listed.stderr).to.equal(0);
        const rows = jsonLines(listed.stdout);
        expect(rows.map((r) => r.role)).to.have.members(["payer", "payee"]);
        expect(rows.find((r) => r.role === "payer")).to.include({ paid: (PIECES * ORIGIN_PRICE).toString() });
        expect(rows.find((r) => r.role === "payee")).to.include({ earned: (PIECES * RESALE).toString() });
      } finally {
        seeding.child.kill("SIGINT");
        trading.child.kill("SIGINT");
        await Promise.all([seeding.exited, trading.exited]);
      }
    });

    it("Ctrl-C while a buyer is part way: the buyer closes at what it got, and the trader's earned is the chain's", async function () {
      const PIECES = 32;
      const RESALE = parseEther("0.0004");
      const file = path.join(scratch(), "clip.bin");
      writeFileSync(file, randomBytes(PIECES * 64 * 1024));
      const [origin, trader, buyer] = [key(4), key(5), key(6)];
      const chain = ["--rpc", node.url];
      // One piece a second up: the buyer is part way for half a minute.
      const { seeding, trading, traderDir } = await originAndTrader(file, origin, trader, ["--upload-limit", "64"]);
      const buying = spawn(
        process.execPath,
        [
          BIN,
          "get",
          String(seeding.ready.torrent),
          "--max-price",
          "0.001",
          "--budget",
          "1",
          "--peer",
          `127.0.0.1:${trading.ready.port}`,
          "--out",
          scratch(),
          "--key",
          buyer.privateKey,
          "--data-dir",
          dataDir(),
          ...chain,
          "--json",
        ],
        { cwd: root, env: cleanEnv({}), stdio: "ignore" },
      );
      const buyerExited = new Promise((resolve) => buying.once("exit", resolve));
      const store = new SqliteChannelStore(accountStorePath(traderDir, trader.address));
      try {
        await lineOf(trading, "done");
        seeding.child.kill("SIGINT");
        await seeding.exited;
        const start = await provider.getBlockNumber();
        const before = await Promise.all([trader, buyer].map((w) => provider.getBalance(w.address)));
        // Part way: the trader holds a voucher of 8 pieces or more from the buyer (a few delivered, many to go).
        const deadline = Date.now() + 30_000;
        for (;;) {
          const sold = (await store.listChannels()).filter((r) => r.myIndex === 1);
          const vouchers = await Promise.all(sold.map((r) => store.getVoucher("received", r.id)));
          if (vouchers.some((v) => v !== undefined && v.amount >= 8n * RESALE)) break;
          if (Date.now() > deadline) throw new Error(`the buyer paid no 8 pieces within 30 s:\n${trading.stderr()}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        trading.child.kill("SIGINT");
        expect((await trading.exited).code, trading.stderr()).to.equal(0);
        buying.kill("SIGINT");
        await buyerExited;

        const said = jsonLines(trading.stdout());
        const closed = said.find((l) => l.event === "closed") as { served: number; earned: string };
        expect(closed, trading.stderr()).to.not.equal(undefined);
        expect(closed.served).to.be.greaterThan(0).and.lessThan(PIECES);
        const after = await Promise.all([trader, buyer].map((w) => provider.getBalance(w.address)));
        const [traderGas, buyerGas] = await gasSpentSince(provider, [trader.address, buyer.address], start);
        const earned = BigInt(closed.served) * RESALE;
        // The chain paid the trader what it served, at its price; the buyer paid that, and nothing more.
        expect(after[0] - before[0], "the trader earned").to.equal(earned - traderGas);
        expect(before[1] - after[1], "the buyer paid").to.equal(earned + buyerGas);
        expect(closed.earned).to.equal(earned.toString());
        expect(said.find((l) => l.event === "summary")).to.include({ earned: earned.toString() });
        expect(said.filter((l) => l.event === "left-open")).to.deep.equal([]);
      } finally {
        await store.close();
        seeding.child.kill("SIGINT");
        trading.child.kill("SIGINT");
        buying.kill("SIGINT");
        await Promise.all([seeding.exited, trading.exited, buyerExited]);
      }
    });
  });
});
