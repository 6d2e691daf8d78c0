// One swarm over WebRTC (issue 14), in process: Node seeders and leechers whose only way to each other is WebRTC
// (webrtc-polyfill, as `seed --webrtc` and `get --webrtc` load it), introduced by a WebSocket tracker on loopback,
// paying per piece with the same extension and vouchers as over TCP, on Hardhat's in-process chain. The wire guard
// stands in front of every WebRTC wire as in front of every TCP one.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path, { join } from "node:path";
import type { Wire } from "bittorrent-protocol";
import Server from "bittorrent-tracker/server";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { loadNodeWebRtc, type NodeWebRtc, SEEDER_ANNOUNCE } from "../../../client/cli/webrtc.js";
import type { WireGuardPool } from "../../../client/session/guarded-client.js";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { peerIp } from "../../../client/session/webtorrent-internals.js";
import type { WireLimits } from "../../../client/wire/limits.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers, type Signer } from "../helpers/fixtures.js";
import { cli, useScratchDirs } from "./cli-process.js";
import { done, eventually, failOnUnhandledRejections, PIECE, PRICE, until, usePaidNetwork } from "./helpers.js";

/** webtorrent's Peer objects of a torrent (lib/peer.js): its type, and its connection (a simple-peer over WebRTC). */
type PeerOf = { type: string; wire?: Wire | null; conn?: { write(bytes: Uint8Array): unknown } | null };
const peersOf = (torrent: Torrent) => [...(torrent as unknown as { _peers: Map<string, PeerOf> })._peers.values()];
const typeOf = (wire: Wire) => (wire as unknown as { type: string }).type;

describe("one swarm over WebRTC: Node peers through a WebSocket tracker", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();
  failOnUnhandledRejections();
  let wrtc: NodeWebRtc;
  let tracker: Server;
  let announce: string;

  before(async () => {
    wrtc = await loadNodeWebRtc();
    // WebSocket announces only: no HTTP tracker, no DHT, no --peer, so TCP has no way to find anyone.
    // Clients announce every 5 s (the tracker says so): a WebRTC connection lost while it was being made, which a
    // loaded machine sometimes does, gets fresh offers within the test instead of at webtorrent's next announce.
    tracker = new Server({ udp: false, http: false, ws: true, stats: false, interval: 5_000 });
    await new Promise<void>((resolve) => tracker.listen(0, "127.0.0.1", () => resolve()));
    const address = tracker.http?.address() as AddressInfo | undefined;
    if (!address) throw new Error("the tracker has no HTTP server to carry its WebSockets");
    announce = `ws://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => tracker.close(() => resolve()));
  });

  /**
   * A client that reaches peers only through the WebSocket tracker, over WebRTC. No STUN server: on loopback the
   * host candidates suffice, and an unreachable STUN server would hold each offer until ICE gathering times out.
   * ICE binds to loopback (libdatachannel's `bindAddress`): a machine with several interfaces otherwise lets each
   * connection pick its own, which made the cap per address below pass or fail with the machine.
   */
  const rtcClient = (limits: Partial<WireLimits> = {}, announceAs: object = {}) =>
    net.webtorrent({
      tracker: { wrtc, rtcConfig: { iceServers: [], bindAddress: "127.0.0.1" }, ...announceAs },
      limits,
    });

  async function seed(signer: Signer, data: Buffer, limits: Partial<WireLimits> = {}) {
    const client = rtcClient(limits, SEEDER_ANNOUNCE); // as `seed --webrtc`: it answers offers and makes none
    const seeder = new PaidSeeder({
      client: await net.sdkFor(signer),
      pricePerPiece: PRICE,
      asset: ZeroAddress,
    });
    const started = until(
      tracker,
      "start",
      (peerId: string) => peerId === (client as unknown as { peerId: string }).peerId,
      30_000,
    );
    const torrent = await new Promise<Torrent>((resolve) => {
      const t = client.seed(data, { name: "file.bin", announce: [announce], pieceLength: PIECE }, resolve);
      seeder.attach(t);
    });
    // The seeder's offers have gone out (to nobody) before a leecher's arrive: had both sides' offers crossed, each
    // would keep a different one of the two connections as the duplicate's survivor, and both would close.
    await started;
    return { client, seeder, torrent, destroy: () => seeder.destroy() };
  }

  async function leech(signer: Signer, torrentFile: Uint8Array, budget = parseEther("1")) {
    const client = rtcClient();
    const leecher = new PaidLeecher({
      client: await net.sdkFor(signer),
      maxPricePerPiece: PRICE,
      budget,
      asset: ZeroAddress,
    });
    const path = join(net.dir, `out-${signer.address}`);
    const torrent = client.add(torrentFile, { path });
    leecher.attach(torrent);
    return { client, leecher, torrent, path };
  }

  it("a seeder and a leecher meet over WebRTC only, and every piece is paid: the seeder earns price x pieces on chain, the leecher gets the rest back", async function () {
    const { f } = net;
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)));
    const seeded = await seed(f.bob, data);
    const leeched = await leech(f.alice, seeded.torrent.torrentFile);
    try {
      await done(leeched.torrent, 45_000);
      // Both ends of every connection were WebRTC data channels, and each passed the seeder's wire guard.
      expect(leeched.torrent.wires.map(typeOf)).to.deep.equal(["webrtc"]);
      expect(seeded.torrent.wires.map(typeOf)).to.deep.equal(["webrtc"]);
      expect(seeded.client.guard.stats().connections).to.equal(1);
      expect(leeched.client.guard.stats().connections).to.equal(1);

      const settled = await leeched.leecher.settle();
      const pieces = seeded.torrent.pieces.length;
      expect(settled).to.have.length(1);
      expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
      expect(readFileSync(join(leeched.path, "file.bin")).equals(data)).to.equal(true);
      expect(seeded.seeder.stats().served).to.equal(pieces);

      // What the chain paid out (PaidOut events): price x pieces to the seeder, the rest of the deposit back.
      const channelId = settled[0].channelId as string;
      const { toUs, toPeer } = await leeched.leecher.options.client.settlement(channelId);
      expect(toPeer).to.equal(BigInt(pieces) * PRICE);
      expect(toUs + toPeer).to.equal(settled[0].deposited);
      const gas = await Promise.all([f.alice, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)));
      const after = await Promise.all([f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)));
      expect(after[1] - before[1]).to.equal(BigInt(pieces) * PRICE - gas[1]);
      expect(before[0] - after[0]).to.equal(BigInt(pieces) * PRICE + gas[0]);
    } finally {
      seeded.destroy();
    }
  });

  it("a leecher whose budget runs out over WebRTC gets no more pieces; the seeder is paid exactly what it served", async function () {
    const { f } = net;
    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const seeded = await seed(f.bob, randomBytes(32 * PIECE));
    const leeched = await leech(f.alice, seeded.torrent.torrentFile, 5n * PRICE); // pays for 5 pieces of 32
    try {
      await eventually(() => seeded.seeder.stats().served === 5, "5 pieces served", 30_000);
      // Room for a sixth piece to slip through, had the seeder served past what it was paid.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(leeched.torrent.wires.map(typeOf)).to.deep.equal(["webrtc"]);
      expect(seeded.seeder.stats().served).to.equal(5);
      expect(leeched.torrent.done).to.equal(false);
      const settled = await leeched.leecher.settle();
      expect(settled[0]).to.deep.include({ delivered: 5, closed: true });
      const bobGas = await gasSpentSince(ethers.provider, f.bob.address, start);
      expect((await ethers.provider.getBalance(f.bob.address)) - bobBefore).to.equal(5n * PRICE - bobGas);
    } finally {
      seeded.destroy();
    }
  });

  it("the wire guard drops a WebRTC peer whose bytes break the protocol, before bittorrent-protocol reads them", async function () {
    const seeded = await seed(net.f.bob, randomBytes(8 * PIECE));
    // A plain (unpaying) webtorrent client: it connects over WebRTC and then sends a message 4 GiB long.
    const client = rtcClient();
    const torrent = client.add(seeded.torrent.torrentFile, { path: join(net.dir, "plain") });
    try {
      await eventually(() => seeded.torrent.wires.length === 1, "the WebRTC connection", 30_000);
      const pool: WireGuardPool = seeded.client.guard;
      expect(pool.stats().connections).to.equal(1);
      const ours = peersOf(torrent).find((p) => p.type === "webrtc" && p.wire);
      ours?.conn?.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 7]));
      await eventually(() => seeded.torrent.wires.length === 0, "the seeder to drop the peer", 10_000);
      expect(Object.keys(pool.stats().dropped).join()).to.match(/message N of N bytes/);
      expect(pool.stats().connections).to.equal(0);
    } finally {
      seeded.destroy();
    }
  });

  it("WebRTC peers count against the cap of connections per address", async function () {
    // Two leechers on this machine reach the seeder over WebRTC from one address (ICE is bound to loopback here, so
    // no machine's other interfaces can give them two), so with a cap of 1 per address the second is refused.
    const seeded = await seed(net.f.bob, randomBytes(8 * PIECE), { maxConnectionsPerIp: 1 });
    const addresses = () => seeded.torrent.wires.map((w) => (w as unknown as { remoteAddress?: string }).remoteAddress);
    const first = rtcClient().add(seeded.torrent.torrentFile, { path: join(net.dir, "first") });
    try {
      await eventually(() => seeded.torrent.wires.length === 1, "the first WebRTC connection", 30_000);
      expect(addresses()).to.deep.equal(["127.0.0.1"]);
      const second = rtcClient().add(seeded.torrent.torrentFile, { path: join(net.dir, "second") });
      const refused = () =>
        Object.keys(seeded.client.guard.stats().dropped).some((r) => /connections from .* already/.test(r));
      await eventually(refused, "the second WebRTC connection to be refused", 30_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify({ guard: seeded.client.guard.stats(), at: addresses() })}`);
      });
      expect(seeded.torrent.wires.length).to.equal(1);
      expect([first, second].every((t) => t.wires.every((w) => typeOf(w) === "webrtc"))).to.equal(true);
    } finally {
      seeded.destroy();
    }
  });

  it("WebRTC peers whose address ICE did not report share one address, 'unknown', and its cap", async function () {
    // webtorrent gives a WebRTC peer the address of its selected ICE candidate when getStats reports one; without
    // it, the peer must not escape the per-address cap: all such peers count as one address.
    const client = rtcClient({ maxConnectionsPerIp: 1 });
    const noAddress = () => ({ type: "webrtc", addr: null, conn: { remoteAddress: undefined }, wire: null });
    const first = client.guard.filterFor(noAddress());
    const second = client.guard.filterFor(noAddress());
    second?.on("error", () => undefined); // webtorrent's pipeline listens in real use
    await eventually(() => second?.destroyed === true, "the second connection to be refused", 2_000);
    expect(client.guard.stats().dropped).to.deep.equal({ "N connections from unknown already": 1 });
    expect(first?.destroyed).to.equal(false);
    first?.destroy();
    await eventually(() => client.guard.stats().connections === 0, "the first connection to be released", 2_000);
    // The seeder's cap of unfunded proposals per address keys on peerIp: the same `unknown` for such a wire.
    expect(peerIp({} as Wire)).to.equal("unknown");
  });
});

describe("piecepay seed --webrtc and get --webrtc: usage", function () {
  this.timeout(60_000);
  const scratch = useScratchDirs("piecepay-webrtc-");
  const MAGNET = `magnet:?xt=urn:btih:${"ab".repeat(20)}&tr=${encodeURIComponent("http://127.0.0.1:8000/announce")}`;

  it("names --webrtc in the help of seed and get", async function () {
    const runs = await Promise.all(["seed", "get"].map((command) => cli([command, "--help"])));
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^ {2}--webrtc +also reach WebRTC peers/m);
    }
  });

  it("refuses --webrtc without a ws:// tracker, with exit code 2, before touching the chain or the network", async function () {
    const file = path.join(scratch(), "file.bin");
    writeFileSync(file, randomBytes(1024));
    // No --rpc: had it got as far as the chain, the error would be about the RPC, not the tracker.
    const [seedRun, getRun] = await Promise.all([
      cli(["seed", file, "--price", "0.001", "--webrtc", "--announce", "http://127.0.0.1:8000/announce"]),
      cli(["get", MAGNET, "--max-price", "0.001", "--budget", "0.01", "--webrtc"]),
    ]);
    for (const run of [seedRun, getRun]) {
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.include("error: --webrtc needs a WebSocket tracker (ws:// or wss://)");
      expect(run.stderr).to.include("hint: add --announce ws://HOST:PORT");
    }
    expect(seedRun.stderr).to.include("--announce has none (only http://127.0.0.1:8000/announce)");
  });

  it("says plainly that node-datachannel did not load, without a stack trace", async function () {
    const dir = scratch();
    const file = path.join(dir, "file.bin");
    writeFileSync(file, randomBytes(1024));
    // A loader hook that fails the native addon as a platform without its binary does (the message is the addon's
    // own when its build does not load).
    const hook = path.join(dir, "no-datachannel.mjs");
    const failing = `export async function resolve(s, c, next) { if (s === "node-datachannel") throw new Error("Failed to load local native addon build: ${"node_datachannel.node"}: cannot open shared object file"); return next(s, c); }`;
    writeFileSync(
      hook,
      `import { register } from "node:module";\nregister("data:text/javascript,${encodeURIComponent(failing)}");\n`,
    );
    const run = await cli(["seed", file, "--price", "0.001", "--webrtc", "--announce", "ws://127.0.0.1:8000"], {
      NODE_OPTIONS: `--import ${hook}`,
    });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.equal(
      [
        "error: node-datachannel (the native WebRTC addon that webtorrent loads) did not load: Failed to load local native addon build: node_datachannel.node: cannot open shared object file",
        "hint: reinstall it on a platform it ships binaries for (`npm rebuild node-datachannel`)",
        "",
      ].join("\n"),
    );
  });
});
