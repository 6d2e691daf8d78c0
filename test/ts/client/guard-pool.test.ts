// The wire guard's pool on a live seeder: every connection it admitted is released when it goes, however it went
// (refused at the handshake, dropped for a bad message, closed by the peer mid-message, idle), so its caps count
// only live connections; and the caps themselves: per IP, in total, the message and idle timeouts.
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { expect } from "chai";
import type { Torrent } from "webtorrent";
import type { WireGuardPool } from "../../../client/session/guarded-client.js";
import { eventually, PIECE, usePaidNetwork } from "./helpers.js";

function poolOf(torrent: Torrent): WireGuardPool {
  return (torrent as unknown as { client: { guard: WireGuardPool } }).client.guard;
}

function handshake(infoHash: string): Buffer {
  return Buffer.concat([
    Buffer.from([19]),
    Buffer.from("BitTorrent protocol"),
    Buffer.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]),
    Buffer.from(infoHash, "hex"),
    randomBytes(20),
  ]);
}

function open(port: number, localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves true once the other side closed `socket`, false after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on("error", () => undefined);
    socket.resume();
  });
}

describe("wire guard pool: connections released, caps enforced (seeder in process)", function () {
  const net = usePaidNetwork();

  it("releases every connection however it ends: 300 of them leave nothing counted or buffered", async function () {
    const { torrent, port } = await net.seed(net.f.bob, randomBytes(4 * PIECE));
    const pool = poolOf(torrent);
    const endings: Array<(s: Socket) => void> = [
      (s) => s.write(randomBytes(96)), // not a handshake
      (s) => s.write(handshake("cd".repeat(20))), // another torrent
      (s) => s.write(Buffer.concat([handshake(torrent.infoHash), Buffer.from([0, 0, 0, 5, 4, 0xff, 0, 0, 0])])),
      (s) => s.end(Buffer.concat([handshake(torrent.infoHash), Buffer.from([0, 0, 0x40, 9, 7, 0, 0])])), // mid-piece
      (s) => s.end(handshake(torrent.infoHash).subarray(0, 30)), // mid-handshake
      (s) => s.end(), // nothing at all
      (s) => s.write(Buffer.concat([handshake(torrent.infoHash), Buffer.from([0xff, 0xff, 0xff, 0xff, 7])])),
    ];
    for (let round = 0; round < 300 / 15; round++) {
      const sockets = await Promise.all(
        Array.from({ length: 15 }, (_, i) => open(port, `127.0.${1 + round}.${1 + i}`)),
      );
      sockets.forEach((s, i) => {
        s.on("error", () => undefined);
        endings[(round * 15 + i) % endings.length](s);
      });
      await Promise.all(sockets.map((s) => closedWithin(s, 2_000)));
      for (const s of sockets) s.destroy();
    }
    await eventually(() => pool.stats().connections === 0, "every connection released", 5_000);
    expect(pool.stats().buffered).to.equal(0);
    // 4 of the 7 endings are refusals (the other 3 are closes by the peer).
    expect(Object.values(pool.stats().dropped).reduce((a, n) => a + n, 0)).to.be.at.least(160);
  });

  it("refuses a connection over the per-IP cap and over the total cap, and admits again once one closes", async function () {
    const { torrent, port } = await net.seed(net.f.bob, randomBytes(4 * PIECE));
    const pool = poolOf(torrent);
    Object.assign(pool.limits, { maxConnectionsPerIp: 3, maxConnections: 5 });
    const held = await Promise.all([1, 2, 3].map(() => open(port, "127.0.9.1")));
    for (const s of held) s.write(handshake(torrent.infoHash));
    await eventually(() => pool.stats().connections === 3, "three held");
    expect(await closedWithin(await open(port, "127.0.9.1"), 2_000), "fourth from one IP").to.equal(true);
    const others = await Promise.all([2, 3].map((n) => open(port, `127.0.9.${n}`)));
    for (const s of others) s.write(handshake(torrent.infoHash));
    await eventually(() => pool.stats().connections === 5, "five held");
    expect(await closedWithin(await open(port, "127.0.9.9"), 2_000), "sixth in all").to.equal(true);
    held[0].destroy();
    await eventually(() => pool.stats().connections === 4, "one released");
    const again = await open(port, "127.0.9.1");
    again.write(handshake(torrent.infoHash));
    expect(await closedWithin(again, 500), "admitted again").to.equal(false);
    for (const s of [...held, ...others, again]) s.destroy();
  });

  it("drops a peer whose message stays unfinished past the message timeout, and a silent one past the idle timeout", async function () {
    const { torrent, port } = await net.seed(net.f.bob, randomBytes(4 * PIECE));
    const pool = poolOf(torrent);
    Object.assign(pool.limits, { messageTimeoutMs: 1_500, idleTimeoutMs: 3_000 });
    const trickler = await open(port, "127.0.8.1");
    trickler.write(Buffer.concat([handshake(torrent.infoHash), Buffer.from([0, 0, 0x40, 9, 7, 0])]));
    const ticker = setInterval(() => trickler.writable && trickler.write(Buffer.from([0])), 200);
    const silent = await open(port, "127.0.8.2");
    silent.write(handshake(torrent.infoHash));
    const started = Date.now();
    expect(await closedWithin(trickler, 4_000), "the trickler").to.equal(true);
    clearInterval(ticker);
    expect(Date.now() - started).to.be.within(1_000, 3_500);
    expect(await closedWithin(silent, 5_000), "the silent peer").to.equal(true);
    expect(Date.now() - started).to.be.at.least(2_500);
    expect(Object.keys(pool.stats().dropped).join(";"))
      .to.match(/unfinished after/)
      .and.match(/no message for/);
  });
});
