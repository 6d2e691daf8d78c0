// Free torrents with plain BitTorrent clients, through the CLI as a person runs it: `piecepay seed --free` and
// `piecepay get` with no key, no chain and no price flags (the --rpc given points at nothing, so a command that
// touched a chain would fail), against Debian's aria2 and torrents made by Transmission's transmission-create. A paid
// seeder met by a free download is named with its price and skipped.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { formatEther, ZeroAddress } from "ethers";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { freePort } from "../helpers/nodes.js";
import { aria2Get, aria2Seed, infoHashOf, transmissionCreate } from "../helpers/plain-clients.js";
import { cli, jsonLines, type Running, startCli, useScratchDirs } from "./cli-process.js";
import { done, PRICE, usePaidNetwork } from "./helpers.js";

/** Nothing listens here: a command that needed the chain would say the RPC does not answer. */
const NO_CHAIN = ["--rpc", "http://127.0.0.1:9"];

describe("free torrents with plain BitTorrent clients (aria2, Transmission's torrents)", function () {
  this.timeout(120_000);
  const scratch = useScratchDirs("piecepay-plain-");
  const running: Running[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.child.kill("SIGINT");
      await r.exited;
    }
  });
  const start = async (args: string[]) => {
    const r = await startCli(args);
    running.push(r);
    return r;
  };

  it("aria2 downloads a free torrent from `piecepay seed --free`, found through a tracker", async function () {
    const dir = scratch();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(dir, "shared.bin");
    writeFileSync(file, data);
    const tracker = await start(["tracker", "--port", String(await freePort())]);
    const announce = (tracker.ready.announce as string[]).find((url) => url.startsWith("http")) as string;
    const seeding = await start([
      "seed",
      file,
      "--free",
      "--announce",
      announce,
      "--data-dir",
      path.join(dir, "seeder"),
      ...NO_CHAIN,
    ]);
    expect(seeding.ready).to.include({ event: "seeding", free: true });
    const out = path.join(dir, "aria2-out");
    const got = await aria2Get(String(seeding.ready.torrent), out);
    expect(got.code, got.log).to.equal(0);
    expect(readFileSync(path.join(out, "shared.bin")).equals(data)).to.equal(true);
    // Ctrl-C: it says what it sent, and exits 0.
    seeding.child.kill("SIGINT");
    expect((await seeding.exited).code).to.equal(0);
    const stopped = jsonLines(seeding.stdout()).find((line) => line.event === "stopped");
    expect(Number(stopped?.uploaded)).to.be.at.least(data.length);
  });

  it("`piecepay get <torrent>` alone downloads a multi-file torrent that transmission-create made, from an aria2 seeder", async function () {
    const dir = scratch();
    const folder = path.join(dir, "album");
    mkdirSync(path.join(folder, "disc 2"), { recursive: true });
    const files: Record<string, Buffer> = {
      "album/one.bin": randomBytes(1024 * 1024 + 5),
      "album/disc 2/two.bin": randomBytes(700 * 1024),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
    const torrentPath = path.join(dir, "album.torrent");
    const torrent = transmissionCreate(folder, torrentPath, { pieceKiB: 64 });
    const aria2 = await aria2Seed(path.join(dir, "seed"), torrent, files);
    try {
      const out = path.join(dir, "out");
      const got = await cli([
        "get",
        torrentPath,
        "--peer",
        `127.0.0.1:${aria2.port}`,
        "--out",
        out,
        "--data-dir",
        path.join(dir, "leecher"),
        "--timeout",
        "60",
        "--json",
        ...NO_CHAIN,
      ]);
      expect(got.code, got.stderr).to.equal(0);
      for (const [name, bytes] of Object.entries(files)) {
        expect(readFileSync(path.join(out, name)).equals(bytes), name).to.equal(true);
      }
      const done = jsonLines(got.stdout).find((line) => line.event === "done");
      expect(done).to.include({ name: "album", free: true, paid: "0", channels: 0 });
    } finally {
      aria2.stop();
    }
  });

  it("`piecepay get <magnet>` with the magnet's tracker alone downloads from `piecepay seed --free`", async function () {
    const dir = scratch();
    const data = randomBytes(2 * 1024 * 1024);
    const file = path.join(dir, "clip.bin");
    writeFileSync(file, data);
    const tracker = await start(["tracker", "--port", String(await freePort())]);
    const announce = (tracker.ready.announce as string[]).find((url) => url.startsWith("http")) as string;
    const seeding = await start(["seed", file, "--price", "0", "--announce", announce, "--data-dir", dir, ...NO_CHAIN]);
    const magnet = String(seeding.ready.magnet);
    expect(magnet).to.include(`tr=${encodeURIComponent(announce)}`);
    const out = path.join(dir, "out");
    const got = await cli(["get", magnet, "--out", out, "--data-dir", path.join(dir, "leecher"), ...NO_CHAIN]);
    expect(got.code, got.stderr).to.equal(0);
    expect(readFileSync(path.join(out, "clip.bin")).equals(data)).to.equal(true);
    expect(got.stdout).to.match(/done: clip\.bin, 2097152 bytes in [\d.]+ s, free \(nothing paid\)/);
  });

  it("`seed --torrent` joins the swarm of a torrent that transmission-create made: the same infohash, and aria2 downloads from it", async function () {
    const dir = scratch();
    const data = randomBytes(1536 * 1024 + 11);
    const file = path.join(dir, "talk.webm");
    writeFileSync(file, data);
    const tracker = await start(["tracker", "--port", String(await freePort())]);
    const announce = (tracker.ready.announce as string[]).find((url) => url.startsWith("http")) as string;
    const torrentPath = path.join(dir, "talk.torrent");
    const torrent = transmissionCreate(file, torrentPath, { pieceKiB: 32, tracker: announce });
    const infoHash = await infoHashOf(torrent);
    const seeding = await start([
      "seed",
      file,
      "--torrent",
      torrentPath,
      "--free",
      "--no-dht",
      "--no-lsd",
      "--data-dir",
      path.join(dir, "seeder"),
      ...NO_CHAIN,
    ]);
    expect(String(seeding.ready.magnet)).to.include(`btih:${infoHash}`);
    const out = path.join(dir, "aria2-out");
    const got = await aria2Get(torrentPath, out);
    expect(got.code, got.log).to.equal(0);
    expect(readFileSync(path.join(out, "talk.webm")).equals(data)).to.equal(true);
  });

  it("`seed --torrent` over files that do not match: says how many pieces verified, seeds nothing, and leaves the files as they were", async function () {
    const dir = scratch();
    const original = path.join(dir, "original");
    mkdirSync(original);
    const file = path.join(original, "talk.webm");
    writeFileSync(file, randomBytes(256 * 1024));
    const tracker = await start(["tracker", "--port", String(await freePort())]);
    const announce = (tracker.ready.announce as string[]).find((url) => url.startsWith("http")) as string;
    const torrentPath = path.join(dir, "talk.torrent");
    transmissionCreate(file, torrentPath, { pieceKiB: 32, tracker: announce });
    // The original is seeded in the same swarm: a client that "repaired" the files from peers would overwrite ours.
    const quiet = ["--free", "--no-dht", "--no-lsd"];
    await start(["seed", file, "--torrent", torrentPath, ...quiet, "--data-dir", original]);
    const edited = path.join(dir, "edited");
    mkdirSync(edited);
    const bytes = readFileSync(file);
    bytes.fill(0, 100_000, 140_000); // two pieces changed on disk
    const ours = path.join(edited, "talk.webm");
    writeFileSync(ours, bytes);
    const run = await cli(["seed", ours, "--torrent", torrentPath, ...quiet, "--data-dir", edited]);
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.match(/do not match --torrent .*talk\.torrent: 6 of 8 pieces verified/);
    expect(readFileSync(ours).equals(bytes), "the edited file, untouched").to.equal(true);
    const other = path.join(edited, "other.webm");
    writeFileSync(other, "x");
    const named = await cli(["seed", other, "--torrent", torrentPath, ...quiet, "--data-dir", edited]);
    expect(named.code).to.equal(1);
    expect(named.stderr).to.match(/holds "talk\.webm", not "other\.webm"/);
    expect(readFileSync(other, "utf8")).to.equal("x");
  });

  it("usage: payment flags go together, --free takes no price or asset", async function () {
    const dir = scratch();
    const file = path.join(dir, "x.bin");
    writeFileSync(file, "x");
    const cases: [string[], RegExp][] = [
      [["get", "x.torrent", "--max-price", "0.1"], /needs --budget AMOUNT/],
      [["get", "x.torrent", "--budget", "1"], /needs --max-price AMOUNT/],
      [["get", "x.torrent", "--asset", "0x0000000000000000000000000000000000000001"], /--asset says what we pay in/],
      [["seed", file, "--free", "--price", "0.1"], /--free seeds for nothing/],
      [["seed", file, "--free", "--asset", "0x0000000000000000000000000000000000000001"], /not with --free/],
      [["seed", file], /--price AMOUNT \(the price per piece\), or --free/],
      [["get", "x.torrent", "--max-price", "0.1", "--budget", "1", "--prefer", "cheap"], /--prefer is fast or free/],
      [["get", "x.torrent", "--prefer", "free"], /--prefer chooses between free peers and paid seeders/],
      [
        ["seed", file, "--free", "--torrent", "x.torrent", "--piece-length", "64"],
        /--piece-length is for a new torrent/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli([...args, "--data-dir", dir]);
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.stderr, args.join(" ")).to.match(message);
    }
  });
});

describe("a free download meets a paid seeder", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("names it with its price and skips it; with --peer as the only source, get stops at once and says why", async function () {
    const seeded = await net.seed(net.f.bob, randomBytes(1024 * 1024));
    const torrentPath = path.join(net.dir, "paid.torrent");
    writeFileSync(torrentPath, seeded.torrent.torrentFile);
    const started = Date.now();
    const got = await cli([
      "get",
      torrentPath,
      "--peer",
      `127.0.0.1:${seeded.port}`,
      "--out",
      path.join(net.dir, "out"),
      "--data-dir",
      path.join(net.dir, "leecher"),
      "--timeout",
      "40",
      ...NO_CHAIN,
    ]);
    expect(got.code).to.equal(1);
    expect(got.stderr).to.include(
      `seeder 127.0.0.1:${seeded.port} asks ${formatEther(PRICE)} ETH per piece: skipped (give --max-price, --budget and --key or --keystore to pay it)`,
    );
    expect(got.stderr).to.match(/error: every peer asks to be paid/);
    expect(Date.now() - started, "it stopped at once, not at --timeout").to.be.below(20_000);
    expect(seeded.seeder.stats().served).to.equal(0);
  });
});

describe("a paid seeder over a torrent that another tool made", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("seeds transmission-create's torrent (its infohash) over the files on disk, and the leecher pays it price x pieces, read from the chain", async function () {
    const { alice, bob } = net.f;
    const data = randomBytes(24 * 32 * 1024 + 7);
    const folder = path.join(net.dir, "content");
    mkdirSync(folder);
    const file = path.join(folder, "talk.webm");
    writeFileSync(file, data);
    const torrentFile = transmissionCreate(file, path.join(net.dir, "talk.torrent"), { pieceKiB: 32 });
    const seederClient = net.webtorrent();
    const seeder = new PaidSeeder({ client: await net.sdkFor(bob), pricePerPiece: PRICE, asset: ZeroAddress });
    const seeded = seederClient.add(torrentFile, { path: folder });
    seeder.attach(seeded);
    await new Promise<void>((resolve) => (seeded.done ? resolve() : seeded.once("done", () => resolve())));
    expect(seeded.infoHash).to.equal(await infoHashOf(torrentFile));
    const port = seederClient.address()?.port as number;
    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(bob.address);
    const { torrent, leecher, path: out } = await net.leech(alice, torrentFile, [port]);
    await done(torrent);
    const settled = await leecher.settle();
    const pieces = seeded.pieces.length;
    expect(readFileSync(path.join(out, "talk.webm")).equals(data)).to.equal(true);
    expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
    const bobGas = await gasSpentSince(ethers.provider, bob.address, start);
    expect((await ethers.provider.getBalance(bob.address)) - bobBefore).to.equal(BigInt(pieces) * PRICE - bobGas);
    seeder.destroy();
  });
});
