// 2. The leecher challenges with a stale state (the funding state: nothing paid) after ten vouchers. The seeder's
// watcher sees the challenge and answers in time with its largest voucher; the channel finalizes on the voucher and
// the watcher pays out. The leecher gains nothing and pays the gas of its attempt.
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import { DEPOSIT, eventually, paidChannel, patience } from "./common.js";

export const staleChallenge: Scenario = {
  id: "2",
  name: "stale-challenge",
  title: "The leecher challenges with a stale state: the watcher answers in time",
  async run(ctx) {
    const { leecher, seeder, id, paid } = await paidChannel(ctx);
    ctx.note(`channel open with ${formatEther(DEPOSIT)} ETH; ten vouchers: the seeder holds ${formatEther(paid)} ETH`);
    let answeredAt: bigint | undefined;
    let paidOut = false;
    ctx.watch(seeder.client, (event) => {
      if (event === "answered") void ctx.chain.now().then((t) => (answeredAt ??= t));
      if (event === "paid-out") paidOut = true;
    });
    await ctx.settling();
    await leecher.client.challenge(id);
    const stale = await leecher.client.onChain(id);
    ctx.note(
      `the leecher challenged with the funding state (turn 0, nothing paid), finalizing at ${stale.finalizesAt}`,
    );
    await eventually(() => answeredAt !== undefined, "the watcher's answer", patience(ctx));
    const answered = await seeder.client.registeredState(id);
    const registeredPaid = answered.outcome[0].allocations[1].amount;
    ctx.note(
      `the seeder's watcher answered at ${answeredAt} with its voucher: the registered state pays it ${formatEther(registeredPaid)} ETH`,
    );
    const { finalizesAt } = await seeder.client.onChain(id);
    await ctx.chain.advanceTo(finalizesAt);
    await eventually(() => paidOut, "the watcher's payout", patience(ctx));
    await ctx.settled();
    ctx.note("the challenge duration passed; the watcher paid out");
    ctx.check(
      "the watcher answered before the stale challenge finalized",
      answeredAt !== undefined && answeredAt < stale.finalizesAt && registeredPaid === paid,
      `answered at ${answeredAt}, the stale challenge would have finalized at ${stale.finalizesAt}; registered ${formatEther(registeredPaid)} ETH`,
    );
    ctx.entitled.set("seeder", paid);
    ctx.entitled.set("leecher", -paid);
    ctx.honest.set("seeder", { owed: paid, window: 0n });
    ctx.figure("vouchers (wei)", paid);
  },
};
