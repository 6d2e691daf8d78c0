// Finding peers without a tracker or --peer: the DHT through a bootstrap node on loopback (no public network is
// reachable here), Local Service Discovery on the machine's network, and peer exchange. Through the CLI as a person
// runs it, and in process for a paid download, where the chain is the judge.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { gasSpentSince } from "../helpers/balances.js";
import { startDhtBootstrap } from "../helpers/dht.js";
import { ethers } from "../helpers/fixtures.js";
import { cli, type Running, startCli, useScratchDirs } from "./cli-process.js";
import { done, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

/** Nothing listens here: a command that needed the chain would say the RPC does not answer. */
const NO_CHAIN = ["--rpc", "http://127.0.0.1:9"];

describe("finding peers without a tracker or --peer", function () {
  this.timeout(90_000);
  const scratch = useScratchDirs("piecepay-discovery-");
  const running: Running[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.child.kill("SIGINT");
      await r.exited;
    }
  });

  it("the DHT: `seed --free` and `get <magnet>` meet through a bootstrap node alone (no tracker, no --peer, no LSD)", async function () {
    const dht = await startDhtBootstrap();
    try {
      const dir = scratch();
      const data = randomBytes(1024 * 1024 + 3);
      const file = path.join(dir, "found.bin");
      writeFileSync(file, data);
      const join = ["--dht-bootstrap", dht.address, "--no-lsd"];
      const seeding = await startCli(["seed", file, "--free", ...join, "--data-dir", dir, ...NO_CHAIN]);
      running.push(seeding);
      const magnet = String(seeding.ready.magnet);
      expect(magnet).to.not.include("tr=");
      const out = path.join(dir, "out");
      const got = await cli(["get", magnet, ...join, "--out", out, "--data-dir", path.join(dir, "l"), ...NO_CHAIN]);
      expect(got.code, got.stderr).to.equal(0);
      expect(readFileSync(path.join(out, "found.bin")).equals(data)).to.equal(true);
    } finally {
      await dht.stop();
    }
  });

  it("Local Service Discovery: `seed --free` and `get <magnet>` meet on the machine's network (no DHT, no tracker)", async function () {
    const dir = scratch();
    const data = randomBytes(512 * 1024 + 9);
    const file = path.join(dir, "lan.bin");
    writeFileSync(file, data);
    const seeding = await startCli(["seed", file, "--free", "--no-dht", "--data-dir", dir, ...NO_CHAIN]);
    running.push(seeding);
    const out = path.join(dir, "out");
    const got = await cli([
      "get",
      String(seeding.ready.magnet),
      "--no-dht",
      "--out",
      out,
      "--data-dir",
      path.join(dir, "l"),
      "--timeout",
      "60",
      ...NO_CHAIN,
    ]);
    expect(got.code, got.stderr).to.equal(0);
    expect(readFileSync(path.join(out, "lan.bin")).equals(data)).to.equal(true);
  });

  it("usage: --dht-bootstrap is HOST:PORT, and not with --no-dht", async function () {
    const dir = scratch();
    for (const [args, message] of [
      [["--dht-bootstrap", "nowhere"], /--dht-bootstrap nowhere is not HOST:PORT/],
      [["--dht-bootstrap", "127.0.0.1:1", "--no-dht"], /not with --no-dht/],
    ] as [string[], RegExp][]) {
      const run = await cli(["get", "x.torrent", ...args, "--data-dir", dir]);
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.stderr).to.match(message);
    }
  });
});

describe("a paid download found through the DHT", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("the leecher finds the paid seeder through a bootstrap node and pays it price x pieces, read from the chain", async function () {
    const dht = await startDhtBootstrap();
    try {
      const { alice, bob } = net.f;
      const data = randomBytes(16 * PIECE + 5);
      const discovery = { dht: { bootstrap: [dht.address] } } as const;
      const seederClient = net.webtorrent(discovery);
      const seeder = new PaidSeeder({ client: await net.sdkFor(bob), pricePerPiece: PRICE, asset: ZeroAddress });
      const seeded = await new Promise<Torrent>((resolve) => {
        const t = seederClient.seed(data, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve);
        seeder.attach(t);
      });
      const start = await ethers.provider.getBlockNumber();
      const bobBefore = await ethers.provider.getBalance(bob.address);
      const leecherClient = net.webtorrent(discovery);
      const leecher = new PaidLeecher({
        client: await net.sdkFor(alice),
        maxPricePerPiece: PRICE,
        budget: parseEther("1"),
        asset: ZeroAddress,
      });
      const torrent = leecherClient.add(seeded.magnetURI, { path: path.join(net.dir, "out") });
      leecher.attach(torrent);
      await done(torrent, 45_000);
      const settled = await leecher.settle();
      const pieces = seeded.pieces.length;
      expect(settled).to.have.lengthOf(1);
      expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
      const bobGas = await gasSpentSince(ethers.provider, bob.address, start);
      expect((await ethers.provider.getBalance(bob.address)) - bobBefore).to.equal(BigInt(pieces) * PRICE - bobGas);
      seeder.destroy();
    } finally {
      await dht.stop();
    }
  });
});

describe("peer exchange (ut_pex), as webtorrent offers it", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("a paying leecher told of a paid seeder by another peer's PEX message connects to it and pays it price x pieces", async function () {
    // Webtorrent acts on the PEX messages it receives and sends none of its own; the peer that tells here is a raw
    // BitTorrent connection speaking ut_pex (the package webtorrent uses), as qBittorrent or Transmission would.
    const { alice, bob } = net.f;
    const data = randomBytes(16 * PIECE + 9);
    const seeded = await net.seed(bob, data);
    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(bob.address);
    const leeching = await net.leech(alice, seeded.torrent.torrentFile, []);
    const teller = await pexTeller(leeching.port, seeded.torrent.infoHash);
    try {
      teller.ut_pex.addPeer(`127.0.0.1:${seeded.port}`);
      teller.ut_pex._sendMessage();
      await done(leeching.torrent, 30_000);
    } finally {
      teller.destroy();
    }
    const settled = await leeching.leecher.settle();
    const pieces = seeded.torrent.pieces.length;
    expect(readFileSync(path.join(leeching.path, "file.bin")).equals(data)).to.equal(true);
    expect(settled).to.have.lengthOf(1);
    expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
    const bobGas = await gasSpentSince(ethers.provider, bob.address, start);
    expect((await ethers.provider.getBalance(bob.address)) - bobBefore).to.equal(BigInt(pieces) * PRICE - bobGas);
  });
});

/** A raw BitTorrent connection to `port` that speaks ut_pex, once the extended handshakes are exchanged. */
async function pexTeller(port: number, infoHash: string) {
  type PexWire = Wire & {
    handshake(infoHash: string, peerId: Uint8Array, extensions: object): void;
    ut_pex: { addPeer(peer: string): void; _sendMessage(): void };
  };
  const { default: WireClass } = (await import("bittorrent-protocol")) as unknown as {
    default: new (type?: string) => PexWire;
  };
  const { default: utPex } = await import("ut_pex");
  const socket = connect(port, "127.0.0.1");
  const wire = new WireClass("tcpOutgoing");
  wire.use(utPex() as never);
  socket.pipe(wire as unknown as NodeJS.WritableStream);
  (wire as unknown as NodeJS.ReadableStream).pipe(socket);
  socket.on("error", () => undefined);
  wire.on("error", () => undefined);
  const extended = new Promise<void>((resolve) =>
    wire.on("extended", (ext: string) => {
      if (ext === "handshake") resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  wire.handshake(infoHash, Buffer.from("-RW0001-pexteller001"), { dht: false, fast: true });
  await extended;
  return Object.assign(wire, { destroy: () => socket.destroy() });
}
