// Downloaders that buy from and sell to each other on a chain that mines a block every second (anvil --block-time 1),
// with deposits counted in full only at 2 confirmations: both directions on one connection, then a resale to a
// third downloader after the first two finished. Real webtorrent peers over TCP loopback; the money read from the
// chain (payout events and balances with gas).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet, ZeroAddress } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { LOOPBACK_ONLY } from "../../../client/session/extension.js";
import { createTorrentClient } from "../../../client/session/guarded-client.js";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { gasSpentSince, PiecepayClient, SqliteChannelStore } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";

const PHRASE = "test test test test test test test test test test test junk";
const PIECE = 64 * 1024;
const PIECES = 16;
const PRICE = parseEther("0.0001");

describe("downloaders that trade on a chain that mines every second", function () {
  this.timeout(180_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let adjudicator: string;
  let voucherApp: string;
  let chainId: bigint;
  const clients: WebTorrent[] = [];
  const stores: SqliteChannelStore[] = [];
  const wallet = (i: number) =>
    new Wallet(HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey, provider);

  before(async () => {
    node = await startAnvil(["--accounts", "10", "--block-time", "1"]);
    provider = new JsonRpcProvider(node.url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
    chainId = (await provider.getNetwork()).chainId;
    dir = mkdtempSync(join(tmpdir(), "piecepay-trading-anvil-"));
    const deployer = wallet(0);
    adjudicator = await (await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment()).getAddress();
    voucherApp = await (
      await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment()
    ).getAddress();
  });
  after(async () => {
    await Promise.all(clients.map((c) => new Promise((resolve) => c.destroy(() => resolve(undefined)))));
    for (const store of stores) store.close();
    provider?.destroy();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A downloader of `torrentFile` that sells at `sellAt`, with `onDisk` in its folder (zeros: pieces it lacks). */
  async function trader(i: number, torrentFile: Uint8Array, sellAt: bigint, onDisk?: Buffer) {
    const signer = wallet(i);
    const store = new SqliteChannelStore(join(dir, `trader-${i}.db`));
    stores.push(store);
    const sdk = await PiecepayClient.create({
      signer,
      chainId,
      adjudicator,
      voucherApp,
      store,
      confirmations: 2,
      pollingIntervalMs: 200,
      blockTimeSeconds: 1,
    });
    const path = join(dir, `out-${i}`);
    if (onDisk) {
      mkdirSync(path, { recursive: true });
      writeFileSync(join(path, "file.bin"), onDisk);
    }
    const leecher = new PaidLeecher({
      client: sdk,
      maxPricePerPiece: PRICE,
      budget: parseEther("1"),
      asset: ZeroAddress,
      sell: { pricePerPiece: sellAt },
    });
    const client = createTorrentClient({ ...LOOPBACK_ONLY });
    clients.push(client);
    const torrent: Torrent = client.add(torrentFile, { path });
    leecher.attach(torrent);
    await new Promise<void>((resolve) => torrent.once("ready", () => resolve()));
    const port = (client as unknown as { address(): { port: number } }).address().port;
    return { leecher, torrent, port, path, sdk, address: signer.address };
  }

  const done = (torrent: Torrent) =>
    torrent.done ? Promise.resolve() : new Promise<void>((resolve) => torrent.once("done", () => resolve()));

  it("two halves traded both ways on one connection, then the whole file resold to a third; every payout exact", async function () {
    const data = randomBytes(PIECES * PIECE);
    const source = createTorrentClient({ ...LOOPBACK_ONLY });
    clients.push(source);
    const torrentFile = await new Promise<Uint8Array>((resolve) =>
      source.seed(
        data,
        { name: "file.bin", announce: [], pieceLength: PIECE, path: join(dir, "source") },
        (t: Torrent) => resolve(t.torrentFile),
      ),
    );
    const half = (PIECES / 2) * PIECE;
    const prices = [PRICE / 2n, PRICE / 4n, PRICE];
    const start = await provider.getBlockNumber();
    const before = await Promise.all([1, 2, 3].map((i) => provider.getBalance(wallet(i).address)));
    const a = await trader(1, torrentFile, prices[0], Buffer.concat([data.subarray(0, half), Buffer.alloc(half)]));
    const b = await trader(2, torrentFile, prices[1], Buffer.concat([Buffer.alloc(half), data.subarray(half)]));
    b.torrent.addPeer(`127.0.0.1:${a.port}`);
    await Promise.all([done(a.torrent), done(b.torrent)]);
    const [aBought, bBought] = await Promise.all([a.leecher.settle(), b.leecher.settle()]);
    expect(aBought.map((s) => s.delivered)).to.deep.equal([PIECES / 2]);
    expect(bBought.map((s) => s.delivered)).to.deep.equal([PIECES / 2]);
    expect((await a.sdk.settlement(aBought[0].channelId as string)).toPeer).to.equal(8n * prices[1]);
    expect((await b.sdk.settlement(bBought[0].channelId as string)).toPeer).to.equal(8n * prices[0]);

    // A third, who knows only the first two, buys the rest of nothing: every piece, from them, at their prices.
    const c = await trader(3, torrentFile, prices[2]);
    c.torrent.addPeer(`127.0.0.1:${a.port}`);
    c.torrent.addPeer(`127.0.0.1:${b.port}`);
    await done(c.torrent);
    const cBought = await c.leecher.settle();
    expect(readFileSync(join(c.path, "file.bin")).equals(data)).to.equal(true);
    expect(cBought.reduce((n, s) => n + s.delivered, 0)).to.equal(PIECES);
    const earned = [0n, 0n, 0n];
    const paid = [0n, 0n, 0n];
    paid[0] += 8n * prices[1];
    earned[1] += 8n * prices[1];
    paid[1] += 8n * prices[0];
    earned[0] += 8n * prices[0];
    for (const s of cBought) {
      const record = await c.sdk.store.getChannel(s.channelId as string);
      const seller = record?.fixedPart.participants[1].toLowerCase() === a.address.toLowerCase() ? 0 : 1;
      const settled = await c.sdk.settlement(s.channelId as string);
      expect(settled.toPeer, "paid exactly what this seller delivered, at its price").to.equal(
        BigInt(s.delivered) * prices[seller],
      );
      expect(settled.toPeer + settled.toUs, "the whole deposit paid out").to.equal(s.deposited);
      paid[2] += settled.toPeer;
      earned[seller] += settled.toPeer;
    }
    // Balances: each moved by what it earned less what it paid, less its gas.
    const gas = await gasSpentSince(
      provider,
      [1, 2, 3].map((i) => wallet(i).address),
      start,
    );
    for (const i of [0, 1, 2]) {
      const after = await provider.getBalance(wallet(i + 1).address);
      expect(after - before[i], `trader ${i + 1}`).to.equal(earned[i] - paid[i] - gas[i]);
    }
  });
});
