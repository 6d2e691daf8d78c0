// `--asset`: `piecepay seed` and `piecepay get` paid in an ERC-20 token, as two processes on anvil, with a real
// token of 6 decimals (as USDC) deployed there. The seeder's token balance on chain rises by exactly delivered x
// price; the leecher's falls by the same; the adjudicator keeps none. Amounts print in the token's units.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseUnits, Wallet } from "ethers";
import { accountStorePath } from "../../../client/cli/stores.js";
import { SqliteChannelStore } from "../../../sdk/node.js";
import {
  Adjudicator__factory,
  type SixDecimalToken,
  SixDecimalToken__factory,
  VoucherPaymentApp__factory,
} from "../../../typechain-types/index.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";
import { cli, startCli } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const devKey = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const usd6 = (amount: string) => parseUnits(amount, 6);

describe("piecepay seed and get --asset: paid in an ERC-20 token (6 decimals) on anvil", function () {
  this.timeout(90_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let token: SixDecimalToken;
  let tokenAddress: string;
  let adjudicator: string;
  let record: string;
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-cli-asset-"));
    dirs.push(dir);
    return dir;
  };

  before(async function () {
    node = await startAnvil();
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
    const deployer = new Wallet(devKey(0).privateKey, provider);
    adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
    const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
    token = await (await new SixDecimalToken__factory(deployer).deploy()).waitForDeployment();
    tokenAddress = await token.getAddress();
    record = JSON.stringify({
      chainId: 31337,
      contracts: { Adjudicator: { address: adjudicator }, VoucherPaymentApp: { address: voucherApp } },
    });
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function dataDir(): string {
    const dir = scratch();
    mkdirSync(path.join(dir, "deployments"));
    writeFileSync(path.join(dir, "deployments", "31337.json"), record);
    return dir;
  }

  /** `piecepay seed` of a 2 MiB file in 32 pieces at `price`, in `asset` (a token address) or ETH. */
  async function seed(seeder: HDNodeWallet, price: string, asset?: string) {
    const file = path.join(scratch(), "song.bin");
    const data = randomBytes(2 * 1024 * 1024);
    writeFileSync(file, data);
    const running = await startCli([
      "seed",
      file,
      "--price",
      price,
      ...(asset ? ["--asset", asset] : []),
      "--piece-length",
      "64",
      "--key",
      seeder.privateKey,
      "--rpc",
      node.url,
      "--data-dir",
      dataDir(),
    ]);
    return { running, data };
  }

  /** `piecepay get` of the seeder's .torrent from its address, printing for people (not --json). */
  function get(
    leecher: HDNodeWallet,
    ready: Record<string, unknown>,
    extra: string[],
    out = scratch(),
    dir = dataDir(),
  ) {
    return cli([
      "get",
      String(ready.torrent),
      "--out",
      out,
      "--peer",
      `127.0.0.1:${ready.port}`,
      "--timeout",
      "60",
      "--key",
      leecher.privateKey,
      "--rpc",
      node.url,
      "--data-dir",
      dir,
      ...extra,
    ]);
  }

  it("a paid get in USD6: the seeder's token balance rises by exactly delivered x price, the leecher's falls by the same, and amounts print as USD6", async function () {
    const seeder = devKey(1);
    const leecher = devKey(2);
    await (await token.mint(leecher.address, usd6("1000"))).wait();
    const { running, data } = await seed(seeder, "0.25", tokenAddress);
    try {
      expect(running.ready).to.include({
        event: "seeding",
        asset: tokenAddress,
        pricePerPiece: usd6("0.25").toString(),
      });
      const before = await Promise.all([seeder, leecher].map((w) => token.balanceOf(w.address)));
      const out = scratch();
      const dir = dataDir();
      const run = await get(
        leecher,
        running.ready,
        ["--asset", tokenAddress, "--max-price", "0.25", "--budget", "100"],
        out,
        dir,
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(readFileSync(path.join(out, "song.bin")).equals(data)).to.equal(true);
      const settled = new RegExp(
        `^127\\.0\\.0\\.1:${running.ready.port}: (\\d+) pieces at 0\\.25 USD6: paid (\\S+) USD6 on chain$`,
        "m",
      );
      const [, delivered, paid] = settled.exec(run.stdout) ?? expect.fail(run.stdout);
      expect(Number(delivered)).to.equal(32);
      expect(paid).to.equal("8");
      expect(run.stdout).to.match(/^done: song\.bin, 2097152 bytes, 8 USD6 paid on chain to 1 seeder\(s\)$/m);
      // `channels --rpc` says the token's amounts in its decimals and symbol, what was paid read from the chain.
      const listed = await cli(["channels", "--rpc", node.url, "--data-dir", dir]);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout, listed.stdout).to.match(
        / payer +withdrawn +USD6 +8\.0 +signed 8\.0 +paid 8\.0 +0\.0 +finalized, paid out/,
      );
      // From the chain: exactly delivered x price moved from the leecher to the seeder; the adjudicator keeps none.
      const after = await Promise.all([seeder, leecher].map((w) => token.balanceOf(w.address)));
      expect(after[0] - before[0]).to.equal(BigInt(delivered) * usd6("0.25"));
      expect(before[1] - after[1]).to.equal(BigInt(delivered) * usd6("0.25"));
      expect(await token.balanceOf(adjudicator)).to.equal(0n);
    } finally {
      running.child.kill("SIGINT");
      await running.exited;
    }
  });

  it("a seeder paid in USD6 and a leecher paying in ETH: the seeder is named with its asset, get stops, nothing is deposited", async function () {
    const seeder = devKey(3);
    const leecher = devKey(4);
    const { running } = await seed(seeder, "0.25", tokenAddress);
    try {
      const ethBefore = await provider.getBalance(leecher.address);
      const run = await get(leecher, running.ready, ["--max-price", "0.25", "--budget", "1"]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.include(
        `error: seeder 127.0.0.1:${running.ready.port} (payee ${seeder.address}) wants to be paid in the token ${tokenAddress}, and we pay in ETH: not used`,
      );
      expect(run.stderr).to.match(/^hint: pass the seeder's asset with --asset/m);
      expect(await provider.getBalance(leecher.address)).to.equal(ethBefore);
    } finally {
      running.child.kill("SIGINT");
      await running.exited;
    }
  });

  it("a leecher with no USD6 stops within seconds saying what it holds, with no approve, deposit or channel", async function () {
    const { running } = await seed(devKey(5), "0.25", tokenAddress);
    try {
      const poor = Wallet.createRandom();
      await (
        await new Wallet(devKey(0).privateKey, provider).sendTransaction({ to: poor.address, value: 10n ** 18n })
      ).wait();
      const leecher = HDNodeWallet.fromPhrase(poor.mnemonic?.phrase ?? expect.fail("no phrase"));
      const dir = dataDir();
      const run = await cli([
        "get",
        String(running.ready.torrent),
        "--asset",
        tokenAddress,
        "--max-price",
        "0.25",
        "--budget",
        "10",
        "--out",
        scratch(),
        "--key",
        leecher.privateKey,
        "--rpc",
        node.url,
        "--data-dir",
        dir,
      ]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.include(
        `error: account ${leecher.address} holds 0 USD6; a paid download needs at least 0.25 USD6 (one piece at --max-price)`,
      );
      expect(await provider.getBalance(leecher.address)).to.equal(10n ** 18n); // no approve, no deposit: no gas
      expect(await token.allowance(leecher.address, adjudicator)).to.equal(0n);
      const store = new SqliteChannelStore(accountStorePath(dir, leecher.address));
      try {
        expect(await store.listChannels()).to.deep.equal([]);
      } finally {
        store.close();
      }
    } finally {
      running.child.kill("SIGINT");
      await running.exited;
    }
  });

  it("--asset that is not an address is a usage error (exit 2); an address with no token is named (exit 1); more decimals than the token has are refused", async function () {
    const key = devKey(6).privateKey;
    const file = path.join(scratch(), "f.bin");
    writeFileSync(file, "x");
    const common = ["--key", key, "--rpc", node.url, "--data-dir", dataDir()];
    const [malformed, noToken, decimals] = await Promise.all([
      cli(["seed", file, "--price", "1", "--asset", "0x1234", ...common]),
      cli(["seed", file, "--price", "1", "--asset", devKey(7).address, ...common]),
      cli(["seed", file, "--price", "0.0000001", "--asset", tokenAddress, ...common]),
    ]);
    expect(malformed.code, malformed.stderr).to.equal(2);
    expect(malformed.stderr).to.include("error: --asset 0x1234 is not a token address (0x and 40 hex digits)");
    expect(noToken.code, noToken.stderr).to.equal(1);
    expect(noToken.stderr).to.include(`error: --asset ${devKey(7).address}: no contract at`);
    expect(noToken.stderr).to.include("not an ERC-20 token");
    expect(decimals.code, decimals.stderr).to.equal(2);
    expect(decimals.stderr).to.include("error: --price 0.0000001 has more than 6 decimals: USD6 has no smaller unit");
  });
});
