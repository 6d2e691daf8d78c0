// The SDK's channel life in headless Chromium against anvil: a web page is the payer (the universal entry point
// bundled whole, its channels and its session key in IndexedDB; every transaction through the injected EIP-1193
// wallet, which is anvil's first development account, and every state and voucher signed by the session key, which
// holds no ETH and never receives any); the payee is an SDK client in this Node process with its own SQLite
// store. Money terms: the payer's deposit comes back less what its vouchers paid; the payee gets exactly what they
// paid, through a cooperative close or through a dispute that the page starts with a stale state and the payee
// answers. Every figure is read from the chain, to the wei, with each side's gas taken from its receipts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther } from "ethers";
import {
  type ChannelProposal,
  type ChannelRecord,
  fromJson,
  gasSpentSince,
  PiecepayClient,
  SqliteChannelStore,
  toDestination,
  toJson,
  type Voucher,
} from "../../../sdk/node.js";
import type { Adjudicator } from "../../../typechain-types/index.js";
import { type LocalNode, root, rpc, startAnvil } from "../helpers/nodes.js";
import { anvilAccount, deployForPages } from "./anvil-contracts.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";
import type { PayerSettings } from "./pages/channel-payer.js";

const PAGE = join(root, "test/ts/browser/pages/channel-payer.ts");
const CHAIN_ID = 31_337n;
const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");
/** Above both clients' minimum (about 73 s with the payee's polling here): the test moves the clock past it. */
const CHALLENGE_DURATION = 600n;

describe("the SDK's channel life in Chromium: the page pays from its wallet, a Node payee is paid", function () {
  this.timeout(60_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let store: SqliteChannelStore;
  let adjudicator: Adjudicator;
  let settings: PayerSettings;
  let payee: PiecepayClient;
  let page: TestPage;
  let payerAddress: string;
  let sessionKeyAddress: string;

  const account = (i: number) => anvilAccount(provider, i);

  /** Loads the page's payer (again after a reload: everything it knows comes from its IndexedDB). */
  async function startPayer(): Promise<{ wallet: string; sessionKey: string }> {
    await page.page.waitForFunction(() => "payer" in window);
    return page.page.evaluate((s) => window.payer.start(s), settings);
  }

  /** Transactions the wallet sent since the test began: each is one approval its user would have given. */
  const prompts = async (nonceBefore: number) => (await provider.getTransactionCount(payerAddress)) - nonceBefore;

  const call = <T>(method: string, ...args: string[]): Promise<T> =>
    page.page.evaluate(
      ([m, a]) => (window.payer as unknown as Record<string, (...x: string[]) => Promise<T>>)[m](...a),
      [method, args] as [string, string[]],
    );

  /** The page opens a channel to the payee and deposits; the payee waits for the deposit on chain. */
  async function openChannel(): Promise<{ id: string; txHash: string }> {
    const opened = fromJson(await call<string>("open", payee.address, String(DEPOSIT), String(CHALLENGE_DURATION))) as {
      id: string;
      deposited: bigint;
      txHash: string;
    };
    expect(opened.deposited).to.equal(DEPOSIT);
    await payee.waitForFunding(opened.id, { timeoutMs: 10_000 });
    return opened;
  }

  /** The page signs the next voucher; the payee verifies it in Node and credits its increase. */
  async function payOnce(id: string): Promise<Voucher> {
    const voucher = fromJson(await call<string>("pay", id, String(PRICE))) as Voucher;
    expect((await payee.receive(voucher)).delta, `credit of voucher ${voucher.amount}`).to.equal(PRICE);
    return voucher;
  }

  const balances = () => Promise.all([provider.getBalance(payerAddress), provider.getBalance(payee.address)]);

  /** What the adjudicator paid out of channel `id`, per destination. */
  async function paidOut(id: string): Promise<Map<string, bigint>> {
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(id));
    return new Map(events.map((e) => [e.args.destination, e.args.amount]));
  }

  before(async function () {
    let bundle: string;
    [node, bundle] = await Promise.all([startAnvil(), bundleForBrowser(PAGE)]);
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 100 });
    ({ adjudicator, settings } = await deployForPages(provider, CHAIN_ID));
    dir = mkdtempSync(join(tmpdir(), "piecepay-browser-payee-"));
    store = new SqliteChannelStore(join(dir, "payee.db"));
    payee = await PiecepayClient.create({
      signer: account(1),
      chainId: CHAIN_ID,
      adjudicator: settings.adjudicator,
      voucherApp: settings.voucherApp,
      store,
      pollingIntervalMs: 200,
    });
    page = await openPage(bundle, node.url);
    // The payee's side of the handshake, in Node; exposed functions survive the page's reloads.
    await page.page.exposeFunction("askPayee", async (proposal: string) =>
      toJson(await payee.join(fromJson(proposal) as ChannelProposal)),
    );
    ({ wallet: payerAddress, sessionKey: sessionKeyAddress } = await startPayer());
    expect(payerAddress).to.equal(account(0).address);
    expect(sessionKeyAddress).to.not.equal(payerAddress);
  });
  after(async () => {
    await page?.close();
    await closeBrowser();
    await store?.close();
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(page.console.join("\n"));
  });

  it("opens from the wallet, pays, loses nothing over a reload between two payments, closes: balances to the wei", async function () {
    const start = await provider.getBlockNumber();
    const nonce = await provider.getTransactionCount(payerAddress);
    const before = await balances();
    const { id, txHash } = await openChannel();
    expect((await provider.getTransactionReceipt(txHash))?.from).to.equal(payerAddress); // the wallet sent it
    const record = (fromJson(await call<string>("channels")) as ChannelRecord[]).find((c) => c.id === id);
    expect(record?.fixedPart.participants[0]).to.equal(sessionKeyAddress); // the session key is the participant

    await payOnce(id);
    await payOnce(id);
    await page.reload();
    // The same session key after the reload: it came from IndexedDB.
    expect(await startPayer()).to.deep.equal({ wallet: payerAddress, sessionKey: sessionKeyAddress });
    const kept = (fromJson(await call<string>("channels")) as ChannelRecord[]).find((c) => c.id === id);
    expect(kept?.phase).to.equal("open");
    expect(kept?.deposited).to.equal(DEPOSIT);
    expect(BigInt(await call<string>("paid", id))).to.equal(2n * PRICE);
    // The same channel goes on after the reload: the next voucher is one price above the last.
    expect((await payOnce(id)).amount).to.equal(3n * PRICE);
    const paid = 3n * PRICE;

    const closeHash = await call<string>("close", toJson(await payee.offerClose(id)));
    expect((await provider.getTransactionReceipt(closeHash))?.from).to.equal(payerAddress);
    expect(await paidOut(id)).to.deep.equal(
      new Map([
        [toDestination(payerAddress), DEPOSIT - paid],
        [toDestination(payee.address), paid],
      ]),
    );
    const [payerGas, payeeGas] = await gasSpentSince(provider, [payerAddress, payee.address], start);
    expect(payeeGas).to.equal(0n); // the payee sent nothing: the page deposited and closed
    const after = await balances();
    expect(after[0] - before[0], "the payer: its deposit back less the vouchers, less its gas").to.equal(
      -paid - payerGas,
    );
    expect(after[1] - before[1], "the payee: exactly the vouchers").to.equal(paid);
    expect(await prompts(nonce), "wallet approvals: the deposit and the close, none per voucher").to.equal(2);
    expect(await provider.getBalance(sessionKeyAddress), "the session key holds nothing").to.equal(0n);
  });

  it("disputes: the page challenges with its stale funding state, the payee answers with its voucher, the clock passes the deadline, the page pays out", async function () {
    const start = await provider.getBlockNumber();
    const before = await balances();
    const { id } = await openChannel();
    for (let i = 0; i < 4; i++) await payOnce(id);
    const paid = 4n * PRICE;

    await call<string>("challenge", id); // the funding state: all of it to the payer
    expect(await payee.defend(id)).to.equal("answered"); // a newer state, carrying the payee's largest voucher
    expect(await call<string>("payoutRefusal", id)).to.equal("NOT_FINALIZED");
    await rpc(node.url, "evm_increaseTime", [Number(CHALLENGE_DURATION)]);
    await rpc(node.url, "evm_mine");
    const payoutHash = await call<string>("payout", id);
    expect((await provider.getTransactionReceipt(payoutHash))?.from).to.equal(payerAddress);

    expect(await paidOut(id)).to.deep.equal(
      new Map([
        [toDestination(payerAddress), DEPOSIT - paid],
        [toDestination(payee.address), paid],
      ]),
    );
    const [payerGas, payeeGas] = await gasSpentSince(provider, [payerAddress, payee.address], start);
    expect(payeeGas > 0n, "the payee paid for its answer").to.equal(true);
    const after = await balances();
    expect(after[0] - before[0], "the payer: its deposit back less the vouchers, less its gas").to.equal(
      -paid - payerGas,
    );
    expect(after[1] - before[1], "the payee: the vouchers, less its answer's gas").to.equal(paid - payeeGas);
    expect(await provider.getBalance(sessionKeyAddress), "the session key holds nothing").to.equal(0n);
  });
});
