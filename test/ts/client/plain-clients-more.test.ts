// Free torrents with qBittorrent (Debian's qbittorrent-nox, libtorrent inside), both ways, through the CLI as a person
// runs it: qBittorrent downloads from `piecepay seed --free` by its magnet (the metadata comes from piecepay too), and
// `piecepay get <torrent>` alone downloads from a qBittorrent seeder. No key and no chain: --rpc points at nothing.
// One qBittorrent process serves both tests, driven through its Web API; it meets only the peers given to it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  infoHashOf,
  QBITTORRENT_SEEDING,
  type Qbittorrent,
  startQbittorrent,
  transmissionCreate,
} from "../helpers/plain-clients.js";
import { cli, jsonLines, startCli, useScratchDirs } from "./cli-process.js";

const NO_CHAIN = ["--rpc", "http://127.0.0.1:9"];

describe("free torrents with qBittorrent-nox", function () {
  this.timeout(60_000);
  const scratch = useScratchDirs("piecepay-qbt-");
  let qbt: Qbittorrent;

  before(async function () {
    const probe = spawnSync("qbittorrent-nox", ["--version"]);
    if (probe.error || probe.status !== 0) {
      console.log(
        "      skipped: qbittorrent-nox is not installed (Debian package qbittorrent-nox; .ci/run installs it)",
      );
      this.skip();
    }
    qbt = await startQbittorrent(scratch());
  });
  after(async () => qbt?.stop());

  it("qBittorrent downloads from `piecepay seed --free` by its magnet, the metadata included", async function () {
    const dir = scratch();
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const file = path.join(dir, "shared.bin");
    writeFileSync(file, data);
    const seeding = await startCli([
      "seed",
      file,
      "--free",
      "--no-dht",
      "--no-lsd",
      "--data-dir",
      path.join(dir, "seeder"),
      ...NO_CHAIN,
    ]);
    try {
      const magnet = String(seeding.ready.magnet);
      const hash = /btih:([0-9a-f]{40})/.exec(magnet)?.[1] as string;
      const out = path.join(dir, "qbt-out");
      await qbt.add(magnet, out);
      await qbt.addPeers(hash, [`127.0.0.1:${seeding.ready.port}`]);
      const done = await qbt.waitFor(hash, QBITTORRENT_SEEDING, 30_000);
      expect(done.progress).to.equal(1);
      expect(readFileSync(path.join(out, "shared.bin")).equals(data)).to.equal(true);
    } finally {
      // Ctrl-C: it says what it sent, and exits 0.
      seeding.child.kill("SIGINT");
    }
    expect((await seeding.exited).code).to.equal(0);
    const stopped = jsonLines(seeding.stdout()).find((line) => line.event === "stopped");
    expect(Number(stopped?.uploaded)).to.be.at.least(data.length);
  });

  it("`piecepay get <torrent>` alone downloads a multi-file torrent from a qBittorrent seeder", async function () {
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
    const hash = await infoHashOf(torrent);
    // qBittorrent checks the files in place (its save path holds album/), then seeds them.
    await qbt.add(torrent, dir);
    await qbt.waitFor(hash, QBITTORRENT_SEEDING, 20_000);
    const out = path.join(dir, "out");
    const got = await cli([
      "get",
      torrentPath,
      "--peer",
      `127.0.0.1:${qbt.port}`,
      "--out",
      out,
      "--data-dir",
      path.join(dir, "leecher"),
      "--timeout",
      "30",
      "--json",
      ...NO_CHAIN,
    ]);
    expect(got.code, got.stderr).to.equal(0);
    for (const [name, bytes] of Object.entries(files)) {
      expect(readFileSync(path.join(out, name)).equals(bytes), name).to.equal(true);
    }
    const done = jsonLines(got.stdout).find((line) => line.event === "done");
    expect(done).to.include({ name: "album", free: true, paid: "0", channels: 0 });
  });
});
