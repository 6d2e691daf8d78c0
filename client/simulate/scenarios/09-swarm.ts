// 9. A paying swarm: one origin seeder and eight downloaders that arrive one after another, every one of them paying
// for what it lacks and selling what it has verified at its own price (PaidLeecherOptions.sell), each connected to
// the origin and to every downloader that came before it. Everyone stays until the last one finishes; then each
// downloader closes what it bought (one cooperative close per channel), the sellers say goodbye, and every amount
// is read back from the chain: each seller paid exactly what it delivered at its price, on every channel, and
// nothing lost or created. The report says who uploaded what and how much of it the origin had to give.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatEther } from "ethers";
import type { Torrent } from "webtorrent";
import type { LeecherPeerStats, PaidLeecher } from "../../session/leecher.js";
import type { PaidSeeder } from "../../session/seeder.js";
import type { Party, ScenarioContext } from "../context.js";
import type { Scenario } from "../scenario.js";
import { eventually, leech, listening, PIECE_LENGTH, PRICE, seed } from "./common.js";

/** Downloaders, arriving one after another. */
export const SWARM_LEECHERS = 8;
/** 6 MiB in 96 pieces of 64 KiB: arrivals overlap, and the whole story takes a few seconds. */
export const SWARM_FILE = 96 * PIECE_LENGTH;
/**
 * The next downloader arrives once the one before it has verified this share of the pieces. Tied to progress rather
 * than to a clock, so that arrivals overlap and each newcomer finds earlier downloaders with pieces to sell however
 * fast the machine is (on loopback a download takes about half a second, so a fixed 1-2 s apart would find every
 * earlier downloader finished: a row of seeders, not a swarm).
 */
export const ARRIVAL_PROGRESS = 0.25;

/**
 * What downloader `index` (from 1) sells at: odd ones at the origin's price P, even ones a quarter below it. At P a
 * downloader competes with the origin on nothing but having the piece; at 3P/4 it undercuts it. The mix shows that
 * each seller is paid at its own price on every channel, whoever buys, and what undercutting earns.
 */
export function sellPrice(index: number): bigint {
  return index % 2 === 1 ? PRICE : (PRICE * 3n) / 4n;
}

/** One downloader's figures: what it bought and sold, and what the chain paid it and took from it. */
export interface SwarmDownloader {
  name: string;
  /** What it sells at, in wei per piece. */
  price: bigint;
  /** Pieces it bought (verified here) and sold (served to others and paid for on chain). */
  bought: number;
  sold: number;
  /** Wei the chain paid out of its channels to its sellers, and out of its buyers' channels to it. */
  paid: bigint;
  earned: bigint;
  /** Bytes its webtorrent client uploaded. */
  uploadedBytes: number;
  /** When it arrived and finished, in ms after the first arrival. */
  arrivedMs: number;
  doneMs: number;
  /** Pieces the origin delivered to it, and of those, how many a downloader connected to it had by then. */
  fromOrigin: number;
  fromOriginAvailableElsewhere: number;
}

/** What one swarm run measured (the report holds the balances, the gas and the checks). */
export interface SwarmResult {
  pieces: number;
  pieceLength: number;
  /** pieces x P: what the file costs from the origin alone. */
  listPrice: bigint;
  origin: { uploadedBytes: number; sold: number; earned: bigint };
  downloaders: SwarmDownloader[];
  /** Bytes uploaded by everyone, and the origin's part of them. */
  totalBytes: number;
  originShare: number;
  /** First arrival to last finish, in ms. */
  swarmMs: number;
}

/** The share of all bytes delivered that the origin may upload for the swarm to count as working (issue 15). */
export const ORIGIN_SHARE_GOAL = 0.4;

interface Downloader {
  party: Party;
  leecher: PaidLeecher;
  torrent: Torrent;
  port: number;
  price: bigint;
  arrivedMs: number;
  doneMs?: number;
  fromOrigin: number;
  fromOriginAvailableElsewhere: number;
}

/** A seller in the swarm: the origin or a downloader's seller role, with its price. */
interface Seller {
  party: Party;
  seeder: PaidSeeder;
  torrent: Torrent;
  price: bigint;
}

const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
const pct = (part: number) => `${(100 * part).toFixed(1)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function peerIdOf(client: unknown): string {
  return (client as { peerId: string }).peerId;
}

function verifiedPieces(torrent: Torrent): number {
  return torrent.pieces.filter((p) => p === null).length;
}

/** Runs the swarm in `ctx`, adds its checks and figures, and returns what it measured. */
export async function runSwarm(ctx: ScenarioContext): Promise<SwarmResult> {
  const originParty = await ctx.party("origin");
  const parties: Party[] = [];
  for (let i = 1; i <= SWARM_LEECHERS; i++) parties.push(await ctx.party(`leecher-${i}`));
  await ctx.begin();
  const data = randomBytes(SWARM_FILE);
  const origin = await seed(ctx, originParty, data);
  origin.seeder.on("warning", (e) => ctx.note(`origin: ${e.message}`));
  const pieces = origin.torrent.pieces.length;
  const listPrice = BigInt(pieces) * PRICE;
  ctx.note(
    `the origin seeds ${data.length / 1024 / 1024} MiB in ${pieces} pieces of ${PIECE_LENGTH / 1024} KiB at ${eth(PRICE)} each (list price ${eth(listPrice)})`,
  );
  const start = Date.now();
  const downloaders: Downloader[] = [];
  // Who each peer id is, to tell for each piece the origin delivered whether a downloader connected to the buyer had
  // it by then: what the origin gave that the swarm could have given.
  const names = new Map<string, string>([[peerIdOf(origin.client), "origin"]]);
  const onVerified = (d: Downloader, index: number) => {
    const owner = d.leecher.owners.get(index);
    if (!owner || names.get(owner.peerId ?? "") !== "origin") return;
    d.fromOrigin++;
    const elsewhere = d.torrent.wires.some((wire) => {
      const other = downloaders.find((x) => x !== d && x.party.name === names.get(wire.peerId ?? ""));
      return other?.torrent.bitfield?.get(index) === true;
    });
    if (elsewhere) d.fromOriginAvailableElsewhere++;
  };
  for (const [i, party] of parties.entries()) {
    const price = sellPrice(i + 1);
    const ports = [origin.port, ...downloaders.map((d) => d.port)];
    const { leecher, torrent, client } = await leech(ctx, party, origin.torrent.torrentFile, ports, {
      // A channel to every seller it meets, each sized for what it still misses: the whole file at the origin's price
      // once per seller covers any split.
      budget: listPrice * BigInt(SWARM_LEECHERS + 1),
      sell: { pricePerPiece: price },
    });
    ctx.cleanup(() => leecher.seller?.destroy());
    leecher.on("warning", (e) => ctx.note(`${party.name} (buying): ${e.message}`));
    leecher.seller?.on("warning", (e) => ctx.note(`${party.name} (selling): ${e.message}`));
    const d: Downloader = {
      party,
      leecher,
      torrent,
      port: await listening(client),
      price,
      arrivedMs: Date.now() - start,
      fromOrigin: 0,
      fromOriginAvailableElsewhere: 0,
    };
    torrent.once("done", () => {
      d.doneMs = Date.now() - start;
    });
    names.set(peerIdOf(client), party.name);
    torrent.on("verified", (index: number) => onVerified(d, index));
    downloaders.push(d);
    const earlier = downloaders.length - 1;
    ctx.note(
      `${party.name} arrives at ${seconds(d.arrivedMs)}, sells at ${eth(price)}, connects to the origin${earlier > 0 ? ` and ${earlier} earlier downloader(s)` : ""}`,
    );
    if (i < parties.length - 1) {
      await eventually(
        () => torrent.done || verifiedPieces(torrent) >= pieces * ARRIVAL_PROGRESS,
        `${party.name} to verify ${ARRIVAL_PROGRESS * 100}% of the file`,
      );
    }
  }
  await eventually(() => downloaders.every((d) => d.torrent.done), "every downloader to finish", 60_000);
  const swarmMs = Math.max(...downloaders.map((d) => d.doneMs ?? Date.now() - start));
  ctx.note(`the last downloader finished ${seconds(swarmMs)} after the first arrived; everyone stayed until then`);

  // Each closes what it bought; its sellers countersign and close it on chain. Then the sellers say goodbye: a
  // channel still open would be closed now at what its seller delivered.
  await ctx.settling();
  const settled = await Promise.all(downloaders.map((d) => d.leecher.settle()));
  const sellers: Seller[] = [
    { party: originParty, seeder: origin.seeder, torrent: origin.torrent, price: PRICE },
    ...downloaders.map((d) => ({
      party: d.party,
      seeder: d.leecher.seller as PaidSeeder,
      torrent: d.torrent,
      price: d.price,
    })),
  ];
  const leftOpen = (await Promise.all(sellers.map((s) => s.seeder.farewell(10_000)))).flat();
  await ctx.settled();
  const bought = settled.flat();
  ctx.note(
    `each downloader closed what it bought (${bought.length} channels); at the sellers' goodbye ${leftOpen.length} channel(s) were still open`,
  );
  ctx.check(
    "every channel was closed by its buyer's settle, none left for the sellers' goodbye",
    leftOpen.length === 0 && bought.every((s) => s.closed),
    `${bought.filter((s) => s.closed).length} of ${bought.length} closed by settle; ${leftOpen.length} left open at the goodbye`,
  );
  for (const d of downloaders) {
    const bytes = readFileSync(join(ctx.dir, `download-${d.party.name}`, "file.bin"));
    ctx.check(
      `${d.party.name} got the whole file`,
      bytes.equals(data),
      `${bytes.length} bytes read back, ${bytes.equals(data) ? "equal to" : "NOT equal to"} the origin's ${data.length}`,
    );
  }
  const result = await readBack(ctx, downloaders, sellers, settled, listPrice);
  report(ctx, result);
  return { ...result, swarmMs };
}

/**
 * Every channel read back from the chain: the buyer's verified count equals its seller's served count, and the
 * payout to the seller equals that count at the seller's price (the rest of the deposit back to the buyer). Then
 * per party what the chain paid it and took from it (its entitlement), and who uploaded what.
 */
async function readBack(
  ctx: ScenarioContext,
  downloaders: Downloader[],
  sellers: Seller[],
  settled: LeecherPeerStats[][],
  listPrice: bigint,
): Promise<Omit<SwarmResult, "swarmMs">> {
  const byAddress = new Map(sellers.map((s) => [s.party.address.toLowerCase(), s]));
  const paid = new Map<string, bigint>();
  const earned = new Map<string, bigint>();
  const bought = new Map<string, number>();
  const sold = new Map<string, number>();
  const addWei = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
  const addCount = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const wrong: string[] = [];
  let delivered = 0;
  let channels = 0;
  for (const [i, d] of downloaders.entries()) {
    for (const s of settled[i]) {
      if (!s.channelId) continue;
      channels++;
      ctx.track(s.channelId);
      const record = await d.party.client.store.getChannel(s.channelId);
      const seller = byAddress.get(String(record?.fixedPart.participants[1]).toLowerCase());
      if (!record || !seller) {
        wrong.push(`${d.party.name}: channel ${s.channelId.slice(0, 10)} to an unknown payee`);
        continue;
      }
      const id = s.channelId.toLowerCase();
      const served = seller.seeder.stats().peers.find((p) => p.channelId?.toLowerCase() === id)?.served;
      const chain = await d.party.client.settlement(s.channelId);
      const due = BigInt(s.delivered) * seller.price;
      if (served !== s.delivered || chain.toPeer !== due || chain.toUs + chain.toPeer !== record.deposited) {
        wrong.push(
          `${d.party.name} -> ${seller.party.name}: verified ${s.delivered}, served ${served}, paid out ${eth(chain.toPeer)} (due ${eth(due)}), refunded ${eth(chain.toUs)} of ${eth(record.deposited)}`,
        );
      }
      delivered += s.delivered;
      addWei(paid, d.party.name, chain.toPeer);
      addWei(earned, seller.party.name, chain.toPeer);
      addCount(bought, d.party.name, s.delivered);
      addCount(sold, seller.party.name, s.delivered);
    }
  }
  ctx.check(
    "every seller was paid exactly what it delivered at its price, on every channel (from the chain)",
    wrong.length === 0 && channels > 0,
    wrong.length === 0
      ? `${channels} channels: on each the buyer's verified pieces equal the seller's served pieces, the payout is that count at the seller's price and the rest of the deposit went back`
      : wrong.join("; "),
  );
  const pieces = downloaders[0].torrent.pieces.length;
  ctx.check(
    "the pieces delivered are exactly the pieces the downloaders needed",
    delivered === pieces * downloaders.length,
    `${delivered} pieces paid for over all channels; ${downloaders.length} downloaders x ${pieces} pieces = ${pieces * downloaders.length}`,
  );
  // Each party ends with what the chain paid it less what it paid (gas apart), and that is what it is owed for the
  // pieces it served at its price less what it paid: nobody loses anything.
  for (const s of sellers) {
    const name = s.party.name;
    ctx.entitled.set(name, (earned.get(name) ?? 0n) - (paid.get(name) ?? 0n));
    ctx.honest.set(name, { owed: BigInt(sold.get(name) ?? 0) * s.price - (paid.get(name) ?? 0n), window: 0n });
  }
  const uploaded = sellers.map((s) => s.torrent.uploaded);
  const totalBytes = uploaded.reduce((a, b) => a + b, 0);
  return {
    pieces,
    pieceLength: PIECE_LENGTH,
    listPrice,
    origin: { uploadedBytes: uploaded[0], sold: sold.get("origin") ?? 0, earned: earned.get("origin") ?? 0n },
    downloaders: downloaders.map((d, i) => ({
      name: d.party.name,
      price: d.price,
      bought: bought.get(d.party.name) ?? 0,
      sold: sold.get(d.party.name) ?? 0,
      paid: paid.get(d.party.name) ?? 0n,
      earned: earned.get(d.party.name) ?? 0n,
      uploadedBytes: uploaded[i + 1],
      arrivedMs: d.arrivedMs,
      doneMs: d.doneMs ?? 0,
      fromOrigin: d.fromOrigin,
      fromOriginAvailableElsewhere: d.fromOriginAvailableElsewhere,
    })),
    totalBytes,
    originShare: totalBytes === 0 ? 1 : uploaded[0] / totalBytes,
  };
}

/** The report's figures: who uploaded what, the origin's share, each downloader's money against the list price. */
function report(ctx: ScenarioContext, r: Omit<SwarmResult, "swarmMs">): void {
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  const delivered = r.downloaders.reduce((a, d) => a + d.bought, 0);
  ctx.figure(
    "uploaded by origin",
    `${mib(r.origin.uploadedBytes)}, ${r.origin.sold} pieces (${pct(r.origin.uploadedBytes / r.totalBytes)})`,
  );
  for (const d of r.downloaders) {
    ctx.figure(
      `uploaded by ${d.name}`,
      `${mib(d.uploadedBytes)}, ${d.sold} pieces (${pct(d.uploadedBytes / r.totalBytes)})`,
    );
  }
  ctx.figure(
    "origin's share of all bytes delivered",
    `${pct(r.originShare)} (${r.origin.sold} of ${delivered} pieces); goal <= ${pct(ORIGIN_SHARE_GOAL)}: ${r.originShare <= ORIGIN_SHARE_GOAL ? "met" : "NOT met"}`,
  );
  ctx.figure(
    "pieces from the origin that a downloader connected to the buyer already had when they verified",
    r.downloaders.map((d) => `${d.name} ${d.fromOriginAvailableElsewhere} of ${d.fromOrigin}`).join("; "),
  );
  ctx.figure("file list price (pieces x P)", eth(r.listPrice));
  for (const d of r.downloaders) {
    const net = d.earned - d.paid;
    ctx.figure(
      `${d.name} (sells at ${formatEther(d.price)}): paid, earned, net on chain`,
      `paid ${eth(d.paid)} for ${d.bought} pieces, earned ${eth(d.earned)} for ${d.sold}, net ${eth(net)} = ${(Number(net) / Number(r.listPrice)).toFixed(3)} x list price`,
    );
  }
  ctx.figure(
    "download time per downloader",
    r.downloaders
      .map((d) => `${d.name} ${seconds(d.doneMs - d.arrivedMs)} (arrived at ${seconds(d.arrivedMs)})`)
      .join("; "),
  );
  ctx.summarize((rep) => {
    rep.figures["gas per party"] = rep.parties
      .map((p) => {
        const units = rep.transactions.filter((t) => t.party === p.name).reduce((a, t) => a + t.gasUsed, 0n);
        return `${p.name} ${units} gas (${formatEther(p.gas)} ETH)`;
      })
      .join("; ");
    const count = (what: string) => rep.transactions.filter((t) => t.what === what).length;
    rep.figures.transactions = `${rep.transactions.length}: ${count("deposit")} deposits, ${count("concludeAndTransferAllAssets")} cooperative closes`;
  });
}

export const swarm: Scenario = {
  id: "9",
  name: "swarm",
  title: "A paying swarm: eight downloaders buy and resell; each seller paid its price for what it delivered",
  torrent: true,
  async run(ctx) {
    const { swarmMs } = await runSwarm(ctx);
    ctx.figure("swarm time: first arrival to last finish", seconds(swarmMs));
  },
};
