// What the CLI says when something is wrong (docs/security.md rows 64 and 65): each mistake a user makes gets one
// `error:` line that names it, a hint, and the documented exit code (2 for the command line, 1 otherwise), within
// seconds, with no stack trace and no library's raw text. `piecepay` runs as a child process, as a user runs it;
// the cases that need a chain share one anvil.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, MaxUint256, parseEther, Wallet } from "ethers";
import { parseAmount } from "../../../client/cli/amounts.js";
import { formatBytes, progressLine } from "../../../client/cli/output.js";
import { accountStorePath } from "../../../client/cli/stores.js";
import { SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";
import { cli, type Run, startCli, useScratchDirs } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const devKey = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const MAGNET = `magnet:?xt=urn:btih:${"ab".repeat(20)}`;
/** 2^256-1 wei, in ETH. */
const MAX_ETH = "115792089237316195423570985008687907853269984665640564039457.584007913129639935";

/** What must never reach the terminal: a stack trace, webtorrent's or ethers' raw text. */
const RAW = /^\s+at |client already destroyed|Unhandled|could not coalesce|code=[A-Z_]+|version=6|"jsonrpc"/m;

/** Asserts a clean failure: `code`, an `error:` line matching `message`, a `hint:`, and nothing raw. */
function expectError(run: Run, code: number, message: RegExp | string): void {
  expect(run.code, run.stderr).to.equal(code);
  const errorLine = run.stderr.split("\n").find((line) => line.startsWith("error: ")) ?? "";
  if (typeof message === "string") expect(errorLine).to.include(message);
  else expect(errorLine).to.match(message);
  expect(run.stderr).to.match(/^hint: /m);
  expect(run.stderr).to.not.match(RAW);
}

/** A TCP server holding a port on `host`, as another program would. */
async function holdPort(host: string): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, server };
}

describe("piecepay CLI: what it says when something is wrong", function () {
  this.timeout(60_000);
  const scratch = useScratchDirs("piecepay-cli-messages-");

  describe("amounts: --price, --max-price, --budget", function () {
    it("a negative amount says it is negative (not 'argument is ambiguous'), exit 2", async function () {
      const file = path.join(scratch(), "f.bin");
      writeFileSync(file, "x");
      const [price, maxPrice, budget] = await Promise.all([
        cli(["seed", file, "--price", "-1"]),
        cli(["get", MAGNET, "--max-price", "-0.001", "--budget", "1"]),
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "-.5"]),
      ]);
      expectError(price, 2, "--price -1 is negative: it must be above 0 ETH");
      expectError(maxPrice, 2, "--max-price -0.001 is negative");
      expectError(budget, 2, "--budget -.5 is negative");
      for (const run of [price, maxPrice, budget]) expect(run.stderr).to.not.include("ambiguous");
    });

    it("a price above 2^256-1 wei is refused, exit 2; exactly 2^256-1 wei is taken (the command goes on to ask for the account)", async function () {
      const file = path.join(scratch(), "f.bin");
      writeFileSync(file, "x");
      const oneWeiMore = "115792089237316195423570985008687907853269984665640564039457.584007913129639936";
      const [above, huge, max] = await Promise.all([
        cli(["seed", file, "--price", oneWeiMore]),
        cli(["get", MAGNET, "--max-price", "1".repeat(200), "--budget", "1"]),
        cli(["seed", file, "--price", MAX_ETH]),
      ]);
      expectError(above, 2, `--price ${oneWeiMore} is more than any chain can hold: the most is 2^256-1`);
      expectError(huge, 2, "is more than any chain can hold");
      expectError(max, 1, "this command needs our account");
      expect(parseAmount(MAX_ETH, "--price")).to.equal(MaxUint256);
    });

    it("more decimals than the asset has, 0, and words are each named, exit 2", async function () {
      const [decimals, zero, words] = await Promise.all([
        cli(["get", MAGNET, "--max-price", "0.0000000000000000001", "--budget", "1"]),
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "0"]),
        cli(["get", MAGNET, "--max-price", "cheap", "--budget", "1"]),
      ]);
      expectError(decimals, 2, "--max-price 0.0000000000000000001 has more than 18 decimals");
      expectError(zero, 2, "--budget must be above 0 ETH, not 0");
      expectError(words, 2, "--max-price cheap is not an amount of ETH");
    });
  });

  describe("get's options", function () {
    it("--max-window 0 says no seeder would ever send a piece; a word says what it must be, exit 2", async function () {
      const [zero, word] = await Promise.all([
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--max-window", "0"]),
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--max-window", "many"]),
      ]);
      expectError(zero, 2, "--max-window 0 would pay no piece ahead, so no paid seeder would ever send one");
      expectError(word, 2, '--max-window must be a whole number of pieces, at least 1 (default 256), not "many"');
      expect(zero.stderr).to.not.include("must be a whole number");
    });

    it("--rpc notaurl is an error before anything runs (not a warning), exit 2, for every command that takes it", async function () {
      const runs = await Promise.all([
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--rpc", "notaurl"]),
        cli(["channels", "--rpc", "notaurl", "--data-dir", scratch()]),
        cli(["withdraw", "--rpc", "ftp://127.0.0.1:8545"]),
      ]);
      expectError(runs[0], 2, "--rpc notaurl is not an http:// or https:// URL");
      expectError(runs[1], 2, "--rpc notaurl is not an http:// or https:// URL");
      expectError(runs[2], 2, "--rpc ftp://127.0.0.1:8545 is not an http:// or https:// URL");
      for (const run of runs) expect(run.stderr).to.not.include("warning");
    });

    it("--peer notahost fails at once (exit 2: not HOST:PORT); --peer notahost:6881 fails within seconds (exit 1: no address)", async function () {
      const started = Date.now();
      const [noPort, noHost, badPort] = await Promise.all([
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--peer", "notahost"]),
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--peer", "notahost:6881"]),
        cli(["get", MAGNET, "--max-price", "0.001", "--budget", "1", "--peer", "127.0.0.1:70000"]),
      ]);
      expect(Date.now() - started).to.be.below(15_000);
      expectError(noPort, 2, "--peer notahost is not HOST:PORT (a port from 1 to 65535)");
      expectError(noHost, 1, '--peer notahost:6881: no address found for the host "notahost"');
      expectError(badPort, 2, "--peer 127.0.0.1:70000 is not HOST:PORT");
    });
  });

  describe("busy ports", function () {
    it("tracker on a busy port says 'port N is in use', exit 1, no stack trace", async function () {
      const held = await holdPort("127.0.0.1");
      try {
        const run = await cli(["tracker", "--port", String(held.port)]);
        expectError(run, 1, `port ${held.port} on 127.0.0.1 is in use`);
        expect(run.stdout).to.equal("");
      } finally {
        held.server.close();
      }
    });
  });

  describe("on a chain (anvil)", function () {
    let node: LocalNode;
    let provider: JsonRpcProvider;
    let record: string;

    before(async function () {
      node = await startAnvil();
      provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
      const deployer = new Wallet(devKey(0).privateKey, provider);
      const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
      const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
      record = JSON.stringify({
        chainId: 31337,
        contracts: { Adjudicator: { address: adjudicator }, VoucherPaymentApp: { address: voucherApp } },
      });
    });
    after(async () => {
      provider?.destroy();
      await node?.stop();
    });

    /** A fresh data dir holding this chain's deployment record. */
    function dataDir(): string {
      const dir = scratch();
      mkdirSync(path.join(dir, "deployments"));
      writeFileSync(path.join(dir, "deployments", "31337.json"), record);
      return dir;
    }

    it("seed --port on a busy port says 'port N is in use' (not 'client already destroyed'), exit 1", async function () {
      const file = path.join(scratch(), "f.bin");
      writeFileSync(file, randomBytes(1024));
      const held = await holdPort("0.0.0.0");
      try {
        const run = await cli([
          "seed",
          file,
          "--price",
          "0.001",
          "--port",
          String(held.port),
          "--key",
          devKey(1).privateKey,
          "--rpc",
          node.url,
          "--data-dir",
          dataDir(),
        ]);
        expectError(run, 1, `port ${held.port} is in use`);
        expect(run.stderr).to.match(/^hint: stop whatever holds it, or pass --port with another port/m);
      } finally {
        held.server.close();
      }
    });

    it("a seeder priced above --max-price is named with its price within seconds (not '0 peers' and a timeout); nothing is deposited", async function () {
      const file = path.join(scratch(), "song.bin");
      writeFileSync(file, randomBytes(256 * 1024));
      const seeder = devKey(2);
      const leecher = devKey(3);
      const seeding = await startCli([
        "seed",
        file,
        "--price",
        "0.002",
        "--piece-length",
        "64",
        "--key",
        seeder.privateKey,
        "--rpc",
        node.url,
        "--data-dir",
        dataDir(),
      ]);
      try {
        const before = await provider.getBalance(leecher.address);
        const leecherDir = dataDir();
        const started = Date.now();
        const run = await cli([
          "get",
          String(seeding.ready.torrent),
          "--max-price",
          "0.001",
          "--budget",
          "1",
          "--out",
          scratch(),
          "--peer",
          `127.0.0.1:${seeding.ready.port}`,
          "--timeout",
          "50",
          "--key",
          leecher.privateKey,
          "--rpc",
          node.url,
          "--data-dir",
          leecherDir,
        ]);
        expect(Date.now() - started).to.be.below(20_000);
        expectError(
          run,
          1,
          `seeder 127.0.0.1:${seeding.ready.port} (payee ${seeder.address}) asks 0.002 ETH per piece, above --max-price 0.001 ETH`,
        );
        expect(run.stderr).to.match(/^hint: raise --max-price to the seeder's price if you accept it/m);
        expect(run.stderr).to.not.include("not finished after");
        // Nothing was proposed, let alone deposited: the leecher's balance on chain is what it was, to the wei.
        expect(await provider.getBalance(leecher.address)).to.equal(before);
        const store = new SqliteChannelStore(accountStorePath(leecherDir, leecher.address));
        try {
          expect(await store.listChannels()).to.deep.equal([]);
        } finally {
          store.close();
        }
      } finally {
        seeding.child.kill("SIGINT");
        await seeding.exited;
      }
    });
  });

  describe("progress lines", function () {
    it("speeds print rounded with units, and at 80 columns the amount and its 'ETH' are never cut", function () {
      expect(formatBytes(523.4567)).to.equal("523 B");
      expect(formatBytes(1048575.9)).to.equal("1.0 MiB");
      expect(progressLine("seed", { speed: 523.4567 })).to.equal("seed  523 B/s");
      const busiest = {
        bytes: 1_073_741_000,
        total: 1_073_741_824,
        speed: 123_456_789.123,
        peers: 120,
        paid: parseEther("123.456789012345678901"),
      };
      for (const columns of [40, 60, 80, 120]) {
        const line = progressLine("get", busiest, columns - 1);
        expect(line.length, line).to.be.at.most(columns - 1);
        expect(line).to.match(/ vouchers 123\.5 ETH$/);
      }
      expect(progressLine("get", busiest, 79)).to.equal("get  100%  1.0 GiB/1.0 GiB  117.7 MiB/s  vouchers 123.5 ETH");
      expect(progressLine("seed", { bytes: 1, speed: 0.5, peers: 1, earned: 1n }, 79)).to.equal(
        "seed  1 B  1 B/s  1 peer  vouchers <0.000001 ETH",
      );
    });
  });
});
