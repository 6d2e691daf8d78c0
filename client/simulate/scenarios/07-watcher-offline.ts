// 7. The seeder's watcher is offline until after the leecher's stale challenge finalized: nobody answers, the
// leecher pays the funding state out (its whole deposit back), and the watcher, back online, can do nothing. The
// seeder loses every voucher it held: this is what a watcher is for.
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import { paidChannel } from "./common.js";

export const watcherOffline: Scenario = {
  id: "7",
  name: "watcher-offline",
  title: "The watcher is offline until after finalization: what the honest side loses",
  async run(ctx) {
    const { leecher, seeder, id, paid } = await paidChannel(ctx);
    ctx.note(`ten vouchers: the seeder holds ${formatEther(paid)} ETH; then its watcher goes offline`);
    await ctx.settling();
    await leecher.client.challenge(id);
    const { finalizesAt } = await leecher.client.onChain(id);
    ctx.note(`the leecher challenged with the funding state; nobody answers; it finalizes at ${finalizesAt}`);
    await ctx.chain.advanceTo(finalizesAt);
    await leecher.client.payout(id);
    ctx.note("the leecher paid out the funding state: its whole deposit back");
    const watcher = ctx.watch(seeder.client);
    await watcher.stop();
    const scan = await watcher.scanOnce();
    await ctx.settled();
    ctx.note(
      `the seeder's watcher came back: answered ${scan.answered.length}, paid out ${scan.paidOut.length}; the vouchers are worthless now`,
    );
    ctx.check(
      "the watcher, back too late, can neither answer nor pay out",
      scan.answered.length === 0 && scan.paidOut.length === 0,
      `answered ${scan.answered.length}, paid out ${scan.paidOut.length}`,
    );
    ctx.entitled.set("seeder", 0n);
    ctx.entitled.set("leecher", 0n);
    ctx.honest.set("seeder", { owed: paid, window: 0n, expected: false });
    ctx.figure("seeder's loss (wei): every voucher it held", paid);
  },
};
