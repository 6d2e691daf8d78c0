// 6. Griefing by repeated challenges: the leecher challenges with the stale funding state, the seeder's watcher
// answers with its voucher; then the leecher keeps sending challenges. After the first answer it holds no state the
// adjudicator accepts (the turn number is too low), so each further challenge reverts on chain: it costs the
// griefer gas and the defender nothing. What each side spent is in the figures.
import { formatEther } from "ethers";
import { registrationOf } from "../../../sdk/index.js";
import type { Scenario } from "../scenario.js";
import { eventually, paidChannel, patience } from "./common.js";

const ROUNDS = 3;

export const griefing: Scenario = {
  id: "6",
  name: "griefing",
  title: "Griefing by repeated challenges: each is answered; what it costs each side",
  async run(ctx) {
    const { leecher, seeder, id, paid } = await paidChannel(ctx);
    let answers = 0;
    let paidOut = false;
    ctx.watch(seeder.client, (event) => {
      if (event === "answered") answers++;
      if (event === "paid-out") paidOut = true;
    });
    await ctx.settling();
    await leecher.client.challenge(id);
    ctx.note("round 1: the leecher challenged with the funding state");
    await eventually(() => answers >= 1, "the watcher's answer", patience(ctx));
    ctx.note("the seeder's watcher answered with its voucher");
    const record = await leecher.client.store.getChannel(id);
    const stale = await leecher.client.store.getSupportedState(id);
    if (!record || !stale) throw new Error("the leecher has no record of its channel");
    const reverts: string[] = [];
    for (let round = 2; round <= ROUNDS + 1; round++) {
      const registration = registrationOf(id, await leecher.client.registration(id));
      const request = await leecher.client.adjudicator.challenge.populateTransaction(
        record.fixedPart,
        [],
        stale,
        "0x",
        registration,
      );
      const accepted = await ctx.force(leecher, `challenge (griefing, round ${round})`, request);
      reverts.push(accepted ? "accepted" : "reverted");
      // Whatever the griefer does, the watcher keeps looking: give it a poll to react if it must.
      await ctx.chain.sleep(200);
    }
    ctx.note(`rounds 2 to ${ROUNDS + 1}: the leecher sent ${ROUNDS} more challenges: ${reverts.join(", ")}`);
    const { finalizesAt } = await seeder.client.onChain(id);
    await ctx.chain.advanceTo(finalizesAt);
    await eventually(() => paidOut, "the watcher's payout", patience(ctx));
    await ctx.settled();
    ctx.check(
      "every challenge is answered: the first by the watcher, the rest by the adjudicator",
      answers === 1 && reverts.every((r) => r === "reverted"),
      `watcher answers: ${answers}; later challenges: ${reverts.join(", ")}`,
    );
    ctx.entitled.set("seeder", paid);
    ctx.entitled.set("leecher", -paid);
    ctx.honest.set("seeder", { owed: paid, window: 0n });
    ctx.figure("griefing rounds", ROUNDS + 1);
    ctx.figure("vouchers (wei)", paid);
    ctx.summarize((report) => {
      const dispute = report.transactions.filter((t) => t.what !== "deposit");
      for (const [party, role] of [
        ["leecher", "griefer"],
        ["seeder", "defender"],
      ]) {
        const mine = dispute.filter((t) => t.party === party);
        const gas = mine.reduce((a, t) => a + t.gasUsed, 0n);
        const cost = mine.reduce((a, t) => a + t.cost, 0n);
        report.figures[`${role} (${party}): dispute transactions`] = String(mine.length);
        report.figures[`${role} (${party}): gas used`] = String(gas);
        report.figures[`${role} (${party}): gas cost (ETH)`] = formatEther(cost);
      }
    });
  },
};
