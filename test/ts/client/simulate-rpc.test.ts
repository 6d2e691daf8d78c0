// `piecepay simulate --rpc` on separately started nodes, as a user runs it: anvil as a child process, the contracts
// deployed to it with scripts/deploy.ts (as `npm run deploy:localhost` does; the record goes to a scratch data
// directory, never to the repository's deployments/), then the CLI as a child process with --json.
// - anvil mining on demand takes evm_increaseTime: every scenario runs with time moved, the parties funded from the
//   node's first unlocked account.
// - The same kind of node behind a proxy that answers like a public RPC (no evm_*, anvil_* or hardhat_* methods, no
//   unlocked accounts): the simulation's clock really waits. Through an anvil that mines on demand, the wait ends
//   with a block the simulation asks for (a 0 ETH transaction); through an anvil that makes a block every second,
//   as a public chain makes its own, the CLI runs a dispute and a cooperative close with the shortest challenge
//   duration (10 s), funded from --key, and the channel really takes that long to settle.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { SimulationChain } from "../../../client/simulate/context.js";
import { Adjudicator__factory } from "../../../typechain-types/index.js";
import { type LocalNode, root, startAnvil, startPublicRpcProxy } from "../helpers/nodes.js";
import { expectScenarioPassed, parseReport, registeredDurations } from "./simulate-helpers.js";

const TSX = path.join(root, "node_modules/tsx/dist/cli.mjs");
const BIN = path.join(root, "client/cli/bin.mjs");
const CHAIN_ID = 31_337n;
// The first account of anvil's well-known development mnemonic (public, holds test ETH only).
const devAccount = Wallet.fromPhrase("test test test test test test test test test test test junk");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> ...args` with the machine's PIECEPAY_, LOCALHOST_ and HARDHAT_ variables removed; never rejects. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PIECEPAY_|SEPOLIA_|LOCALHOST_RPC_URL$|HARDHAT_)/.test(name)),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { cwd: root, env: { ...clean, CI: "true", ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

/**
 * Deploys the contracts to `url` as `npm run deploy:localhost` does, the record in `<dataDir>/deployments/`; `count`
 * is how many it deployed (one transaction each).
 */
async function deploy(
  url: string,
  dataDir: string,
): Promise<{ Adjudicator: string; VoucherPaymentApp: string; count: number }> {
  const dir = path.join(dataDir, "deployments");
  const { code, stderr } = await run(TSX, ["scripts/deploy.ts", "--network", "localhost", "--deployments-dir", dir], {
    LOCALHOST_RPC_URL: url,
  });
  expect(code, stderr).to.equal(0);
  const record = JSON.parse(await readFile(path.join(dir, `${CHAIN_ID}.json`), "utf8")) as {
    contracts: Record<string, { address: string }>;
  };
  return {
    Adjudicator: record.contracts.Adjudicator.address,
    VoucherPaymentApp: record.contracts.VoucherPaymentApp.address,
    count: Object.keys(record.contracts).length,
  };
}

describe("piecepay simulate --rpc", function () {
  this.timeout(90_000);

  describe("when the node takes evm_increaseTime (anvil, mining on demand)", function () {
    let anvil: LocalNode;
    let dataDir: string;
    let contracts: Awaited<ReturnType<typeof deploy>>;

    before(async function () {
      anvil = await startAnvil();
      dataDir = await mkdtemp(path.join(tmpdir(), "piecepay-simulate-rpc-"));
      contracts = await deploy(anvil.url, dataDir);
    });
    after(async function () {
      await anvil?.stop();
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    });

    it("runs every scenario with time moved when told (--move-time, said loudly): invariants, figures to the wei, the requested challenge duration", async function () {
      this.timeout(180_000); // sixteen scenarios, the hub crowd's 25 parties among them: 56 s in one run on 2 cores
      const { code, stdout, stderr } = await run(BIN, [
        "simulate",
        "all",
        "--rpc",
        anvil.url,
        "--move-time",
        "--data-dir",
        dataDir,
        "--challenge-duration",
        "120",
        "--json",
      ]);
      expect(code, stderr).to.equal(0);
      expect(stderr).to.include(`warning: --move-time: the clock of the node at ${anvil.url} will be moved forward`);
      const report = parseReport(stdout);
      expect(report.chain).to.deep.equal({
        chainId: CHAIN_ID,
        kind: "rpc",
        canMoveTime: true,
        adjudicator: contracts.Adjudicator,
        voucherApp: contracts.VoucherPaymentApp,
      });
      expect(report.challengeDuration).to.equal(120n);
      expect(report.scenarios.map((s) => s.id)).to.deep.equal(Array.from({ length: 16 }, (_, i) => String(i + 1)));
      for (const scenario of report.scenarios) expectScenarioPassed(scenario, 120n);
      expect(report.passed).to.equal(true);

      // The torrent scenarios' channels were opened by the leecher's session: the chain registered their
      // challenges with the requested duration, not the session's default (20 s with the simulation's timings).
      const provider = new JsonRpcProvider(anvil.url, undefined, { cacheTimeout: -1 });
      try {
        for (const id of ["1", "3"]) {
          const scenario = report.scenarios.find((s) => s.id === id);
          const ids = scenario?.channels.map((c) => c.id) ?? [];
          const durations = await registeredDurations(provider, contracts.Adjudicator, ids);
          expect(durations.length, `scenario ${id}'s challenges`).to.be.greaterThan(0);
          for (const d of durations) expect(d).to.equal(120n);
        }
      } finally {
        provider.destroy();
      }
    });

    it("really waits behind an RPC that refuses evm_increaseTime, and makes the block that ends the wait", async function () {
      const proxy = await startPublicRpcProxy(anvil.url);
      const provider = new JsonRpcProvider(proxy.url, undefined, { cacheTimeout: -1 });
      const chain = await SimulationChain.rpc(
        proxy.url,
        provider,
        CHAIN_ID,
        { adjudicator: contracts.Adjudicator, voucherApp: contracts.VoucherPaymentApp },
        new Wallet(devAccount.privateKey, provider),
        // The CLI gives the node 15 s (POKE_AFTER_MS, more than a public chain's slot); 2 s is as good a test.
        { moveTime: true, pokeAfterMs: 2_000 },
      );
      try {
        expect(chain.canMoveTime).to.equal(false);
        expect(proxy.refused).to.include("evm_increaseTime");
        const start = await chain.now();
        const nonce = await provider.getTransactionCount(devAccount.address);
        const wallStart = Date.now();
        await chain.advanceTo(start + 3n);
        // anvil mined nothing while nobody sent a transaction: after the wait and the 2 s, the bank's 0 ETH
        // transaction made the block
        expect(await chain.now()).to.be.at.least(start + 3n);
        expect(Date.now() - wallStart).to.be.at.least(3_000 + 2_000);
        expect(await provider.getTransactionCount(devAccount.address)).to.equal(nonce + 1);
      } finally {
        await chain.close();
        await proxy.stop();
      }
    });
  });

  describe("when the RPC refuses evm_increaseTime (anvil with a block every second behind a public-RPC proxy)", function () {
    let anvil: LocalNode;
    let proxy: LocalNode & { refused: string[] };
    let dataDir: string;
    let contracts: Awaited<ReturnType<typeof deploy>>;

    before(async function () {
      anvil = await startAnvil(["--block-time", "1"]);
      dataDir = await mkdtemp(path.join(tmpdir(), "piecepay-simulate-rpc-"));
      contracts = await deploy(anvil.url, dataDir);
      proxy = await startPublicRpcProxy(anvil.url);
    });
    after(async function () {
      await proxy?.stop();
      await anvil?.stop();
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    });

    it("runs a dispute and a cooperative close in real time with --challenge-duration 10 (--move-time refused by the RPC)", async function () {
      const { code, stdout, stderr } = await run(
        BIN,
        [
          "simulate",
          "2",
          "5",
          "--rpc",
          proxy.url,
          "--move-time",
          "--data-dir",
          dataDir,
          "--challenge-duration",
          "10",
          "--json",
        ],
        { PIECEPAY_KEY: devAccount.privateKey },
      );
      expect(code, stderr).to.equal(0);
      expect(stderr).to.include("real time: each challenge is waited out");
      expect(stderr).to.include(`warning: --move-time: ${proxy.url} refuses evm_increaseTime; waiting in real time`);
      expect(proxy.refused).to.include("evm_increaseTime");
      const report = parseReport(stdout);
      expect(report.chain).to.include({ kind: "rpc", canMoveTime: false, adjudicator: contracts.Adjudicator });
      expect(report.challengeDuration).to.equal(10n);
      expect(report.scenarios.map((s) => s.id)).to.deep.equal(["2", "5"]);
      for (const scenario of report.scenarios) expectScenarioPassed(scenario, 10n);
      expect(report.passed).to.equal(true);

      const [stale] = report.scenarios;
      const provider = new JsonRpcProvider(anvil.url, undefined, { cacheTimeout: -1 });
      try {
        const durations = await registeredDurations(
          provider,
          contracts.Adjudicator,
          stale.channels.map((c) => c.id),
        );
        // The stale challenge set the deadline; the watcher's counter-challenge kept it (registeredDurations throws
        // if an answer moved it).
        expect(durations).to.deep.equal([10n]);
        const adjudicator = Adjudicator__factory.connect(contracts.Adjudicator, provider);
        const [id] = stale.channels.map((c) => c.id);
        expect(await adjudicator.queryFilter(adjudicator.filters.ChallengeRegistered(id))).to.have.length(2);
        // The node made its own blocks: the bank (anvil's first account, also the deployer of the contracts) sent
        // only the funding of each scenario's two parties, never a transaction to end a wait.
        const nonce = await provider.getTransactionCount(devAccount.address);
        expect(nonce).to.equal(contracts.count + 2 * report.scenarios.length);
      } finally {
        provider.destroy();
      }
      // From the stale challenge to the payout the chain's clock ran the whole challenge duration, and so did ours
      // (blocks are stamped to the second: the wall clock may be up to a second short of it).
      expect(stale.settle.chainSeconds).to.be.at.least(10);
      expect(stale.settle.wallSeconds).to.be.at.least(9);
    });

    it("leaves the clock of a node it did not start alone without --move-time: a dispute waits in real time", async function () {
      const { code, stdout, stderr } = await run(
        BIN,
        ["simulate", "2", "--rpc", anvil.url, "--data-dir", dataDir, "--json"],
        {
          PIECEPAY_KEY: devAccount.privateKey,
        },
      );
      expect(code, stderr).to.equal(0);
      expect(stderr).to.include("real time: each challenge is waited out");
      expect(stderr).not.to.include("--move-time");
      const report = parseReport(stdout);
      // The node takes evm_increaseTime (no proxy here), yet the simulation did not use it.
      expect(report.chain).to.include({ kind: "rpc", canMoveTime: false });
      expect(report.challengeDuration).to.equal(10n);
      expectScenarioPassed(report.scenarios[0], 10n);
      const provider = new JsonRpcProvider(anvil.url, undefined, { cacheTimeout: -1 });
      try {
        // The node's clock still follows the wall clock (anvil stamps its blocks to the second).
        const latest = await provider.getBlock("latest");
        expect(Number(latest?.timestamp)).to.be.at.most(Math.ceil(Date.now() / 1000) + 2);
      } finally {
        provider.destroy();
      }
    });
  });
});
