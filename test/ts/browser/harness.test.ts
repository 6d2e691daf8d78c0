// The browser test harness itself, in headless Chromium against anvil: the page's injected EIP-1193 wallet is the
// node's unlocked development account (a real transaction, read back from the chain); the SDK's voucher code runs in
// the page on its pure-JS backend, and a voucher signed in the page verifies in Node and the other way round; the
// page's IndexedDB survives a reload. (The SDK's channel life in the browser builds on this.)
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther, Wallet } from "ethers";
import { signVoucher, verifyVoucher } from "../../../sdk/index.js";
import { type LocalNode, root, startAnvil } from "../helpers/nodes.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";

const PAGE = path.join(root, "test/ts/browser/pages/wallet-and-vouchers.ts");

describe("the browser harness (headless Chromium, playwright-core)", function () {
  this.timeout(60_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let bundle: string;
  let page: TestPage;

  before(async function () {
    [node, bundle] = await Promise.all([startAnvil(), bundleForBrowser(PAGE)]);
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
    page = await openPage(bundle, node.url);
    await page.page.waitForFunction(() => "piecepayTest" in window);
  });
  after(async () => {
    await page?.close();
    await closeBrowser();
    provider?.destroy();
    await node?.stop();
  });

  it("the injected wallet is the node's development account: a payment from the page lands on chain, to the wei", async function () {
    const wallet = await page.page.evaluate(() => window.piecepayTest.wallet());
    expect(wallet.chainId).to.equal("31337");
    const accounts: string[] = await provider.send("eth_accounts", []);
    expect(wallet.accounts.map((a) => a.toLowerCase())).to.deep.equal(accounts.map((a: string) => a.toLowerCase()));
    const to = Wallet.createRandom().address;
    const hash = await page.page.evaluate(([t]) => window.piecepayTest.pay(t, "0.25"), [to]);
    const receipt = await provider.getTransactionReceipt(hash);
    expect(receipt?.from.toLowerCase()).to.equal(accounts[0].toLowerCase());
    expect(await provider.getBalance(to)).to.equal(parseEther("0.25"));
  });

  it("vouchers signed in the page verify in Node, and Node's in the page (pure-JS backend there); a tampered one is refused", async function () {
    const signed = await page.page.evaluate(() => window.piecepayTest.signVouchers(3));
    for (const [channelId, amount, signature] of signed.vouchers) {
      const { delta } = verifyVoucher(
        { channelId, amount: BigInt(amount), signature },
        { channelId, payer: signed.payer, deposited: 10n ** 18n, best: 0n },
      );
      expect(delta).to.equal(BigInt(amount));
    }
    const key = Wallet.createRandom();
    const id = `0x${"ab".repeat(32)}`;
    const ours = await signVoucher(key, id, 5_000n);
    const tampered: [string, string, string] = [id, "5001", ours.signature];
    const inPage = await page.page.evaluate(([payer, vouchers]) => window.piecepayTest.verify(payer, vouchers), [
      key.address,
      [[id, "5000", ours.signature], tampered],
    ] as [string, [string, string, string][]]);
    expect(inPage.backend).to.equal("js");
    expect(inPage.results).to.deep.equal(["ok", "VOUCHER_WRONG_SIGNER"]);
  });

  it("the page's IndexedDB keeps a committed write across a reload", async function () {
    await page.page.evaluate(() => window.piecepayTest.idbPut("voucher", "42"));
    await page.reload();
    await page.page.waitForFunction(() => "piecepayTest" in window);
    expect(await page.page.evaluate(() => window.piecepayTest.idbGet("voucher"))).to.equal("42");
  });
});
