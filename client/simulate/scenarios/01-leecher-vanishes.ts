// 1. A real download between a paid webtorrent seeder and a paying leecher; the leecher vanishes mid-download
// without closing. The seeder enforces the largest voucher on its disk alone (challenge, the challenge duration,
// payout) and ends with exactly that amount: at least the price of every piece it served.
import { randomBytes } from "node:crypto";
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import { eventually, leech, once, PRICE, parties, patience, seed } from "./common.js";

export const leecherVanishes: Scenario = {
  id: "1",
  name: "leecher-vanishes",
  title: "The leecher vanishes mid-download: the seeder enforces its latest voucher",
  torrent: true,
  async run(ctx) {
    const { leecher: leecherParty, seeder: seederParty } = await parties(ctx);
    const data = randomBytes(4 * 1024 * 1024);
    const { torrent, seeder, port } = await seed(ctx, seederParty, data, {
      enforceAfterMs: 50,
      waitFor: (at) => ctx.chain.advanceTo(at),
    });
    const { leecher, client } = await leech(ctx, leecherParty, torrent.torrentFile, [port], { maxWindow: 8 });
    ctx.note(
      `seeding ${data.length / 1024 / 1024} MiB in ${torrent.pieces.length} pieces at ${formatEther(PRICE)} ETH each`,
    );
    await eventually(() => seeder.stats().served >= 16, "sixteen pieces served");
    const enforced = once(seeder, "enforced", patience(ctx) + 30_000);
    await ctx.settling();
    const served = seeder.stats().served;
    client.destroy(); // the leecher vanishes: no close, no goodbye
    const view = leecher.stats().find((p) => p.channelId);
    if (view?.channelId) ctx.track(view.channelId);
    ctx.note(`the leecher vanished after ${served} pieces served; it had signed ${formatEther(view?.paid ?? 0n)} ETH`);
    await enforced;
    await ctx.settled();
    const owed = seeder.stats().paid;
    const servedFinal = seeder.stats().served;
    ctx.note(`the seeder challenged with its largest voucher, ${formatEther(owed)} ETH, and paid it out`);
    ctx.check(
      "the seeder holds no more than the leecher signed, no less than the leecher saw acknowledged",
      owed >= (view?.acknowledged ?? 0n) && owed <= (view?.paid ?? 0n),
      `enforced ${owed}; the leecher saw ${view?.acknowledged} acknowledged of ${view?.paid} signed`,
    );
    ctx.entitled.set("seeder", owed);
    ctx.entitled.set("leecher", -owed);
    ctx.honest.set("seeder", { owed: BigInt(servedFinal) * PRICE, window: 0n });
    ctx.figure("pieces served", servedFinal);
    ctx.figure("voucher enforced (wei)", owed);
  },
};
