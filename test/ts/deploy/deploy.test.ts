// The deploy path end to end: scripts/deploy.ts runs as a child process, as a user runs it, against real local
// nodes that are child processes too: anvil with Sepolia's chain id and a block every second (like a public
// testnet: nothing is mined on demand) reached through the `sepolia` network from environment variables, and
// `hardhat node` reached through `localhost`. The records it writes are then read as the CLI reads them
// (client/cli/context.ts), including one written before the hub's two apps existed.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, keccak256, Wallet } from "ethers";
import { artifacts } from "hardhat";
import { CliError, type GlobalOptions } from "../../../client/cli/command.js";
import { findDeployment, hubApps } from "../../../client/cli/context.js";
import { ANVIL, HARDHAT, type LocalNode, root, rpc, startNode } from "../helpers/nodes.js";

const TSX = path.join(root, "node_modules/tsx/dist/cli.mjs");
const SEPOLIA = 11_155_111;
// The first account of anvil's and Hardhat's well-known development mnemonic (public, holds test ETH only).
const devAccount = Wallet.fromPhrase("test test test test test test test test test test test junk");
/** What a run deploys, by the name the record gives each (the artifact's contract name). */
const CONTRACTS = ["Adjudicator", "VoucherPaymentApp", "LedgerApp", "VirtualVoucherApp"];
/** The hub's apps (ADR 0021), which records written before them do not name. */
const HUB_APPS = ["LedgerApp", "VirtualVoucherApp"];

/** deployments/<chainId>.json as docs/contracts.md describes it (nothing imports scripts/, so it is restated here). */
interface DeploymentRecord {
  chainId: number;
  network: string;
  deployer: string;
  timestamp: string;
  contracts: Record<string, { address: string; txHash: string; blockNumber: number; codeHash: string }>;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsx scripts/deploy.ts ...args` with a clean environment plus `env`; never rejects. */
function deploy(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(SEPOLIA_|LOCALHOST_RPC_URL$|PIECEPAY_DEPLOYMENTS_DIR$|HARDHAT_)/.test(name),
    ),
  );
  // CI=true keeps Hardhat's keystore out of it (it would prompt for a password when it holds the variable).
  const childEnv = { ...clean, CI: "true", ...env };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, "scripts/deploy.ts", ...args],
      { cwd: root, env: childEnv },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

/**
 * What the CLI finds for the chain at `url` with `record` in its data dir's deployments/ (findDeployment checks that
 * every contract the record names has code there), and the record's path.
 */
async function cliDeployment(record: DeploymentRecord, url: string) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "piecepay-deploy-cli-"));
  const file = path.join(dataDir, "deployments", `${record.chainId}.json`);
  const globals: GlobalOptions = { dataDir, json: false };
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  try {
    await mkdir(path.dirname(file));
    await writeFile(file, JSON.stringify(record));
    return { file, deployment: await findDeployment(globals, provider, BigInt(record.chainId)) };
  } finally {
    provider.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const nonceOf = async (url: string, address: string) =>
  Number(await rpc<string>(url, "eth_getTransactionCount", [address, "latest"]));

const readRecord = async (dir: string, chainId: number) =>
  JSON.parse(await readFile(path.join(dir, `${chainId}.json`), "utf8")) as DeploymentRecord;

/** What every fresh record must hold: per contract an address with the recorded code, created by the recorded tx. */
async function expectRecordMatchesChain(record: DeploymentRecord, url: string, chainId: number, network: string) {
  expect(record.chainId).to.equal(chainId);
  expect(record.network).to.equal(network);
  expect(record.deployer).to.equal(devAccount.address);
  expect(Date.parse(record.timestamp)).to.be.a("number").and.not.NaN;
  expect(Object.keys(record.contracts)).to.have.members(CONTRACTS);
  expect(new Set(Object.values(record.contracts).map((entry) => entry.address)).size).to.equal(CONTRACTS.length);
  for (const [name, entry] of Object.entries(record.contracts)) {
    const code = await rpc<string>(url, "eth_getCode", [entry.address, "latest"]);
    expect(code).to.not.equal("0x");
    expect(keccak256(code)).to.equal(entry.codeHash);
    // The recorded hash is the compiled contract's: these contracts have no immutables to zero.
    expect(entry.codeHash, name).to.equal(keccak256((await artifacts.readArtifact(name)).deployedBytecode));
    const receipt = await rpc<{ contractAddress: string; blockNumber: string; status: string }>(
      url,
      "eth_getTransactionReceipt",
      [entry.txHash],
    );
    expect(receipt.status).to.equal("0x1");
    expect(receipt.contractAddress.toLowerCase()).to.equal(entry.address.toLowerCase());
    expect(Number(receipt.blockNumber)).to.equal(entry.blockNumber);
  }
}

describe("deploy (scripts/deploy.ts)", function () {
  this.timeout(60_000);

  describe("when the sepolia network points at anvil with chain id 11155111", function () {
    let anvil: LocalNode;
    let dir: string;
    let env: Record<string, string>;
    const outputs: string[] = [];

    before(async function () {
      anvil = await startNode(ANVIL, (port) => [
        "--chain-id",
        String(SEPOLIA),
        "--block-time",
        "1",
        "--port",
        String(port),
      ]);
      dir = await mkdtemp(path.join(tmpdir(), "piecepay-deploy-"));
      env = { SEPOLIA_RPC_URL: anvil.url, SEPOLIA_PRIVATE_KEY: devAccount.privateKey, PIECEPAY_DEPLOYMENTS_DIR: dir };
    });

    after(async function () {
      await anvil?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    async function run(args: string[], extra: Record<string, string> = {}): Promise<Run> {
      const result = await deploy(["--network", "sepolia", ...args], { ...env, ...extra });
      outputs.push(result.stdout, result.stderr);
      return result;
    }

    it("deploys the four contracts with 2 confirmations and records address, tx, block, code hash and chain id", async function () {
      const { code, stdout, stderr } = await run([]);
      expect(code, stderr).to.equal(0);
      expect(stdout).to.include(`chain id ${SEPOLIA}`).and.include("2 confirmation(s)");
      for (const name of CONTRACTS) expect(stdout).to.match(new RegExp(`\\b${name}: deployed 0x[0-9a-fA-F]{40}`));
      await expectRecordMatchesChain(await readRecord(dir, SEPOLIA), anvil.url, SEPOLIA, "sepolia");
    });

    it("reuses all four on a second run: no transaction, record unchanged", async function () {
      const before = await readFile(path.join(dir, `${SEPOLIA}.json`), "utf8");
      const nonce = await nonceOf(anvil.url, devAccount.address);
      const { code, stdout, stderr } = await run([]);
      expect(code, stderr).to.equal(0);
      for (const name of CONTRACTS) expect(stdout).to.match(new RegExp(`\\b${name}: reused`));
      expect(await nonceOf(anvil.url, devAccount.address)).to.equal(nonce);
      expect(await readFile(path.join(dir, `${SEPOLIA}.json`), "utf8")).to.equal(before);
    });

    it("gives the CLI the four addresses: the hub's apps among them", async function () {
      const record = await readRecord(dir, SEPOLIA);
      const { file, deployment } = await cliDeployment(record, anvil.url);
      expect(deployment).to.deep.equal({
        adjudicator: record.contracts.Adjudicator.address,
        voucherApp: record.contracts.VoucherPaymentApp.address,
        ledgerApp: record.contracts.LedgerApp.address,
        virtualApp: record.contracts.VirtualVoucherApp.address,
        file,
      });
      expect(hubApps(deployment)).to.deep.equal({
        ledgerApp: record.contracts.LedgerApp.address,
        virtualApp: record.contracts.VirtualVoucherApp.address,
      });
    });

    it("serves the CLI from a record written before the hub's apps, and refuses only the hub, naming the deploy", async function () {
      const record = await readRecord(dir, SEPOLIA);
      const { LedgerApp: _ledger, VirtualVoucherApp: _virtual, ...older } = record.contracts;
      const { file, deployment } = await cliDeployment({ ...record, contracts: older }, anvil.url);
      expect(deployment).to.deep.equal({
        adjudicator: record.contracts.Adjudicator.address,
        voucherApp: record.contracts.VoucherPaymentApp.address,
        ledgerApp: undefined,
        virtualApp: undefined,
        file,
      });
      const refusal = (() => {
        try {
          hubApps(deployment);
        } catch (error) {
          return error as CliError;
        }
        return expect.fail("hubApps accepted a record without the hub's apps");
      })();
      expect(refusal).to.be.instanceOf(CliError);
      expect(refusal.message).to.include(`${file} names no LedgerApp and VirtualVoucherApp`);
      expect(refusal.hint).to.include("npm run deploy").and.include("piecepay chain");
    });

    it("skips, for the CLI, a record whose hub app has no code on this chain (an earlier chain's record)", async function () {
      const record = await readRecord(dir, SEPOLIA);
      const nowhere = { ...record.contracts.LedgerApp, address: Wallet.createRandom().address };
      const refusal = await cliDeployment(
        { ...record, contracts: { ...record.contracts, LedgerApp: nowhere } },
        anvil.url,
      ).then(
        () => expect.fail("a record with a hub app that has no code was used"),
        (error: CliError) => error,
      );
      expect(refusal).to.be.instanceOf(CliError);
      expect(refusal.message).to.match(/deployments\/11155111\.json.* name contracts this chain does not have/);
    });

    it("adds only the hub's apps to a record written before them: the others reused, two transactions", async function () {
      const file = path.join(dir, `${SEPOLIA}.json`);
      const full = await readRecord(dir, SEPOLIA);
      const { LedgerApp: _l, VirtualVoucherApp: _v, ...contracts } = full.contracts;
      await writeFile(file, JSON.stringify({ ...full, contracts }));
      const nonce = await nonceOf(anvil.url, devAccount.address);

      const { code, stdout, stderr } = await run(["--confirmations", "1"]);
      expect(code, stderr).to.equal(0);
      expect(stdout)
        .to.match(/Adjudicator: reused/)
        .and.match(/VoucherPaymentApp: reused/)
        .and.match(/LedgerApp: deployed/)
        .and.match(/VirtualVoucherApp: deployed/);
      expect(await nonceOf(anvil.url, devAccount.address)).to.equal(nonce + 2);
      const after = await readRecord(dir, SEPOLIA);
      expect(after.contracts.Adjudicator).to.deep.equal(full.contracts.Adjudicator);
      expect(after.contracts.VoucherPaymentApp).to.deep.equal(full.contracts.VoucherPaymentApp);
      for (const name of HUB_APPS) {
        expect(after.contracts[name].address).to.not.equal(full.contracts[name].address);
        expect(after.contracts[name].codeHash).to.equal(full.contracts[name].codeHash);
      }
      await expectRecordMatchesChain(after, anvil.url, SEPOLIA, "sepolia");
    });

    it("redeploys a contract whose recorded address holds other code, and reuses the others", async function () {
      const record = await readRecord(dir, SEPOLIA);
      const original = record.contracts.Adjudicator;
      record.contracts.Adjudicator = { ...original, address: record.contracts.VoucherPaymentApp.address };
      await writeFile(path.join(dir, `${SEPOLIA}.json`), JSON.stringify(record));
      const nonce = await nonceOf(anvil.url, devAccount.address);

      const { code, stdout, stderr } = await run(["--confirmations", "1"]);
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(/Adjudicator: other code at the recorded 0x[0-9a-fA-F]{40}; deploying afresh/);
      expect(stdout).to.match(/Adjudicator: deployed/);
      for (const name of CONTRACTS.slice(1)) expect(stdout).to.match(new RegExp(`\\b${name}: reused`));
      expect(await nonceOf(anvil.url, devAccount.address)).to.equal(nonce + 1);
      const after = await readRecord(dir, SEPOLIA);
      expect(after.contracts.Adjudicator.address).to.not.equal(record.contracts.Adjudicator.address);
      expect(after.contracts.Adjudicator.codeHash).to.equal(original.codeHash);
      for (const name of CONTRACTS.slice(1)) expect(after.contracts[name]).to.deep.equal(record.contracts[name]);
      await expectRecordMatchesChain(after, anvil.url, SEPOLIA, "sepolia");
    });

    it("refuses a record that says another chain id, and sends nothing", async function () {
      const file = path.join(dir, `${SEPOLIA}.json`);
      const good = await readFile(file, "utf8");
      await writeFile(file, JSON.stringify({ ...JSON.parse(good), chainId: 1 }));
      const nonce = await nonceOf(anvil.url, devAccount.address);
      try {
        const { code, stderr } = await run([]);
        expect(code).to.equal(1);
        expect(stderr).to.match(
          /says chain id 1, but the RPC of network "sepolia" reports chain id 11155111: refusing/,
        );
        expect(await nonceOf(anvil.url, devAccount.address)).to.equal(nonce);
      } finally {
        await writeFile(file, good);
      }
    });

    it("refuses when no key is configured, and says how to configure one", async function () {
      const { code, stderr } = await deploy(["--network", "sepolia"], {
        SEPOLIA_RPC_URL: anvil.url,
        PIECEPAY_DEPLOYMENTS_DIR: dir,
      });
      expect(code).to.equal(1);
      expect(stderr).to.include('no key is configured for network "sepolia"');
      expect(stderr).to.include("npx hardhat keystore set SEPOLIA_PRIVATE_KEY");
    });

    it("refuses a deployer with no ETH, without printing its key", async function () {
      const empty = Wallet.createRandom();
      const { code, stdout, stderr } = await run([], { SEPOLIA_PRIVATE_KEY: empty.privateKey });
      expect(code).to.equal(1);
      expect(stderr).to.include(`deployer ${empty.address} has no ETH on chain ${SEPOLIA}`);
      expect(`${stdout}${stderr}`.toLowerCase()).to.not.include(empty.privateKey.slice(2).toLowerCase());
    });

    it("never printed the deployer's private key", function () {
      const key = devAccount.privateKey.slice(2).toLowerCase();
      for (const output of outputs) expect(output.toLowerCase()).to.not.include(key);
    });
  });

  describe("when localhost is a `hardhat node` (chain id 31337)", function () {
    let node: LocalNode;
    let dir: string;

    before(async function () {
      node = await startNode(HARDHAT, (port) => ["node", "--hostname", "127.0.0.1", "--port", String(port)]);
      dir = await mkdtemp(path.join(tmpdir(), "piecepay-deploy-"));
    });

    after(async function () {
      await node?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it("deploys with 1 confirmation from the node's first account, then reuses all four", async function () {
      const env = { LOCALHOST_RPC_URL: node.url, PIECEPAY_DEPLOYMENTS_DIR: dir };
      const first = await deploy(["--network", "localhost"], env);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.include("chain id 31337").and.include("1 confirmation(s)");
      await expectRecordMatchesChain(await readRecord(dir, 31337), node.url, 31337, "localhost");

      const nonce = await nonceOf(node.url, devAccount.address);
      const second = await deploy(["--network", "localhost"], env);
      expect(second.code, second.stderr).to.equal(0);
      for (const name of CONTRACTS) expect(second.stdout).to.match(new RegExp(`\\b${name}: reused`));
      expect(await nonceOf(node.url, devAccount.address)).to.equal(nonce);
    });

    it("refuses the sepolia network when its RPC is not chain 11155111", async function () {
      const { code, stderr } = await deploy(["--network", "sepolia"], {
        SEPOLIA_RPC_URL: node.url,
        SEPOLIA_PRIVATE_KEY: devAccount.privateKey,
        PIECEPAY_DEPLOYMENTS_DIR: dir,
      });
      expect(code).to.equal(1);
      expect(stderr).to.include('network "sepolia" expects chain id 11155111, but its RPC reports chain id 31337');
      expect(await readdir(dir)).to.deep.equal(["31337.json"]);
    });
  });

  it("on the in-process network is a dry run that writes nothing", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "piecepay-deploy-"));
    try {
      const { code, stdout, stderr } = await deploy([], { PIECEPAY_DEPLOYMENTS_DIR: dir });
      expect(code, stderr).to.equal(0);
      for (const name of CONTRACTS) expect(stdout).to.match(new RegExp(`\\b${name}: deployed`));
      expect(stdout).to.include("dry run, nothing written");
      expect(await readdir(dir)).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--help describes the flags", async function () {
    const { code, stdout } = await deploy(["--help"], {});
    expect(code).to.equal(0);
    for (const flag of ["--network", "--confirmations", "--deployments-dir", "PIECEPAY_DEPLOYMENTS_DIR"]) {
      expect(stdout).to.include(flag);
    }
  });
});
