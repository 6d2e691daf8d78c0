// `withdraw` judges a challenge by the chain's clock (its latest block's timestamp), not by ours. On a chain that
// mines on an interval (a testnet, `piecepay chain`), a challenge finalizes on its own and `withdraw` pays it out
// with nobody else sending a transaction; on a node that mines only on demand, the chain's clock stands still, and
// `withdraw` says so instead of telling the user to come back at a time that has already passed.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet } from "ethers";
import { accountStorePath } from "../../../client/cli/stores.js";
import { gasSpentSince, PiecepayClient, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { root, startAnvil } from "../helpers/nodes.js";

const BIN = path.join(root, "client/cli/bin.mjs");
const PHRASE = "test test test test test test test test test test test junk";
const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey;
const DEPOSIT = parseEther("1");
const PAID = parseEther("0.003");

function withdraw(dataDir: string, rpc: string, privateKey: string): Promise<{ code: number; stdout: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PIECEPAY_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, "withdraw", "--data-dir", dataDir, "--rpc", rpc],
      { env: { ...env, PIECEPAY_KEY: privateKey } },
      (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout }),
    );
  });
}

describe("withdraw judges a challenge by the chain's clock", function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A 1 ETH channel with 0.003 ETH of vouchers to the payee, whose CLI store then holds it, challenged by
   * the payee with a 10 s challenge duration. Returns the payee's data dir and the deadline.
   */
  async function challengedChannel(provider: JsonRpcProvider) {
    const deployer = new Wallet(key(0), provider);
    const adjudicator = await (
      await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment()
    ).getAddress();
    const voucherApp = await (
      await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment()
    ).getAddress();
    const payeeDir = mkdtempSync(path.join(tmpdir(), "piecepay-clock-"));
    dirs.push(payeeDir);
    const payeeKey = key(2);
    const stores = [
      new SqliteChannelStore(":memory:"),
      new SqliteChannelStore(accountStorePath(payeeDir, new Wallet(payeeKey).address)),
    ];
    const settings = { chainId: 31337n, adjudicator, voucherApp, pollingIntervalMs: 200, safetyMarginSeconds: 3 };
    const payer = await PiecepayClient.create({
      ...settings,
      signer: new Wallet(key(1), provider),
      store: stores[0],
      blockTimeSeconds: 1,
    });
    const payee = await PiecepayClient.create({
      ...settings,
      signer: new Wallet(payeeKey, provider),
      store: stores[1],
      blockTimeSeconds: 1,
    });
    const channel = await payer.open({ payee: payee.address, deposit: DEPOSIT, challengeDuration: 10n }, (p) =>
      payee.join(p, { peer: "127.0.0.1:6881" }),
    );
    await payee.waitForFunding(channel.id);
    for (let i = 0; i < 3; i++) await payee.receive(await payer.pay(channel.id, PAID / 3n));
    await payee.challenge(channel.id);
    const { finalizesAt } = await payee.onChain(channel.id);
    for (const store of stores) store.close();
    return { payeeDir, payeeKey, finalizesAt };
  }

  it("on a node that mines only on demand, past the deadline by our clock: 'waiting', saying the chain has no block since, and nothing paid", async function () {
    const node = await startAnvil();
    const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 });
    try {
      const { payeeDir, payeeKey, finalizesAt } = await challengedChannel(provider);
      while (Date.now() < Number(finalizesAt) * 1000 + 1_000) await new Promise((r) => setTimeout(r, 250));
      const before = await provider.getBalance(new Wallet(payeeKey).address);
      const run = await withdraw(payeeDir, node.url, payeeKey);
      expect(run.code).to.equal(0);
      expect(run.stdout).to.include("run withdraw again after that (that time has passed here, but the chain has no");
      expect(await provider.getBalance(new Wallet(payeeKey).address)).to.equal(before);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });

  it("on a chain with a block every second: once the deadline passes, withdraw pays the payee its 0.003 ETH with nobody else sending a transaction", async function () {
    const node = await startAnvil(["--block-time", "1"]);
    const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 });
    try {
      const { payeeDir, payeeKey, finalizesAt } = await challengedChannel(provider);
      while (Date.now() < Number(finalizesAt) * 1000 + 2_000) await new Promise((r) => setTimeout(r, 250));
      const payee = new Wallet(payeeKey).address;
      const start = await provider.getBlockNumber();
      const before = await provider.getBalance(payee);
      const run = await withdraw(payeeDir, node.url, payeeKey);
      expect(run.code).to.equal(0);
      expect(run.stdout).to.match(/paid out: 0\.003 ETH to us, 0\.997 ETH to the peer/);
      const [gas] = await gasSpentSince(provider, [payee], start);
      expect((await provider.getBalance(payee)) - before + gas).to.equal(PAID);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });
});
