// The SDK's RetryingJsonRpcProvider against a real node (anvil) behind a TCP proxy that cuts it: a request silently
// dropped is sent again after its own timeout (not ethers' 300 s), a reset transaction is sent once, a chain swapped
// behind the URL during an outage is refused, an outage longer than our patience ends in one clear error, and a
// payee's wait for a deposit does not expire while the RPC is down.
import { createServer } from "node:http";
import { expect } from "chai";
import { JsonRpcProvider, parseEther, Wallet } from "ethers";
import {
  PiecepayClient,
  type PiecepayError,
  RetryingJsonRpcProvider,
  type RpcOutageEvent,
  SqliteChannelStore,
} from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, rpc, startAnvil } from "../helpers/nodes.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { devKey } from "../helpers/wire.js";

const CHAIN_ID = 31_337n;

describe("RetryingJsonRpcProvider through a proxy that cuts the RPC", function () {
  this.timeout(60_000);
  let node: LocalNode;
  let proxy: TcpProxy;
  let provider: RetryingJsonRpcProvider;
  let events: RpcOutageEvent[];

  before(async () => {
    node = await startAnvil();
  });
  beforeEach(async () => {
    proxy = await TcpProxy.start(node.url);
    events = [];
    provider = new RetryingJsonRpcProvider(proxy.url, CHAIN_ID, {
      requestTimeoutMs: 500,
      patienceMs: 10_000,
      pollingInterval: 100,
      onOutage: (e) => events.push(e),
    });
  });
  afterEach(async () => {
    provider.destroy();
    await proxy.stop();
  });
  after(async () => {
    await node?.stop();
  });

  it("answers a call whose requests were silently dropped for 1.5 s once the RPC is back, within seconds", async function () {
    const cut = proxy.cut(1_500, "drop");
    const started = Date.now();
    const block = await provider.getBlockNumber();
    await cut;
    expect(block).to.equal(Number(await rpc<string>(node.url, "eth_blockNumber")));
    expect(Date.now() - started).to.be.within(1_500, 6_000);
    const reasons = events.filter((e) => e.kind === "retrying").map((e) => (e as { reason: string }).reason);
    expect(reasons).to.include("no answer within 0.5 s");
    expect(events.at(-1)).to.include({ kind: "recovered" });
  });

  it("sends a transaction whose answer a reset lost exactly once: the nonce moves by one, the value moves once", async function () {
    const sender = new Wallet(devKey(3), provider);
    const to = Wallet.createRandom().address;
    const nonce = await provider.getTransactionCount(sender.address);
    proxy.cutOn({ pattern: "eth_sendRawTransaction", ms: 1_000, mode: "reset", forwardFirst: true });
    const tx = await sender.sendTransaction({ to, value: parseEther("0.25") });
    await tx.wait();
    expect(proxy.cuts).to.have.length(1);
    expect(events.some((e) => e.kind === "retrying" && e.reason === "connection reset")).to.equal(true);
    expect(Number(await rpc<string>(node.url, "eth_getTransactionCount", [sender.address, "latest"]))).to.equal(
      nonce + 1,
    );
    expect(BigInt(await rpc<string>(node.url, "eth_getBalance", [to, "latest"]))).to.equal(parseEther("0.25"));
  });

  it("refuses every call once the node behind the URL is on another chain after an outage", async function () {
    expect(await provider.getBlockNumber()).to.be.a("number");
    const cut = proxy.cut(800, "reset");
    await rpc(node.url, "anvil_setChainId", [5]);
    try {
      const code = await provider.getBlockNumber().then(
        () => "answered",
        (error: PiecepayError) => error.code,
      );
      await cut;
      expect(code).to.equal("WRONG_CHAIN");
      const again = await provider.getBalance(Wallet.createRandom().address).then(
        () => "answered",
        (error: PiecepayError) => error.code,
      );
      expect(again).to.equal("WRONG_CHAIN");
    } finally {
      await rpc(node.url, "anvil_setChainId", [Number(CHAIN_ID)]);
    }
  });

  it("a payee's wait for a deposit does not expire during an outage: the deposit sent meanwhile is seen, the channel opens", async function () {
    const direct = new JsonRpcProvider(node.url, Number(CHAIN_ID), { staticNetwork: true, cacheTimeout: -1 });
    const deployer = new Wallet(devKey(0), direct);
    const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
    const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
    const timing = { confirmations: 1, pollingIntervalMs: 100, blockTimeSeconds: 1, safetyMarginSeconds: 5 };
    const common = { chainId: CHAIN_ID, adjudicator, voucherApp, ...timing };
    // The payer reaches the node directly; the payee through the proxy, with little patience: its looks fail.
    const payer = await PiecepayClient.create({
      ...common,
      signer: new Wallet(devKey(4), direct),
      store: new SqliteChannelStore(":memory:"),
    });
    const impatient = new RetryingJsonRpcProvider(proxy.url, CHAIN_ID, { requestTimeoutMs: 200, patienceMs: 300 });
    const payee = await PiecepayClient.create({
      ...common,
      signer: new Wallet(devKey(5), impatient),
      store: new SqliteChannelStore(":memory:"),
    });
    try {
      const proposal = await payer.propose({ payee: payee.address, deposit: parseEther("0.1") });
      const acceptance = await payee.join(proposal);
      const cut = proxy.cut(2_000, "reset");
      // Its deadline passes in the middle of the outage.
      const seen = payee.waitForFunding(acceptance.channelId, { timeoutMs: 500 });
      await payer.fund(proposal, acceptance);
      await cut;
      const record = await seen;
      expect(record).to.deep.include({ phase: "open", deposited: parseEther("0.1") });
    } finally {
      impatient.destroy();
      direct.destroy();
    }
  });

  it("does not retry an RPC that refuses for good (HTTP 403 without a JSON-RPC body): one request, one error in words", async function () {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests++;
      response.writeHead(403, { "content-type": "text/plain" });
      response.end("missing API key");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const refused = new RetryingJsonRpcProvider(`http://127.0.0.1:${port}`, CHAIN_ID);
    try {
      const error = await refused.getBlockNumber().then(
        () => undefined,
        (e: PiecepayError) => e,
      );
      expect(error?.code).to.equal("RPC_UNAVAILABLE");
      expect(error?.shortMessage).to.equal("the RPC refused eth_blockNumber: HTTP 403 Forbidden");
      expect(requests).to.equal(1);
    } finally {
      refused.destroy();
      server.close();
    }
  });

  it("gives up after its patience with one error that says what it waited for", async function () {
    const impatient = new RetryingJsonRpcProvider(proxy.url, CHAIN_ID, { requestTimeoutMs: 300, patienceMs: 1_500 });
    const cut = proxy.cut(4_000, "reset");
    const started = Date.now();
    try {
      const error = await impatient.getBlockNumber().then(
        () => undefined,
        (e: PiecepayError) => e,
      );
      expect(error?.code).to.equal("RPC_UNAVAILABLE");
      expect(error?.shortMessage).to.match(
        /^the RPC did not answer eth_blockNumber for \d s \(connection (reset|refused|closed)\)$/,
      );
      expect(Date.now() - started).to.be.lessThan(3_000);
    } finally {
      impatient.destroy();
      await cut;
    }
  });
});
