// 3. A real download; the seeder vanishes after being paid ahead (the leecher's credit window). The leecher's close
// finds nobody, so it challenges with the funding state; the seeder's watcher, the worst case for the leecher,
// answers with its largest voucher, and the channel pays out on it. The leecher loses at most one credit window
// (vouchers beyond the pieces that verified) and recovers the rest of its deposit.
import { randomBytes } from "node:crypto";
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import { eventually, leech, PRICE, parties, patience, seed } from "./common.js";

const WINDOW = 8;

export const seederVanishes: Scenario = {
  id: "3",
  name: "seeder-vanishes",
  title: "The seeder vanishes after being prepaid: the leecher loses at most one credit window",
  torrent: true,
  async run(ctx) {
    const { leecher: leecherParty, seeder: seederParty } = await parties(ctx);
    const data = randomBytes(4 * 1024 * 1024);
    const { torrent, seeder, client: seederClient, port } = await seed(ctx, seederParty, data, { enforce: false });
    const { leecher } = await leech(ctx, leecherParty, torrent.torrentFile, [port], {
      maxWindow: WINDOW,
      closeTimeoutMs: 2_000,
    });
    ctx.note(
      `seeding ${torrent.pieces.length} pieces at ${formatEther(PRICE)} ETH; the leecher pays up to ${WINDOW} pieces ahead`,
    );
    const stats = () => leecher.stats().find((p) => p.channelId);
    await eventually(() => {
      const s = stats();
      return s !== undefined && s.delivered >= 16 && s.paid > BigInt(s.delivered) * PRICE;
    }, "sixteen pieces delivered and credit paid ahead");
    await ctx.settling();
    seeder.destroy();
    await new Promise<void>((resolve) => seederClient.destroy(() => resolve()));
    await eventually(() => leecher.torrent?.numPeers === 0, "the leecher to notice", 10_000);
    const s = stats();
    if (!s?.channelId) throw new Error("the leecher has no channel");
    const id = s.channelId;
    ctx.track(id);
    ctx.note(`the seeder vanished after ${s.delivered} verified pieces, paid ahead to ${formatEther(s.paid)} ETH`);
    await leecher.settle();
    ctx.note("the leecher's close found nobody to countersign");
    let paidOut = false;
    ctx.watch(seederParty.client, (event) => {
      if (event === "paid-out") paidOut = true;
    });
    await leecherParty.client.challenge(id);
    ctx.note("the leecher challenged with the funding state; the seeder's watcher answers with its largest voucher");
    await eventually(
      async () => (await seederParty.client.registeredState(id)).outcome[0].allocations[1].amount > 0n,
      "the watcher's answer",
      patience(ctx),
    );
    await ctx.chain.advanceTo((await leecherParty.client.onChain(id)).finalizesAt);
    await eventually(() => paidOut, "the payout", patience(ctx));
    await ctx.settled();
    const voucher = await seederParty.client.paid(id);
    const delivered = stats()?.delivered ?? s.delivered;
    ctx.note(`paid out on the seeder's voucher of ${formatEther(voucher)} ETH for ${delivered} pieces delivered`);
    ctx.entitled.set("seeder", voucher);
    ctx.entitled.set("leecher", -voucher);
    ctx.honest.set("leecher", { owed: -BigInt(delivered) * PRICE, window: BigInt(WINDOW) * PRICE });
    ctx.figure("pieces delivered", delivered);
    ctx.figure("voucher paid out (wei)", voucher);
    ctx.figure("paid ahead and lost (wei)", voucher - BigInt(delivered) * PRICE);
  },
};
