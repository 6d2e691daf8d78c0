// `npm run fuzz:wire`: the wire fuzzer (docs/security.md rows 26, 31 and 32). Starts anvil (offline), deploys, and runs
// a REAL `piecepay seed` and a REAL `piecepay get` (kept in progress: its torrent's only peer never answers) as child
// processes; then opens many raw TCP connections to both and sends generated and mutated BitTorrent messages (framing,
// every standard message, the extended handshake, ut_metadata, ut_pex, piecepay, bencode edge cases). Every second a
// probe (an honest handshake for the torrent) must be answered within --probe-ms by each process: a missed probe,
// confirmed by a second one within twice that, is a freeze; a child
// that exits is a crash. RSS (/proc/<pid>/status VmRSS) is sampled. Exit 1 on any crash, freeze or RSS above
// --max-rss-mb. Message i is a pure function of (--seed, i): `--only i` replays it on fresh processes.
// The children run with V8's old space capped at --max-heap-mb (NODE_OPTIONS): uncapped, V8 lets a flood's garbage
// pile up to ~650 MiB RSS before it collects (live heap ~55 MiB, measured from heap snapshots), so the RSS bound
// measured V8's laziness and failed at random. Capped, garbage goes, and memory a hostile peer really pins ends in an
// out-of-memory crash, which fails the run like any other crash.
//
//   npm run fuzz:wire                              # CI profile: 100,000 messages
//   npm run fuzz:wire -- --messages 1000000        # long profile
//   npm run fuzz:wire -- --seed 1234 --only 5071   # replay one message (with its connection's prelude)
//   npm run fuzz:wire -- --attack large-prefix     # 100 x 16 MiB prefixes while an honest leecher buys a file
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatEther, parseEther, Wallet } from "ethers";
import { encodeMessage, MESSAGE_LENGTHS, MESSAGE_TYPE_IDS } from "../client/wire/codec.js";
import { PROTOCOL_VERSION } from "../client/wire/messages.js";
import { gasSpentSince } from "../sdk/node.js";
import {
  type CliChild,
  devKey,
  extended,
  frame,
  handshake,
  open,
  probe,
  readHello,
  rssMiB,
  u32,
  WireWorld,
} from "../test/ts/helpers/wire.js";

const { values: flags } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    seed: { type: "string" },
    "max-rss-mb": { type: "string", default: "512" },
    "max-heap-mb": { type: "string", default: "192" },
    "probe-ms": { type: "string", default: "2000" },
    concurrency: { type: "string", default: "24" },
    batch: { type: "string", default: "64" },
    targets: { type: "string", default: "seeder,leecher" },
    only: { type: "string" },
    attack: { type: "string" },
    connections: { type: "string", default: "100" },
    "prefix-mib": { type: "string", default: "16" },
    "no-minimize": { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (flags.help) {
  console.log(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("\n")
      .filter((_, i, lines) => lines.slice(0, i + 1).every((l) => l.startsWith("//")))
      .join("\n"),
  );
  process.exit(0);
}

const MESSAGES = Number(flags.messages);
const SEED = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(flags.seed) >>> 0;
const MAX_RSS_MB = Number(flags["max-rss-mb"]);
const PROBE_MS = Number(flags["probe-ms"]);
const CONCURRENCY = Number(flags.concurrency);
const BATCH = Number(flags.batch);
const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Deterministic generation: message i and connection k depend only on (SEED, i) and (SEED, k).

/** splitmix32-style PRNG. */
function rng(...keys: number[]) {
  let state = SEED ^ 0x9e3779b9;
  for (const k of keys) state = Math.imul(state ^ (k >>> 0) ^ (k / 2 ** 32), 0x85ebca6b) ^ 0x6a09e667;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  const int = (n: number) => next() % n;
  return {
    u32: next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)],
    chance: (p: number) => next() / 2 ** 32 < p,
    bytes: (n: number) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}
type Rng = ReturnType<typeof rng>;

/** What one connection does before its messages: which extensions it claims, and how it writes. */
interface Prelude {
  advertise: string | null;
  delivery: "each" | "coalesced" | "split" | "trickle";
  what: string;
}

const ADVERTS: [string, string | null][] = [
  ["all extensions", "d1:md11:ut_metadatai1e6:ut_pexi2e8:piecepayi3eee"],
  ["no ut_metadata", "d1:md6:ut_pexi2e8:piecepayi3eee"],
  ["empty m", "d1:mdee"],
  ["no extended handshake", null],
  ["metadata_size huge", "d1:md11:ut_metadatai1ee13:metadata_sizei99999999999ee"],
  ["metadata_size negative", "d1:md11:ut_metadatai1ee13:metadata_sizei-5ee"],
];

function prelude(connection: number): Prelude {
  const r = rng(0xc0, connection);
  const [name, advertise] = r.pick(ADVERTS);
  const roll = r.int(100);
  const delivery = roll < 2 ? "trickle" : roll < 30 ? "split" : roll < 60 ? "coalesced" : "each";
  return { advertise, delivery, what: `${name}, ${delivery}` };
}

/** A generated message: its bytes, what it is, and whether the connection is over after it (framing broken). */
interface Generated {
  what: string;
  bytes: Buffer;
  terminal?: boolean;
  /** The extension it goes to (its id is the target's, learned from its extended handshake), if any. */
  ext?: "ut_metadata" | "ut_pex" | "piecepay" | "lt_donthave";
}

const STANDARD_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 20] as const;
/** Payload length each standard id expects (bitfield, piece, extended: variable). */
const EXPECTED: Record<number, number> = {
  0: 0,
  1: 0,
  2: 0,
  3: 0,
  4: 4,
  6: 12,
  8: 12,
  9: 2,
  13: 4,
  14: 0,
  15: 0,
  16: 12,
  17: 4,
};

function index(r: Rng, pieces: number): number {
  return r.pick([0, 1, pieces - 1, pieces, pieces + 1, 0x7fffffff, 0xfffffff0, 0xffffffff, r.u32(), r.int(pieces)]);
}
function offset(r: Rng): number {
  return r.pick([0, 1, 16384, 65535, 65536, 0x7fffffff, 0xffffffff, r.u32()]);
}
function blockLength(r: Rng): number {
  return r.pick([0, 1, 16384, 16385, 65536, 131072, 1 << 24, 0xffffffff, r.u32()]);
}

/** Bencode that bends the rules: negative lengths, deep nesting, huge numbers, duplicates, leading zeros. */
function badBencode(r: Rng): { what: string; text: string } {
  const depth = r.pick([64, 500, 2_000, 5_000]);
  const cases: (() => { what: string; text: string })[] = [
    () => ({ what: "negative string length", text: r.pick(["d1:md-3:", "d-3:abce", "l-1:e", "d1:a-3:ee", "-3:"]) }),
    () => ({ what: `dict nested ${depth} deep`, text: `${"d1:a".repeat(depth)}i1e${"e".repeat(depth)}` }),
    () => ({ what: `list nested ${depth} deep`, text: `${"l".repeat(depth)}${"e".repeat(depth)}` }),
    () => ({ what: `unterminated nesting ${depth}`, text: "d1:m".concat("l".repeat(depth)) }),
    () => ({ what: "huge integer", text: `d1:mi${"9".repeat(r.pick([20, 400, 5_000]))}ee` }),
    () => ({ what: "huge string length", text: r.pick(["d1:m99999999999:xe", "d1:m4294967296:xe", "d1:m1e999:xe"]) }),
    () => ({ what: "duplicate keys", text: "d1:md6:ut_pexi1e6:ut_pexi2ee1:md11:ut_metadatai3eee" }),
    () => ({ what: "unsorted keys", text: "d1:zi1e1:md8:piecepayi9e6:ut_pexi1eee" }),
    () => ({ what: "leading zeros", text: r.pick(["d1:md03:abci01eee", "di03e1:ae", "d1:mi-0ee", "d01:mdee"]) }),
    () => ({ what: "float and signs", text: r.pick(["d1:mi1.5ee", "d1:m+3:abce", "d1:mi--1ee", "d1:mie"]) }),
    () => ({ what: "m of non-dicts", text: r.pick(["d1:mi5ee", "d1:ml1:aee", "d1:md11:ut_metadata3:abcee"]) }),
    () => ({ what: "m with ids out of range", text: "d1:md11:ut_metadatai-1e6:ut_pexi256e8:piecepayi99999999999eee" }),
    () => ({ what: "truncated", text: r.pick(["d", "d1:", "d1:m", "d1:md", "i", "l", "1"]) }),
    () => ({ what: "trailing garbage", text: "d1:mdee\x00\xff\xffgarbage" }),
    () => ({ what: "random bytes", text: r.bytes(r.int(200)).toString("latin1") }),
  ];
  return r.pick(cases)();
}

function standardMessage(r: Rng, pieces: number): Generated {
  const id = r.chance(0.1) ? r.pick([10, 11, 12, 18, 19, 21, 100, 255]) : r.pick(STANDARD_IDS);
  const expected = EXPECTED[id];
  let payload: Buffer;
  let what: string;
  switch (id) {
    case 4:
    case 13:
    case 17:
      payload = u32(index(r, pieces));
      what = `id ${id} index ${payload.readUInt32BE(0)}`;
      break;
    case 5: {
      const length = r.pick([0, 1, Math.ceil(pieces / 8), Math.ceil(pieces / 8) + 1, 4096, 65536, r.int(100_000)]);
      payload = r.chance(0.5) ? Buffer.alloc(length, 0xff) : r.bytes(length);
      what = `bitfield of ${length} bytes`;
      break;
    }
    case 6:
    case 8:
    case 16:
      payload = u32(index(r, pieces), offset(r), blockLength(r));
      what = `id ${id} ${payload.readUInt32BE(0)}/${payload.readUInt32BE(4)}/${payload.readUInt32BE(8)}`;
      break;
    case 7: {
      const length = r.pick([0, 1, 16384, 16385, r.int(70_000)]);
      payload = Buffer.concat([u32(index(r, pieces), offset(r)), r.bytes(length)]);
      what = `piece ${payload.readUInt32BE(0)}/${payload.readUInt32BE(4)} with ${length} bytes`;
      break;
    }
    case 9:
      payload = r.bytes(2);
      what = "port";
      break;
    case 20:
      payload = Buffer.concat([Buffer.from([r.int(256)]), r.bytes(r.int(300))]);
      what = `extended id ${payload[0]} with random bytes`;
      break;
    default:
      payload = r.bytes(expected ?? r.int(64));
      what = `id ${id}`;
  }
  // Wrong payload lengths for the fixed-length messages: short (1-3 bytes, or none) and long.
  if (expected !== undefined && r.chance(0.3)) {
    const length = r.pick([0, 1, 2, 3, expected - 1, expected + 1, expected + 100].filter((n) => n >= 0));
    payload =
      length <= payload.length
        ? payload.subarray(0, length)
        : Buffer.concat([payload, r.bytes(length - payload.length)]);
    what += ` (payload cut to ${length} bytes)`;
  }
  return { what, bytes: frame(id, payload) };
}

function framingMessage(r: Rng): Generated {
  const body = Buffer.concat([Buffer.from([r.pick([0, 1, 4, 5, 6, 7, 20])]), r.bytes(r.int(40))]);
  switch (r.int(7)) {
    case 0:
      return { what: "keep-alive (length 0)", bytes: frame(null) };
    case 1:
      return { what: "length 1, id only", bytes: frame(null, body.subarray(0, 1)) };
    case 2: {
      const delta = r.pick([-1, 1]);
      return { what: `length off by ${delta}`, bytes: frame(null, body, body.length + delta), terminal: true };
    }
    case 3: {
      const length = r.pick([2 ** 31, 0xffffffff, 2 ** 24 + 1, 2 ** 28]);
      return { what: `length prefix ${length}`, bytes: frame(null, body, length), terminal: true };
    }
    case 4:
      return {
        what: "truncated message",
        bytes: frame(null, body).subarray(0, 1 + r.int(4 + body.length - 1)),
        terminal: true,
      };
    case 5:
      return { what: "many keep-alives in one chunk", bytes: Buffer.alloc(4 * (1 + r.int(2_000))) };
    default:
      return {
        what: "many haves in one chunk",
        bytes: Buffer.concat(Array.from({ length: 200 }, (_, i) => frame(4, u32(i)))),
      };
  }
}

function utMetadataMessage(r: Rng): Generated {
  const options: (() => [string, string])[] = [
    () => ["request", `d8:msg_typei0e5:piecei${r.pick([0, 1, -1, 99999, 2 ** 31])}ee`],
    () => [
      "data",
      `d8:msg_typei1e5:piecei${r.pick([0, 1, 600])}e10:total_sizei${r.pick([1, 16384, 2 ** 40])}ee${r.bytes(r.int(20_000)).toString("latin1")}`,
    ],
    () => ["reject", `d8:msg_typei2e5:piecei${r.int(5)}ee`],
    () => ["empty", ""],
    () => ["bad msg_type", `d8:msg_type${r.pick(["i3e", "i-1e", "3:abc", "le", "i99999999999e"])}5:piecei0ee`],
    () => ["bad piece", `d8:msg_typei0e5:piece${r.pick(["3:abc", "le", "de", "i-0e", "i1.5e"])}e`],
    () => ["no ee", "d8:msg_typei0e5:piecei0e"],
    () => {
      const b = badBencode(r);
      return [`bencode: ${b.what}`, b.text];
    },
  ];
  const [what, text] = r.pick(options)();
  return { what: `ut_metadata ${what}`, bytes: Buffer.from(text, "latin1"), ext: "ut_metadata" };
}

function utPexMessage(r: Rng): Generated {
  const peers = (n: number) => r.bytes(n).toString("latin1");
  const options: (() => [string, string])[] = [
    () => ["added", `d5:added${6 * 3}:${peers(18)}7:added.f3:${peers(3)}e`],
    () => ["added not a multiple of 6", `d5:added7:${peers(7)}e`],
    () => ["added6", `d6:added6${18 * 2}:${peers(36)}e`],
    () => ["dropped", `d7:dropped6:${peers(6)}e`],
    () => ["added of wrong type", `d5:addedi5e7:added.fi1ee`],
    () => ["many peers", `d5:added${6 * 500}:${peers(3000)}e`],
    () => ["empty", ""],
    () => ["not a dict", "le"],
    () => {
      const b = badBencode(r);
      return [`bencode: ${b.what}`, b.text];
    },
  ];
  const [what, text] = r.pick(options)();
  return { what: `ut_pex ${what}`, bytes: Buffer.from(text, "latin1"), ext: "ut_pex" };
}

function piecepayMessage(r: Rng): Generated {
  const types = Object.keys(MESSAGE_TYPE_IDS) as (keyof typeof MESSAGE_TYPE_IDS)[];
  const type = r.pick(types);
  switch (r.int(5)) {
    case 0: {
      const length = MESSAGE_LENGTHS[type] + r.pick([-1, 0, 1, -2]);
      const bytes = r.bytes(Math.max(0, length));
      if (bytes.length > 1) {
        bytes[0] = PROTOCOL_VERSION;
        bytes[1] = MESSAGE_TYPE_IDS[type];
      }
      return { what: `piecepay ${type} of ${bytes.length} bytes, random fields`, bytes, ext: "piecepay" };
    }
    case 1:
      return {
        what: "piecepay notice",
        bytes: Buffer.from(
          encodeMessage({ type: "notice", code: r.pick(["refused", "closed", "bye"]), reason: "x".repeat(r.int(200)) }),
        ),
        ext: "piecepay",
      };
    case 2:
      return { what: "piecepay random bytes", bytes: r.bytes(r.pick([0, 1, 2, 131, 513, 70_000])), ext: "piecepay" };
    case 3: {
      const bytes = r.bytes(MESSAGE_LENGTHS.voucher);
      bytes[0] = r.pick([0, 2, 255]);
      bytes[1] = r.int(256);
      return { what: `piecepay version ${bytes[0]} type ${bytes[1]}`, bytes, ext: "piecepay" };
    }
    default: {
      const b = badBencode(r);
      return { what: `piecepay bencode: ${b.what}`, bytes: Buffer.from(b.text, "latin1"), ext: "piecepay" };
    }
  }
}

function extendedHandshakeMessage(r: Rng): Generated {
  if (r.chance(0.7)) {
    const b = badBencode(r);
    return { what: `extended handshake: ${b.what}`, bytes: extended(0, b.text) };
  }
  const text = r.pick([
    "d1:md11:ut_metadatai1e6:ut_pexi2e8:piecepayi3eee",
    "d1:md11:ut_metadatai0eee",
    "d1:md6:ut_pexi0eee",
    "d1:md11:ut_metadatai1ee13:metadata_sizei16385ee",
    "d8:piecepay3:abc1:md8:piecepayi3eee",
    "d8:piecepayle1:md8:piecepayi3eee",
    "d1:pi-1e4:reqqi99999999999e1:v5:\xff\xfe\xfd\xfc\xfbe",
  ]);
  return { what: "extended handshake (again)", bytes: extended(0, text) };
}

/** Message `i`: a pure function of (SEED, i) and the target's piece count. */
function message(i: number, pieces: number): Generated {
  const r = rng(0x3e, i);
  const roll = r.int(100);
  if (roll < 35) return standardMessage(r, pieces);
  if (roll < 45) return framingMessage(r);
  if (roll < 55) return extendedHandshakeMessage(r);
  if (roll < 70) return utMetadataMessage(r);
  if (roll < 80) return utPexMessage(r);
  if (roll < 95) return piecepayMessage(r);
  const b = badBencode(r);
  return { what: `unknown extension: ${b.what}`, bytes: extended(r.pick([5, 6, 9, 200, 255]), b.text) };
}

/** The bytes of `g` on the wire of a target whose `m` is given: extension messages get the target's ids. */
function wireBytes(g: Generated, m: Record<string, number>): Buffer {
  if (!g.ext) return g.bytes;
  return extended(m[g.ext] ?? { ut_metadata: 1, ut_pex: 2, lt_donthave: 3, piecepay: 4 }[g.ext], g.bytes);
}

// ---------------------------------------------------------------------------------------------------------------
// Running

interface Target {
  child: CliChild;
  pieces: number;
  stopped: boolean;
  /** The run is over (no failure): the monitor stops. */
  finished: boolean;
  sent: number;
  connections: number;
  maxRss: number;
  probes: number;
  slowestProbe: number;
  failure?: Failure;
  /** The last messages sent to this target, on any connection (the failure's candidates). */
  recent: number[];
}

interface Failure {
  kind: "crash" | "freeze" | "rss";
  atMessages: number;
  afterMs: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null } | null;
  stderr?: string;
  rssMiB?: number;
  candidates: number[];
  reproduced?: { index: number; what: string; hex: string; connection: number; prelude: string }[];
}

let started = Date.now();
/** How many of the last messages sent to a target are the candidates for its failure. */
const RECENT = 64;

async function sendConnection(
  t: Target,
  connection: number,
  indexes: number[],
  isLive: () => boolean,
): Promise<number> {
  const p = prelude(connection);
  let socket: Socket;
  try {
    // Each connection from its own loopback address (the targets allow 16 per IP; the probe uses 127.0.0.1).
    socket = await open(t.child.port, 3_000, `127.0.${1 + ((connection >> 8) % 254)}.${connection & 255 || 1}`);
  } catch {
    return 0;
  }
  socket.on("error", () => undefined);
  let sent = 0;
  try {
    socket.write(handshake(t.child.infoHash));
    if (p.advertise !== null) socket.write(extended(0, p.advertise));
    let m: Record<string, number>;
    try {
      m = (await readHello(socket, 3_000)).m;
    } catch {
      return 0;
    }
    const chunks: Buffer[] = [];
    for (const i of indexes) {
      if (!isLive() || socket.destroyed || socket.readableEnded) break;
      const g = message(i, t.pieces);
      const bytes = wireBytes(g, m);
      t.recent.push(i);
      if (t.recent.length > RECENT) t.recent.shift();
      sent++;
      t.sent++;
      if (p.delivery === "coalesced") {
        chunks.push(bytes);
      } else if (p.delivery === "each") {
        if (!socket.write(bytes)) await drained(socket);
      } else if (p.delivery === "split") {
        let at = 0;
        while (at < bytes.length) {
          const n = 1 + Math.floor(Math.random() * Math.min(bytes.length - at, 700));
          socket.write(bytes.subarray(at, at + n));
          at += n;
          if (Math.random() < 0.05) await new Promise((r) => setImmediate(r));
        }
        if (socket.writableLength > 1 << 20) await drained(socket);
      } else {
        // trickle: the first 3 messages of the connection go out one byte every 5 ms (at most 64 bytes each),
        // then the rest at once; the other messages are written as they come
        const slow = sent <= 3 ? Math.min(bytes.length, 64) : 0;
        for (let b = 0; b < slow && !socket.destroyed; b++) {
          socket.write(bytes.subarray(b, b + 1));
          await new Promise((r) => setTimeout(r, 5));
        }
        socket.write(bytes.subarray(slow));
      }
      if (g.terminal) break;
    }
    if (chunks.length > 0) socket.write(Buffer.concat(chunks));
    await new Promise((r) => setTimeout(r, 30));
    return sent;
  } finally {
    socket.destroy();
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, 2_000);
    socket.once("drain", done);
    socket.once("close", done);
  });
}

function fail(t: Target, failure: Omit<Failure, "candidates" | "atMessages" | "afterMs">): void {
  if (t.stopped) return;
  t.stopped = true;
  const candidates = [...t.recent].sort((a, b) => a - b);
  t.failure = { ...failure, atMessages: t.sent, afterMs: Date.now() - started, candidates };
  log(`[${t.child.name}] ${failure.kind} after ${t.sent} messages (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function monitor(t: Target): Promise<void> {
  let probing = false;
  while (!t.stopped && !t.finished) {
    const rss = rssMiB(t.child.pid);
    if (rss !== null) t.maxRss = Math.max(t.maxRss, rss);
    if (!t.child.alive()) {
      fail(t, { kind: "crash", exit: t.child.exit, stderr: t.child.stderrTail(15) });
      break;
    }
    if (rss !== null && rss > MAX_RSS_MB) {
      fail(t, { kind: "rss", rssMiB: rss });
      break;
    }
    if (!probing) {
      probing = true;
      void probe(t.child.port, t.child.infoHash, PROBE_MS).then(async (first) => {
        let ms = first;
        probing = false;
        if (t.finished) return;
        t.probes++;
        // A missed probe is confirmed by a second one before it counts: on 2 cores shared by this fuzzer, both
        // targets and the chain, a loaded process can miss one deadline; a frozen one misses every one.
        if (ms === null && t.child.alive()) ms = await probe(t.child.port, t.child.infoHash, 2 * PROBE_MS);
        if (ms === null) {
          // a process on its way out (printing its stack) is a crash, not a freeze
          await Promise.race([t.child.exited, new Promise((r) => setTimeout(r, 1_000))]);
          if (!t.child.alive()) fail(t, { kind: "crash", exit: t.child.exit, stderr: t.child.stderrTail(15) });
          else fail(t, { kind: "freeze" });
        } else t.slowestProbe = Math.max(t.slowestProbe, ms);
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function fuzz(t: Target, nextIndex: () => number | null): Promise<void> {
  const worker = async () => {
    while (!t.stopped) {
      const indexes: number[] = [];
      for (let k = 0; k < BATCH; k++) {
        const i = nextIndex();
        if (i === null) break;
        indexes.push(i);
      }
      if (indexes.length === 0) return;
      t.connections++;
      // batches go out in order and whole: connection k carries messages k*BATCH .. k*BATCH+BATCH-1
      await sendConnection(t, Math.floor(indexes[0] / BATCH), indexes, () => !t.stopped);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function startTarget(
  world: WireWorld,
  kind: "seeder" | "leecher",
  account: number,
  nothing: { torrent: string; infoHash: string },
): Promise<Target> {
  const child =
    kind === "seeder" ? await world.seed(account) : await world.get(account, nothing.torrent, nothing.infoHash);
  return {
    child,
    pieces: kind === "seeder" ? 16 : 128,
    stopped: false,
    finished: false,
    sent: 0,
    connections: 0,
    maxRss: rssMiB(child.pid) ?? 0,
    probes: 0,
    slowestProbe: 0,
    recent: [],
  };
}

/** Replays `indexes` (each on a connection with its own prelude) on a fresh target: did it crash or freeze? */
async function replay(
  world: WireWorld,
  kind: "seeder" | "leecher",
  account: number,
  nothing: { torrent: string; infoHash: string },
  indexes: number[],
): Promise<boolean> {
  const t = await startTarget(world, kind, account, nothing);
  try {
    await Promise.all(indexes.map((i) => sendConnection(t, Math.floor(i / BATCH), [i], () => true)));
    await new Promise((r) => setTimeout(r, 500));
    if (!t.child.alive()) return true;
    return (await probe(t.child.port, t.child.infoHash, PROBE_MS)) === null || !t.child.alive();
  } finally {
    await t.child.stop(1_000);
  }
}

/** Narrows a failure's candidates by bisection on fresh targets; the first single message that fails alone. */
async function minimize(
  world: WireWorld,
  kind: "seeder" | "leecher",
  nothing: { torrent: string; infoHash: string },
  candidates: number[],
  accounts: () => number,
): Promise<number[]> {
  let set = candidates;
  if (set.length === 0 || !(await replay(world, kind, accounts(), nothing, set))) return [];
  while (set.length > 1) {
    const half = set.slice(0, Math.ceil(set.length / 2));
    const rest = set.slice(half.length);
    if (await replay(world, kind, accounts(), nothing, half)) set = half;
    else if (await replay(world, kind, accounts(), nothing, rest)) set = rest;
    else break; // it takes messages of both halves together: report them all
  }
  return set;
}

async function main(): Promise<void> {
  const heapCap = `--max-old-space-size=${Number(flags["max-heap-mb"])}`;
  const world = await new WireWorld({
    env: { NODE_OPTIONS: [process.env.NODE_OPTIONS, heapCap].filter(Boolean).join(" ") },
  }).start();
  let account = 1;
  const accounts = () => account++;
  try {
    if (flags.attack) {
      await attack(world);
      return;
    }
    const nothing = await world.torrentOfNothing();
    const kinds = flags.targets.split(",").filter((k): k is "seeder" | "leecher" => k === "seeder" || k === "leecher");
    const targets = new Map<string, Target>();
    for (const kind of kinds) targets.set(kind, await startTarget(world, kind, accounts(), nothing));
    log(
      `fuzz-wire: seed ${SEED}, ${MESSAGES} messages per target, ${CONCURRENCY} connections each, batches of ${BATCH}`,
    );
    for (const t of targets.values())
      log(`  ${t.child.name}: pid ${t.child.pid}, port ${t.child.port}, rss ${t.maxRss.toFixed(0)} MiB`);

    const only = flags.only?.split(",").map(Number);
    started = Date.now();
    const runs = [...targets.values()].map(async (t) => {
      let next = 0;
      const list = only ?? null;
      const nextIndex = () => {
        if (list) return next < list.length ? list[next++] : null;
        // Messages count once written to a connection the target still held open: a connection the target
        // dropped for a bad message carries nothing after it, so the run goes on until MESSAGES were delivered.
        return t.sent < MESSAGES && next < 100 * MESSAGES ? next++ : null;
      };
      const monitoring = monitor(t);
      if (only) {
        // one connection per message, with the prelude of the connection it had in a full run
        await Promise.all(only.map((i) => sendConnection(t, Math.floor(i / BATCH), [i], () => !t.stopped)));
        await new Promise((r) => setTimeout(r, 2_000));
      } else {
        await fuzz(t, nextIndex);
        await new Promise((r) => setTimeout(r, 1_500)); // a last probe after the last message
      }
      if (!t.stopped) {
        const rss = rssMiB(t.child.pid);
        if (!t.child.alive()) fail(t, { kind: "crash", exit: t.child.exit, stderr: t.child.stderrTail(15) });
        else if (rss !== null && rss > MAX_RSS_MB) fail(t, { kind: "rss", rssMiB: rss });
      }
      t.finished = true;
      await monitoring;
    });
    await Promise.all(runs);
    const duration = (Date.now() - started) / 1000;
    for (const t of targets.values()) await t.child.stop(3_000);

    // The first failure of each target: narrow its candidates to the message(s) that reproduce it alone.
    for (const [kind, t] of targets) {
      const f = t.failure;
      if (!f || f.kind === "rss" || flags["no-minimize"] || only) continue;
      log(`[${kind}] reproducing: bisecting ${f.candidates.length} candidate messages on fresh processes`);
      const culprits = await minimize(world, kind as "seeder" | "leecher", nothing, f.candidates, accounts);
      f.reproduced = culprits.map((i) => {
        const g = message(i, t.pieces);
        return {
          index: i,
          what: g.what,
          hex: wireBytes(g, {}).toString("hex").slice(0, 400),
          connection: Math.floor(i / BATCH),
          prelude: prelude(Math.floor(i / BATCH)).what,
        };
      });
    }

    const report = {
      seed: SEED,
      messagesPerTarget: only ? only.length : MESSAGES,
      durationS: Number(duration.toFixed(1)),
      maxRssMb: MAX_RSS_MB,
      targets: Object.fromEntries(
        [...targets].map(([kind, t]) => [
          kind,
          {
            messagesSent: t.sent,
            connections: t.connections,
            maxRssMiB: Math.round(t.maxRss),
            probes: t.probes,
            slowestProbeMs: t.slowestProbe,
            crash: t.failure?.kind === "crash" ? t.failure : null,
            freeze: t.failure?.kind === "freeze" ? t.failure : null,
            rssOverBound: t.failure?.kind === "rss" ? t.failure : null,
          },
        ]),
      ),
    };
    const failed = [...targets.values()].some((t) => t.failure);
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`fuzz-wire: seed ${SEED}, ${duration.toFixed(1)} s, RSS bound ${MAX_RSS_MB} MB`);
      for (const [kind, t] of targets) {
        const f = t.failure;
        console.log(
          `  ${kind.padEnd(8)} sent ${t.sent} messages on ${t.connections} connections; max RSS ${t.maxRss.toFixed(0)} MiB; ${t.probes} probes, slowest ${t.slowestProbe} ms; ${f ? `FAILED: ${f.kind} after ${f.atMessages} messages (${(f.afterMs / 1000).toFixed(1)} s)` : "ok: no crash, no freeze"}`,
        );
        if (f?.exit) console.log(`    exit: ${JSON.stringify(f.exit)}`);
        if (f?.stderr) console.log(`    stderr:\n${f.stderr.replace(/^/gm, "      ")}`);
        if (f?.reproduced?.length) {
          for (const c of f.reproduced) {
            console.log(
              `    reproduced alone by message ${c.index} (${c.what}); connection ${c.connection}: ${c.prelude}`,
            );
            console.log(`      hex: ${c.hex}`);
            console.log(`      replay: npm run fuzz:wire -- --seed ${SEED} --targets ${kind} --only ${c.index}`);
          }
        } else if (f && f.kind !== "rss") {
          console.log(`    candidates (the last messages sent): ${f.candidates.join(",")}`);
        }
      }
      console.log(failed ? "FAIL" : "PASS");
    }
    process.exitCode = failed ? 1 : 0;
  } finally {
    await world.stop();
  }
}

/**
 * `--attack large-prefix`: --connections connections each announce a --prefix-mib MiB message and push all of it but
 * one byte, while an honest `piecepay get` child buys a paid file from the seeder. Prints the seeder's peak RSS,
 * whether the leecher finished, and what the chain says it paid (balances, gas included) against pieces x price.
 */
async function attack(world: WireWorld): Promise<void> {
  if (flags.attack !== "large-prefix") throw new Error(`unknown --attack ${flags.attack} (large-prefix)`);
  const price = parseEther("0.001");
  const pieces = 64; // 4 MiB in 64 KiB pieces
  const file = world.file("paid.bin", pieces * 64 * 1024);
  const seederKey = devKey(1);
  const leecherKey = devKey(2);
  const seederAddress = new Wallet(seederKey).address;
  const leecherAddress = new Wallet(leecherKey).address;
  const startBlock = await world.provider.getBlockNumber();
  const before = await Promise.all([seederAddress, leecherAddress].map((a) => world.provider.getBalance(a)));
  const seeder = await world.seed(1, { file, price: "0.001" });
  let peak = rssMiB(seeder.pid) ?? 0;
  const baseline = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(seeder.pid) ?? 0);
  }, 100);
  let missedProbes = 0;
  let probes = 0;
  const prober = setInterval(() => {
    void probe(seeder.port, seeder.infoHash, PROBE_MS).then((ms) => {
      probes++;
      if (ms === null) missedProbes++;
    });
  }, 1_000);
  const t0 = Date.now();
  const CONNECTIONS = Number(flags.connections);
  const ANNOUNCED = Number(flags["prefix-mib"]) * 1024 * 1024;
  log(
    `attack large-prefix: ${CONNECTIONS} connections x ${ANNOUNCED} bytes announced, against seeder pid ${seeder.pid}`,
  );
  let pushed = 0;
  let droppedByTarget = 0;
  const attackers = Array.from({ length: CONNECTIONS }, async () => {
    let s: Socket;
    try {
      s = await open(seeder.port, 5_000);
    } catch {
      return;
    }
    s.on("error", () => undefined);
    s.on("close", () => undefined);
    s.write(handshake(seeder.infoHash));
    s.write(extended(0, "d1:md11:ut_metadatai1e6:ut_pexi2e8:piecepayi3eee"));
    s.write(frame(7, Buffer.alloc(0), ANNOUNCED));
    const chunk = Buffer.alloc(256 * 1024, 0x63);
    let sent = 0;
    const deadline = Date.now() + 60_000;
    while (sent < ANNOUNCED - 1 && !s.destroyed && !s.readableEnded && Date.now() < deadline) {
      const piece = chunk.subarray(0, Math.min(chunk.length, ANNOUNCED - 1 - sent));
      sent += piece.length;
      pushed += piece.length;
      if (!s.write(piece)) await drained(s);
    }
    if (s.destroyed || s.readableEnded) droppedByTarget++;
    return s;
  });
  // The honest leecher starts as the attack starts.
  const out = path.join(world.dataDir("honest"), "files");
  const leecher = await world.get(2, seeder.torrent, seeder.infoHash, { peers: [`127.0.0.1:${seeder.port}`], out });
  const finished = await Promise.race([
    leecher.exited.then((e) => e.code === 0),
    // Unref'd: once the leecher is done, this timer must not hold the process open for the rest of its 3 minutes.
    new Promise<false>((r) => setTimeout(() => r(false), 180_000).unref()),
  ]);
  const sockets = await Promise.all(attackers);
  const leecherSeconds = (Date.now() - t0) / 1000;
  for (const s of sockets) s?.destroy();
  clearInterval(prober);
  clearInterval(sampler);
  let fileOk = false;
  try {
    fileOk = readFileSync(path.join(out, path.basename(file))).equals(readFileSync(file));
  } catch {
    fileOk = false;
  }
  if (!finished) await leecher.stop(2_000);
  const seederAlive = seeder.alive();
  await seeder.stop(5_000);
  const [seederGas, leecherGas] = await gasSpentSince(world.provider, [seederAddress, leecherAddress], startBlock);
  const after = await Promise.all([seederAddress, leecherAddress].map((a) => world.provider.getBalance(a)));
  const leecherPaid = before[1] - after[1] - leecherGas;
  const seederEarned = after[0] - before[0] + seederGas;
  const expected = BigInt(pieces) * price;
  const report = {
    attack: "large-prefix",
    connections: CONNECTIONS,
    announcedBytes: ANNOUNCED,
    bytesPushed: pushed,
    connectionsDroppedBySeeder: droppedByTarget,
    seederBaselineRssMiB: Math.round(baseline),
    seederPeakRssMiB: Math.round(peak),
    maxRssMb: MAX_RSS_MB,
    seederAlive,
    probes,
    missedProbes,
    leecherFinished: finished,
    leecherSeconds,
    fileIntact: fileOk,
    leecherPaidOnChainWei: leecherPaid.toString(),
    seederEarnedOnChainWei: seederEarned.toString(),
    expectedWei: expected.toString(),
    paidExactly: leecherPaid === expected && seederEarned === expected,
    leecherStderr: finished ? undefined : leecher.stderrTail(6),
  };
  const ok = report.paidExactly && finished && fileOk && peak <= MAX_RSS_MB && missedProbes === 0 && seederAlive;
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      `attack large-prefix: ${CONNECTIONS} x ${flags["prefix-mib"]} MiB prefixes, ${(pushed / 2 ** 20).toFixed(0)} MiB pushed, ${droppedByTarget} connections dropped by the seeder`,
    );
    console.log(
      `  seeder: RSS ${baseline.toFixed(0)} -> peak ${peak.toFixed(0)} MiB (bound ${MAX_RSS_MB}), ${missedProbes}/${probes} probes missed, ${seederAlive ? "alive" : `dead ${JSON.stringify(seeder.exit)}`}`,
    );
    console.log(
      `  leecher: ${finished ? `finished in ${leecherSeconds.toFixed(1)} s` : "did NOT finish"}, file ${fileOk ? "intact" : "missing or wrong"}`,
    );
    console.log(
      `  on chain: leecher paid ${formatEther(leecherPaid)} ETH, seeder earned ${formatEther(seederEarned)} ETH, expected ${formatEther(expected)} ETH (${pieces} pieces): ${report.paidExactly ? "exact" : "NOT exact"}`,
    );
    if (!finished) console.log(`  leecher stderr:\n${leecher.stderrTail(6).replace(/^/gm, "    ")}`);
    console.log(ok ? "PASS" : "FAIL");
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
