// Paid torrenting end to end, in process: real webtorrent peers over TCP loopback, real signatures, real stores on
// disk, Hardhat's in-process chain. Balances after settlement equal price x pieces served, to the wei.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import WebTorrent, { type Torrent } from "webtorrent";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { PiecepayClient, SqliteChannelStore } from "../../../sdk/index.js";
import { gasSpentSince } from "../helpers/balances.js";
import { deployFixture, ethers, networkHelpers, type Signer } from "../helpers/fixtures.js";

const PRICE = parseEther("0.0001");
const PIECE = 64 * 1024;
const FAST = { pollingIntervalMs: 20, blockTimeSeconds: 1, safetyMarginSeconds: 5, confirmations: 1 };
const NO_DISCOVERY = {
  dht: false,
  tracker: false,
  lsd: false,
  utp: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
};

describe("paid torrenting end to end", function () {
  this.timeout(120_000);
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];
  const clients: WebTorrent[] = [];

  async function sdkFor(signer: Signer) {
    const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
    stores.push(store);
    return PiecepayClient.create({
      signer,
      chainId: f.chainId,
      adjudicator: f.adjudicatorAddress,
      voucherApp: f.appAddress,
      store,
      ...FAST,
    });
  }

  function webtorrent(): WebTorrent {
    const client = new WebTorrent(NO_DISCOVERY);
    clients.push(client);
    return client;
  }

  /** Seeds `data` paid at `price` per piece; resolves with the torrent, the seeder and its port. */
  async function seed(signer: Signer, data: Buffer, price = PRICE) {
    const client = webtorrent();
    const seeder = new PaidSeeder({ client: await sdkFor(signer), pricePerPiece: price, asset: ZeroAddress });
    const torrent = await new Promise<Torrent>((resolve) => {
      const t = client.seed(data, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve);
      seeder.attach(t);
    });
    await new Promise((r) => setTimeout(r, 50));
    return { torrent, seeder, port: client.address()?.port ?? client.torrentPort };
  }

  async function leech(signer: Signer, torrentFile: Uint8Array, ports: number[], budget = parseEther("1")) {
    const client = webtorrent();
    const leecher = new PaidLeecher({
      client: await sdkFor(signer),
      maxPricePerPiece: PRICE,
      budget,
      asset: ZeroAddress,
    });
    const torrent = client.add(torrentFile, { path: join(dir, `out-${signer.address}`) });
    leecher.attach(torrent);
    torrent.on("infoHash", () => {
      for (const port of ports) torrent.addPeer(`127.0.0.1:${port}`);
    });
    return { torrent, leecher };
  }

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-e2e-"));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => new Promise((r) => c.destroy(() => r(undefined)))));
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("one seeder, one leecher: the file arrives intact; the seeder ends with price x pieces, the leecher with the rest", async function () {
    const data = randomBytes(4 * 1024 * 1024 + 1234);
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all(
      [f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)),
    );
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const { torrent, leecher } = await leech(f.alice, seeded.torrentFile, [port]);
    await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    const settled = await leecher.settle();
    const pieces = BigInt(seeded.pieces.length);
    expect(settled).to.have.length(1);
    expect(settled[0]).to.deep.include({ delivered: Number(pieces), closed: true });
    expect(readFileSync(join(dir, `out-${f.alice.address}`, "file.bin")).equals(data)).to.equal(true);
    expect(seeder.stats().served).to.equal(Number(pieces));
    const [aliceGas, bobGas] = await Promise.all(
      [f.alice, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)),
    );
    const [aliceAfter, bobAfter] = await Promise.all(
      [f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)),
    );
    expect(bobAfter - bobBefore).to.equal(pieces * PRICE - bobGas);
    expect(aliceBefore - aliceAfter).to.equal(pieces * PRICE + aliceGas);
  });
});
