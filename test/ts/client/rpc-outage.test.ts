// docs/security.md rows 50 to 53: the RPC goes away for seconds at the worst moments, and every wei still lands where
// it is owed. A separately started anvil makes a block every second (no blocks on demand, as on a testnet); `piecepay
// seed`, `piecepay get` and `piecepay withdraw` run as child processes, as a user runs them, and reach it through a
// TCP proxy that cuts the RPC for a few seconds: mid-download, mid-open (the deposit sent, its answer lost),
// mid-close and mid-dispute, by resetting connections or by silently dropping requests. Each case checks on chain,
// after settlement: exactly one deposit per seeder, the seeder paid exactly what it delivered (to the wei, gas
// counted), the leecher charged exactly that, and the figures the CLI printed equal to the chain's.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther, Wallet } from "ethers";
import { accountStorePath } from "../../../client/cli/stores.js";
import { PiecepayClient, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { gasSpentSince } from "../helpers/balances.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { devKey, spawnCli } from "../helpers/wire.js";

const CHAIN_ID = 31_337;
const PRICE = parseEther("0.001");
const PIECE = 64 * 1024;
const PIECES = 16;

/** A local node answers in milliseconds: a silently dropped request is given up on after 3 s, not 10. */
const FAST_TIMEOUT = { PIECEPAY_RPC_TIMEOUT: "3" };

type Cli = ReturnType<typeof spawnCli>;

/** The JSON lines a CLI child printed on stdout. */
function lines(cli: Cli): Record<string, string | number | boolean>[] {
  return cli
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

async function exitOf(cli: Cli, ms: number): Promise<number | null> {
  const timer = setTimeout(() => cli.child.kill("SIGKILL"), ms);
  const { code } = await cli.exited;
  clearTimeout(timer);
  return code;
}

describe("RPC outages: the chain's books after a cut of the RPC", function () {
  this.timeout(120_000);
  let node: LocalNode;
  let chain: JsonRpcProvider;
  let dir: string;
  let record: string;
  let adjudicator: string;
  let voucherApp: string;
  let account = 1;
  const children: Cli[] = [];
  const proxies: TcpProxy[] = [];

  before(async function () {
    node = await startAnvil(["--block-time", "1", "--accounts", "12"]);
    chain = new JsonRpcProvider(node.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 200 });
    const deployer = new Wallet(devKey(0), chain);
    adjudicator = await (await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment()).getAddress();
    voucherApp = await (
      await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment()
    ).getAddress();
    dir = await mkdtemp(path.join(tmpdir(), "piecepay-rpc-outage-"));
    record = JSON.stringify({
      chainId: CHAIN_ID,
      contracts: { Adjudicator: { address: adjudicator }, VoucherPaymentApp: { address: voucherApp } },
    });
  });
  afterEach(async function () {
    for (const c of children.splice(0)) if (c.state.exit === null) c.child.kill("SIGKILL");
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
  });
  after(async function () {
    chain?.destroy();
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function dataDir(name: string): Promise<string> {
    const d = path.join(dir, `${name}-${account}-${Date.now()}`);
    await mkdir(path.join(d, "deployments"), { recursive: true });
    writeFileSync(path.join(d, "deployments", `${CHAIN_ID}.json`), record);
    return d;
  }

  async function rpcProxy(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(node.url);
    proxies.push(proxy);
    return proxy;
  }

  /** `piecepay seed` of a fresh random file through `rpc`; resolves with its ready line and the file. */
  async function seed(rpc: string, key: string) {
    const file = path.join(await dataDir("files"), "payload.bin");
    const data = Buffer.alloc(PIECES * PIECE);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    writeFileSync(file, data);
    const cli = spawnCli(
      [
        "seed",
        file,
        "--price",
        "0.001",
        "--piece-length",
        "64",
        "--json",
        "--rpc",
        rpc,
        "--data-dir",
        await dataDir("seeder"),
      ],
      { PIECEPAY_KEY: key, ...FAST_TIMEOUT },
    );
    children.push(cli);
    const deadline = Date.now() + 60_000;
    while (!cli.stdout().includes("\n")) {
      if (cli.state.exit) throw new Error(`seed exited\n${cli.stderr()}`);
      if (Date.now() > deadline) throw new Error(`seed not ready\n${cli.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ready = lines(cli)[0];
    return { cli, data, port: Number(ready.port), torrent: String(ready.torrent) };
  }

  async function get(rpc: string, key: string, torrent: string, peer: string) {
    const out = path.join(await dataDir("out"), "files");
    const cli = spawnCli(
      [
        "get",
        torrent,
        "--max-price",
        "0.001",
        "--budget",
        "1",
        "--out",
        out,
        "--timeout",
        "90",
        "--json",
        "--peer",
        peer,
        "--rpc",
        rpc,
        "--data-dir",
        await dataDir("leecher"),
      ],
      { PIECEPAY_KEY: key, ...FAST_TIMEOUT },
    );
    children.push(cli);
    return { cli, out };
  }

  /** The deposits `from` sent to the adjudicator in blocks after `fromBlock` (mined and successful). */
  async function depositsBy(from: string, fromBlock: number): Promise<number> {
    const selector = Adjudicator__factory.createInterface().getFunction("deposit").selector;
    let count = 0;
    const latest = await chain.getBlockNumber();
    for (let n = fromBlock + 1; n <= latest; n++) {
      const block = await chain.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from !== from || tx.to !== adjudicator || !tx.data.startsWith(selector)) continue;
        if ((await chain.getTransactionReceipt(tx.hash))?.status === 1) count++;
      }
    }
    return count;
  }

  /**
   * One paid download from one seeder with the RPC cut as `arrange` sets up; then the books: one deposit, the
   * seeder paid PIECES x PRICE to the wei, the leecher charged that much, and the CLI's figures equal to them.
   */
  async function downloadThroughOutage(arrange: (rpc: TcpProxy, seederPort: number) => Promise<{ peer?: TcpProxy }>) {
    const rpc = await rpcProxy();
    const seederWallet = new Wallet(devKey(++account));
    const leecherWallet = new Wallet(devKey(++account));
    const start = await chain.getBlockNumber();
    const before = await Promise.all([seederWallet, leecherWallet].map((w) => chain.getBalance(w.address)));
    const seeder = await seed(rpc.url, seederWallet.privateKey);
    const { peer } = await arrange(rpc, seeder.port);
    const peerAddress = peer ? peer.address : `127.0.0.1:${seeder.port}`;
    const leecher = await get(rpc.url, leecherWallet.privateKey, seeder.torrent, peerAddress);
    const code = await exitOf(leecher.cli, 100_000);
    expect(code, leecher.cli.stderr()).to.equal(0);
    await rpc.allCutsDone(1_000);
    expect(readFileSync(path.join(leecher.out, "payload.bin")).equals(seeder.data)).to.equal(true);

    // The seeder's summary line comes when it stops; its close was sent before the leecher exited.
    seeder.cli.child.kill("SIGINT");
    await exitOf(seeder.cli, 20_000);
    await new Promise((r) => setTimeout(r, 1_500)); // one block: balances as of a block that holds both sides' txs

    const owed = BigInt(PIECES) * PRICE;
    expect(await depositsBy(leecherWallet.address, start), "deposits from the leecher").to.equal(1);
    const [seederGas, leecherGas] = await Promise.all(
      [seederWallet, leecherWallet].map((w) => gasSpentSince(chain, w.address, start)),
    );
    const after = await Promise.all([seederWallet, leecherWallet].map((w) => chain.getBalance(w.address)));
    expect(after[0] - before[0] + seederGas, "the seeder's earnings").to.equal(owed);
    expect(before[1] - after[1] - leecherGas, "the leecher's spending").to.equal(owed);

    // What the CLI printed agrees with the chain.
    const got = lines(leecher.cli);
    const settled = got.filter((l) => l.event === "settled");
    expect(settled).to.have.length(1);
    expect(settled[0]).to.include({ delivered: PIECES, closed: true, spent: owed.toString() });
    expect(got.find((l) => l.event === "done")).to.include({ paid: owed.toString(), channels: 1 });
    const closed = lines(seeder.cli).filter((l) => l.event === "closed");
    expect(closed).to.have.length(1);
    expect(closed[0]).to.include({ served: PIECES, earned: owed.toString() });
    return { rpc, leecher: leecher.cli, seeder: seeder.cli };
  }

  it("mid-download (connections reset for 5 s): the leecher keeps its seeder and channel, says it waits, pays exactly what was delivered", async function () {
    let peerProxy: TcpProxy | undefined;
    let atCut = 0;
    const { rpc, leecher } = await downloadThroughOutage(async (rpc, seederPort) => {
      // The seeder's pieces come at 192 KiB/s through a proxy of their own: the 1 MiB download takes about 5 s,
      // and the RPC is cut for 5 s once half of it has passed. Vouchers need no RPC: the pieces keep coming; the
      // close then waits for the RPC.
      peerProxy = await TcpProxy.start(`127.0.0.1:${seederPort}`, { bytesPerSecond: 192 * 1024 });
      proxies.push(peerProxy);
      const proxy = peerProxy;
      void (async () => {
        while (proxy.downstreamBytes < (PIECES * PIECE) / 2) await new Promise((r) => setTimeout(r, 20));
        atCut = proxy.downstreamBytes;
        await rpc.cut(5_000, "reset", "half of the file downloaded");
      })();
      return { peer: proxy };
    });
    expect(rpc.cuts).to.have.length(1);
    // The cut began with half of the pieces still to come: the download went on through it.
    expect(atCut).to.be.lessThan((PIECES * PIECE * 3) / 4);
    expect(peerProxy?.downstreamBytes).to.be.greaterThan(PIECES * PIECE);
    expect(leecher.stderr()).to.match(/rpc: waiting for http:\/\/127\.0\.0\.1:\d+ \(.*connection reset/);
    expect(leecher.stderr()).to.match(/answers again after \d+ s/);
    expect(leecher.stderr()).not.to.match(/dropped|did not close|left to withdraw/);
  });

  it("mid-open (the deposit reaches the node, its answer and 4 s of requests are silently dropped): one deposit, seen by the seeder, settled to the wei", async function () {
    const { rpc, leecher } = await downloadThroughOutage(async (rpc) => {
      rpc.cutOn({ pattern: "eth_sendRawTransaction", nth: 1, ms: 4_000, mode: "drop", forwardFirst: true });
      return {};
    });
    expect(rpc.cuts.map((c) => c.trigger)).to.deep.equal(["eth_sendRawTransaction"]);
    expect(leecher.stderr()).to.match(/rpc: waiting for .*no answer within/);
  });

  it("mid-close (the seeder's close reaches the node, then connections are reset for 3 s): the close counts once, settled to the wei", async function () {
    const { rpc, seeder } = await downloadThroughOutage(async (rpc) => {
      rpc.cutOn({ pattern: "eth_sendRawTransaction", nth: 2, ms: 3_000, mode: "reset", forwardFirst: true });
      return {};
    });
    expect(rpc.cuts).to.have.length(1);
    expect(seeder.stderr()).to.match(/rpc: waiting for .*connection reset/);
  });

  it("mid-dispute: withdraw --force rides out a reset at its challenge and a silent drop at its payout, and pays out the voucher to the wei", async function () {
    const rpc = await rpcProxy();
    const payerWallet = new Wallet(devKey(++account), chain);
    const payeeWallet = new Wallet(devKey(++account), chain);
    const payeeDir = await dataDir("payee");
    const timing = { confirmations: 1, pollingIntervalMs: 500, blockTimeSeconds: 1, safetyMarginSeconds: 5 };
    const common = { chainId: BigInt(CHAIN_ID), adjudicator, voucherApp, ...timing };
    const payer = await PiecepayClient.create({
      ...common,
      signer: payerWallet,
      store: new SqliteChannelStore(":memory:"),
    });
    const payeeStore = new SqliteChannelStore(accountStorePath(payeeDir, payeeWallet.address));
    const payee = await PiecepayClient.create({ ...common, signer: payeeWallet, store: payeeStore });
    const deposit = parseEther("0.05");
    const channel = await payer.open({ payee: payeeWallet.address, deposit, challengeDuration: 10n }, (p) =>
      payee.join(p),
    );
    await payee.waitForFunding(channel.id, { timeoutMs: 30_000 });
    await payee.receive(await payer.pay(channel.id, 3n * PRICE));
    payeeStore.close();
    // The leecher vanished: the seeder enforces its voucher alone.
    const start = await chain.getBlockNumber();
    const before = await Promise.all([payerWallet, payeeWallet].map((w) => chain.getBalance(w.address)));
    rpc.cutOn({ pattern: "eth_sendRawTransaction", nth: 1, ms: 3_000, mode: "reset", forwardFirst: true });
    rpc.cutOn({ pattern: "eth_sendRawTransaction", nth: 2, ms: 3_000, mode: "drop", forwardFirst: false });
    const started = Date.now();
    const withdraw = spawnCli(["withdraw", "--force", "--json", "--rpc", rpc.url, "--data-dir", payeeDir], {
      PIECEPAY_KEY: payeeWallet.privateKey,
      ...FAST_TIMEOUT,
    });
    children.push(withdraw);
    const code = await exitOf(withdraw, 90_000);
    const seconds = (Date.now() - started) / 1000;
    expect(code, withdraw.stderr()).to.equal(0);
    await rpc.allCutsDone(1_000);
    // The challenge duration and two short cuts, each retried after at most a request's timeout: nowhere near 300 s.
    expect(seconds).to.be.lessThan(60);
    expect(withdraw.stderr()).to.match(/connection reset/);
    expect(withdraw.stderr()).to.match(/no answer within/);

    const gas = await gasSpentSince(chain, payeeWallet.address, start);
    const after = await Promise.all([payerWallet, payeeWallet].map((w) => chain.getBalance(w.address)));
    expect(after[1] - before[1] + gas, "the seeder's voucher, paid out").to.equal(3n * PRICE);
    expect(after[0] - before[0], "the rest of the deposit, back to the leecher").to.equal(deposit - 3n * PRICE);
    const [result] = lines(withdraw);
    expect(result).to.include({ action: "paid-out", paidToUs: (3n * PRICE).toString() });
    expect(result.paidToPeer).to.equal((deposit - 3n * PRICE).toString());
  });
});
