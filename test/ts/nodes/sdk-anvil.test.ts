// The SDK against a separately started node whose blocks are not mined on demand (anvil, a block every second):
// confirmations, nonces and waiting are real. The challenge duration is the adjudicator's minimum (10 s), so the
// payee's solo redemption really waits for it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet } from "ethers";
import { ChannelWatcher, PiecepayClient, type PiecepayError, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, rpc, startAnvil } from "../helpers/nodes.js";

const CHAIN_ID = 11_155_111n;
const PHRASE = "test test test test test test test test test test test junk";
const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.001");
const SAFETY = { confirmations: 2, pollingIntervalMs: 200, blockTimeSeconds: 1, safetyMarginSeconds: 3 };

describe("SDK on anvil with a block every second", function () {
  this.timeout(120_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let adjudicator: string;
  let voucherApp: string;
  const stores: SqliteChannelStore[] = [];
  const keys = new Map<number, string>();
  /** anvil's default account i: from its public development mnemonic, path m/44'/60'/0'/0/i. */
  const wallet = (i: number) => {
    if (!keys.has(i)) keys.set(i, HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey);
    return new Wallet(keys.get(i) as string, provider);
  };

  before(async () => {
    node = await startAnvil(["--chain-id", String(CHAIN_ID), "--block-time", "1"]);
    provider = new JsonRpcProvider(node.url, undefined, { pollingInterval: 200 });
    dir = mkdtempSync(join(tmpdir(), "piecepay-anvil-"));
    const deployer = wallet(0);
    const a = await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment();
    const app = await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment();
    adjudicator = await a.getAddress();
    voucherApp = await app.getAddress();
  });
  after(async () => {
    for (const s of stores) s.close();
    provider?.destroy();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function client(i: number): Promise<PiecepayClient> {
    const store = new SqliteChannelStore(join(dir, `${i}-${stores.length}.db`));
    stores.push(store);
    return PiecepayClient.create({ signer: wallet(i), chainId: CHAIN_ID, adjudicator, voucherApp, store, ...SAFETY });
  }

  it("opens with 2 confirmations, pays three times and closes: exact balances after gas", async function () {
    const payer = await client(1);
    const payee = await client(2);
    const channel = await payer.open({ payee: payee.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id, { timeoutMs: 30_000 });
    for (let i = 0; i < 3; i++) await payee.receive(await payer.pay(channel.id, PRICE));
    const before = await Promise.all([provider.getBalance(payer.address), provider.getBalance(payee.address)]);
    const receipt = await payee.close(await payer.offerClose(channel.id));
    expect(receipt.blockNumber).to.be.lessThanOrEqual((await provider.getBlockNumber()) - 1);
    const after = await Promise.all([provider.getBalance(payer.address), provider.getBalance(payee.address)]);
    expect(after[0] - before[0]).to.equal(DEPOSIT - 3n * PRICE);
    expect(after[1] - before[1]).to.equal(3n * PRICE - receipt.gasUsed * receipt.gasPrice);
  });

  it("the payee's running watcher answers a stale challenge with its voucher, then pays out when it finalizes", async function () {
    const payer = await client(3);
    const payee = await client(4);
    const channel = await payer.open({ payee: payee.address, deposit: DEPOSIT, challengeDuration: 10n }, (p) =>
      payee.join(p),
    );
    await payee.waitForFunding(channel.id, { timeoutMs: 30_000 });
    await payee.receive(await payer.pay(channel.id, 7n * PRICE));
    const watcher = new ChannelWatcher(payee, { pollingIntervalMs: 200 });
    watcher.start();
    const payerBefore = await provider.getBalance(payer.address);
    const started = Date.now();
    try {
      const receipt = await payer.challenge(channel.id); // the funding state: all to the payer
      const payerGas = receipt.gasUsed * receipt.gasPrice;
      const deadline = Date.now() + 40_000;
      // The watcher marks the channel withdrawn once its payout has its confirmations.
      while ((await payee.store.getChannel(channel.id))?.phase !== "withdrawn" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(Date.now() - started).to.be.greaterThan(9_000); // a real challenge duration went by
      expect(await provider.getBalance(payer.address)).to.equal(payerBefore - payerGas + DEPOSIT - 7n * PRICE);
    } finally {
      await watcher.stop();
    }
  });

  it("the payee redeems its voucher alone against a vanished payer, really waiting out the challenge", async function () {
    const payer = await client(7);
    const payee = await client(8);
    const channel = await payer.open({ payee: payee.address, deposit: DEPOSIT, challengeDuration: 10n }, (p) =>
      payee.join(p),
    );
    await payee.waitForFunding(channel.id, { timeoutMs: 30_000 });
    await payee.receive(await payer.pay(channel.id, 3n * PRICE));
    const payerBefore = await provider.getBalance(payer.address);
    const started = Date.now();
    await payee.redeem(channel.id);
    expect(Date.now() - started).to.be.greaterThan(9_000);
    expect(await provider.getBalance(payer.address)).to.equal(payerBefore + DEPOSIT - 3n * PRICE);
  });

  it("refuses to send, then to sign, once the RPC's chain id changes mid-run; a voucher costs no round trip", async function () {
    const payer = await client(5);
    const payee = await client(6);
    const channel = await payer.open({ payee: payee.address, deposit: DEPOSIT }, (p) => payee.join(p));
    // Twenty vouchers, not one RPC request: the chain id seen at the deposit is trusted for the check interval.
    let requests = 0;
    const count = (info: { action: string }) => {
      if (info.action === "sendRpcPayload") requests++;
    };
    await provider.on("debug", count);
    for (let i = 0; i < 20; i++) await payer.pay(channel.id, PRICE);
    await provider.off("debug", count);
    expect(requests).to.equal(0);
    await rpc(node.url, "anvil_setChainId", [1]);
    try {
      // A transaction always checks first; the verdict then stands for signing too, until a check says ours again.
      const offer = await payer.offerClose(channel.id).then(
        () => "signed",
        (error: PiecepayError) => error.code,
      );
      expect(offer).to.equal("WRONG_CHAIN");
      const paid = await payer.pay(channel.id, PRICE).then(
        () => "paid",
        (error: PiecepayError) => error.code,
      );
      expect(paid).to.equal("WRONG_CHAIN");
    } finally {
      await rpc(node.url, "anvil_setChainId", [Number(CHAIN_ID)]);
    }
    expect((await payer.store.getVoucher("sent", channel.id))?.amount).to.equal(20n * PRICE);
  });
});
