// Re-orgs on a chain that is not mined on demand (anvil, a block every second, Sepolia's chain id): a real
// `anvil_reorg` takes a leecher's deposit, or a cooperative close, off the chain after the seeder saw it. Every
// figure is read from the chain: the seeder loses at most the pieces it serves before a deposit is final, and
// what the CLI reports as paid and earned follows the chain after the re-org.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet, ZeroAddress } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { accountStorePath } from "../../../client/cli/stores.js";
import { LOOPBACK_ONLY } from "../../../client/session/extension.js";
import { createTorrentClient } from "../../../client/session/guarded-client.js";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { PaidSeeder, type SeederPeerStats } from "../../../client/session/seeder.js";
import { PiecepayClient, type PiecepayClientOptions, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, root, rpc, startAnvil } from "../helpers/nodes.js";

const CHAIN_ID = 11_155_111n; // Sepolia's: the SDK's default there is 5 confirmations
const PHRASE = "test test test test test test test test test test test junk";
const PRICE = parseEther("0.001");
const PIECE = 64 * 1024;
const TIMING = { pollingIntervalMs: 200, blockTimeSeconds: 1, safetyMarginSeconds: 5 };

describe("re-orgs on anvil with a block every second", function () {
  this.timeout(90_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let adjudicator: string;
  let voucherApp: string;
  const stores: SqliteChannelStore[] = [];
  const torrents: WebTorrent[] = [];
  const seeders: PaidSeeder[] = [];
  const wallet = (i: number) =>
    new Wallet(HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey, provider);

  before(async () => {
    node = await startAnvil(["--chain-id", String(CHAIN_ID), "--block-time", "1"]);
    provider = new JsonRpcProvider(node.url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
    dir = mkdtempSync(join(tmpdir(), "piecepay-reorg-"));
    const deployer = wallet(0);
    const a = await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment();
    const app = await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment();
    adjudicator = await a.getAddress();
    voucherApp = await app.getAddress();
  });
  afterEach(async () => {
    for (const s of seeders.splice(0)) s.destroy();
    await Promise.all(torrents.splice(0).map((t) => new Promise((r) => t.destroy(() => r(undefined)))));
    for (const s of stores.splice(0)) s.close();
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An SDK client for account `i` with its store where `--data-dir <dir>/<name>` reads that account's channels. */
  async function sdk(i: number, name: string, extra: Partial<PiecepayClientOptions> = {}): Promise<PiecepayClient> {
    mkdirSync(join(dir, name), { recursive: true });
    const store = new SqliteChannelStore(accountStorePath(join(dir, name), wallet(i).address));
    stores.push(store);
    const options = { signer: wallet(i), chainId: CHAIN_ID, adjudicator, voucherApp, store, ...TIMING, ...extra };
    return PiecepayClient.create(options);
  }

  async function seedAndLeech(seederClient: PiecepayClient, leecherClient: PiecepayClient, pieces: number) {
    const seeding = createTorrentClient(LOOPBACK_ONLY);
    const leeching = createTorrentClient(LOOPBACK_ONLY);
    torrents.push(seeding, leeching);
    const seeder = new PaidSeeder({
      client: seederClient,
      pricePerPiece: PRICE,
      asset: ZeroAddress,
      unconfirmedPieces: 2,
      enforceAfterMs: 50, // a seeder that wrongly enforced a vanished deposit would spend gas at once
    });
    seeders.push(seeder);
    const warnings: Error[] = [];
    seeder.on("warning", (e: Error) => warnings.push(e));
    const seeded = await new Promise<Torrent>((resolve) => {
      const t = seeding.seed(
        randomBytes(pieces * PIECE),
        { name: "file.bin", announce: [], pieceLength: PIECE, path: mkdtempSync(join(tmpdir(), "piecepay-seed-")) },
        resolve,
      );
      seeder.attach(t);
    });
    await until(() => Boolean(seeding.address()?.port), "the seeder to listen");
    const leecher = new PaidLeecher({
      client: leecherClient,
      maxPricePerPiece: PRICE,
      budget: parseEther("1"),
      asset: ZeroAddress,
      closeTimeoutMs: 30_000,
    });
    const torrent = leeching.add(seeded.torrentFile, { path: join(dir, `out-${torrents.length}`) });
    leecher.attach(torrent);
    torrent.on("infoHash", () => torrent.addPeer(`127.0.0.1:${seeding.address()?.port}`));
    return { seeder, leecher, torrent, warnings };
  }

  /** Removes the blocks from `block` up (anvil mines as many new, empty ones): what a re-org does. */
  async function reorgFrom(block: number): Promise<void> {
    const head = await provider.getBlockNumber();
    await rpc(node.url, "anvil_reorg", [head - block + 1, []]);
  }

  it("after a deposit: the seeder serves only its 2 unconfirmed pieces, sees the deposit go, stops, and spends nothing", async function () {
    const seederClient = await sdk(1, "seeder-a"); // the chain's default: 5 confirmations
    const leecherClient = await sdk(2, "leecher-a");
    expect(seederClient.confirmations).to.equal(5);
    const seederNonce = await provider.getTransactionCount(seederClient.address);
    const { seeder, leecher } = await seedAndLeech(seederClient, leecherClient, 16);
    const removed = new Promise<SeederPeerStats>((resolve) => seeder.once("deposit-removed", resolve));
    // The deposit is mined; the seeder serves its bound, and no more while the deposit is not final.
    await until(() => seeder.stats().served >= 2, "two pieces served on the unconfirmed deposit", 20_000);
    const channelId = leecher.stats().find((p) => p.channelId)?.channelId as string;
    const txHash = (await leecherClient.store.getChannel(channelId))?.funding?.txHash as string;
    const deposit = await provider.getTransactionReceipt(txHash);
    if (!deposit) throw new Error("the deposit is not mined");
    const confirmations = (await provider.getBlockNumber()) - deposit.blockNumber + 1;
    expect(confirmations, "the re-org comes before the deposit is final").to.be.lessThan(5);
    await reorgFrom(deposit.blockNumber);

    const stats = await removed;
    expect(stats.channelId).to.equal(channelId);
    // Read from the chain: the channel holds nothing and paid nothing; the seeder's loss is what it served.
    expect(await seederClient.adjudicator.holdings(ZeroAddress, channelId)).to.equal(0n);
    expect((await seederClient.settlement(channelId)).toUs).to.equal(0n);
    // Past the point where the deposit would have been final, and past the enforcement delay: still at most 2
    // pieces served on that channel, and the seeder sent no transaction (nothing to enforce, no gas spent).
    const head = await provider.getBlockNumber();
    await until(async () => (await provider.getBlockNumber()) >= head + 5, "five more blocks", 15_000);
    const served = seeder.stats().peers.filter((p) => p.channelId === channelId);
    expect(served.reduce((a, p) => a + p.served, 0)).to.be.at.most(2);
    expect(await provider.getTransactionCount(seederClient.address)).to.equal(seederNonce);
  });

  it("without a re-org: 2 pieces before the deposit is final, the rest after; the seeder earns 16 x price (PaidOut)", async function () {
    const seederClient = await sdk(5, "seeder-c"); // 5 confirmations, the chain's default
    const leecherClient = await sdk(6, "leecher-c");
    const { seeder, leecher, torrent } = await seedAndLeech(seederClient, leecherClient, 16);
    const closed = new Promise<SeederPeerStats>((resolve) => seeder.once("closed", resolve));
    await until(() => seeder.stats().served >= 1, "a first piece served", 20_000);
    const channelId = leecher.stats().find((p) => p.channelId)?.channelId as string;
    const txHash = (await leecherClient.store.getChannel(channelId))?.funding?.txHash as string;
    const deposit = await provider.getTransactionReceipt(txHash);
    if (!deposit) throw new Error("the deposit is not mined");
    // While the deposit has fewer than 5 confirmations, no more than 2 pieces go out.
    while ((await provider.getBlockNumber()) - deposit.blockNumber + 1 < 4) {
      expect(seeder.stats().served).to.be.at.most(2);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise<void>((resolve) => (torrent.done ? resolve() : torrent.once("done", () => resolve())));
    await leecher.settle();
    const stats = await closed;
    expect(stats.served).to.equal(16);
    expect(stats.earned).to.equal(16n * PRICE);
    expect((await seederClient.settlement(channelId)).toUs).to.equal(16n * PRICE);
  });

  it("trusting one confirmation: a deposit re-orged away after the file was served; the close pays nothing, and the seeder reports earned 0, not its voucher", async function () {
    const seederClient = await sdk(7, "seeder-d", { confirmations: 1 }); // the setting under test
    const leecherClient = await sdk(8, "leecher-d", { confirmations: 1 });
    const { seeder, leecher, torrent } = await seedAndLeech(seederClient, leecherClient, 4);
    const closed = new Promise<SeederPeerStats>((resolve) => seeder.once("closed", resolve));
    await new Promise<void>((resolve) => (torrent.done ? resolve() : torrent.once("done", () => resolve())));
    const channelId = leecher.stats().find((p) => p.channelId)?.channelId as string;
    const txHash = (await leecherClient.store.getChannel(channelId))?.funding?.txHash as string;
    const deposit = await provider.getTransactionReceipt(txHash);
    if (!deposit) throw new Error("the deposit is not mined");
    await reorgFrom(deposit.blockNumber);
    await leecher.settle();
    const stats = await closed;
    expect(stats.paid, "the largest voucher").to.equal(4n * PRICE);
    expect(stats.earned, "what the chain paid").to.equal(0n);
    expect((await leecherClient.settlement(channelId)).paid).to.deep.equal([0n, 0n]);
  });

  it("after a close: the seeder reported what the chain paid; after the re-org, `channels` says the chain paid nothing and the channel is open again", async function () {
    const seederClient = await sdk(3, "seeder-b", { confirmations: 1 }); // trusts one block, as before this fix
    const leecherClient = await sdk(4, "leecher-b", { confirmations: 1 });
    const { seeder, leecher, torrent } = await seedAndLeech(seederClient, leecherClient, 4);
    const closed = new Promise<[SeederPeerStats, string]>((resolve) =>
      seeder.once("closed", (s: SeederPeerStats, hash: string) => resolve([s, hash])),
    );
    await new Promise<void>((resolve) => (torrent.done ? resolve() : torrent.once("done", () => resolve())));
    await leecher.settle();
    const [stats, hash] = await closed;
    const channelId = stats.channelId as string;
    // Before the re-org, what the seeder printed as earned is what the chain paid it: 4 pieces.
    expect(stats.earned).to.equal(4n * PRICE);
    const close = await provider.getTransactionReceipt(hash);
    if (!close) throw new Error("the close is not mined");
    const deposited = (await leecherClient.store.getChannel(channelId))?.deposited as bigint;

    await reorgFrom(close.blockNumber);

    expect(await provider.getTransactionReceipt(hash)).to.equal(null);
    expect(await seederClient.adjudicator.holdings(ZeroAddress, channelId)).to.equal(deposited);
    for (const [name, role, field] of [
      ["seeder-b", "payee", "earned"],
      ["leecher-b", "payer", "paid"],
    ] as const) {
      const { stdout, code, stderr } = await cli([
        "channels",
        "--json",
        "--rpc",
        node.url,
        "--data-dir",
        join(dir, name),
      ]);
      expect(code, stderr).to.equal(0);
      const row = stdout
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.id === channelId);
      expect(row, `${name} lists the channel`).to.include({ role, [field]: "0", phase: "open" });
      expect(row?.onChain).to.include({ holdings: deposited.toString(), status: "open" });
    }
    // The store follows: the seeder's channel is open again, so its vouchers can still be enforced.
    expect((await seederClient.store.getChannel(channelId))?.phase).to.equal("open");
  });
});

/** Runs `piecepay ...args` to completion. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PIECEPAY_")));
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, "client/cli/bin.mjs"), ...args], { cwd: root, env }, (e, o, s) =>
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : 1, stdout: o, stderr: s }),
    );
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
