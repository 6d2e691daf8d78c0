// 10. The hub vanishes mid-download, after ten vouchers on V: nobody answers any more. The seeder and the leecher
// each leave on chain with exitLedger (challenge its ledger and V, one challenge duration, reclaim, payout): the
// seeder gets exactly p out of its ledger, the leecher its deposit less p + fee(p), and the hub, which vanished,
// still gets what its states entitle it to (its capacity less p, and p + fee(p)) paid by their exits.
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import {
  checkPaidOut,
  entitledPaid,
  exitTogether,
  fee,
  HUB_CAPACITY,
  LEDGER_DEPOSIT,
  paidVirtual,
  reclaims,
  VIRTUAL_AMOUNT,
} from "./hub-common.js";

export const hubVanishes: Scenario = {
  id: "10",
  name: "hub-vanishes",
  title: "The hub vanishes mid-download: seeder and leecher exit on chain, each with its entitlement",
  async run(ctx) {
    const { hub, hubParty, leecher, seeder, v, paid: p } = await paidVirtual(ctx);
    await ctx.settling();
    await hub.stop();
    ctx.note("the hub vanished: its server closed every connection and answers nothing");
    const [bySeeder, byLeecher] = await exitTogether(ctx, [
      { party: seeder.party, ledger: seeder.ledger },
      { party: leecher.party, ledger: leecher.ledger },
    ]);
    await ctx.settled();
    ctx.note(
      `the seeder's exit: ${bySeeder.transactions.length} transactions, paid ${formatEther(bySeeder.paid)} ETH; the leecher's: ${byLeecher.transactions.length}, paid ${formatEther(byLeecher.paid)} ETH`,
    );
    await checkPaidOut(
      ctx,
      [leecher.ledger, seeder.ledger],
      [
        [seeder.ledger, seeder.party.address, p],
        [seeder.ledger, hubParty.address, HUB_CAPACITY - p],
        [leecher.ledger, leecher.party.address, LEDGER_DEPOSIT - p - fee(p)],
        [leecher.ledger, hubParty.address, p + fee(p)],
      ],
    );
    const r = await reclaims(ctx, v);
    const a = r.get(leecher.ledger);
    const b = r.get(seeder.ledger);
    ctx.check(
      "both guarantees were reclaimed on the seeder's voucher state",
      b?.toUser === p &&
        b.toHub === VIRTUAL_AMOUNT - p &&
        a?.toUser === VIRTUAL_AMOUNT - p - fee(p) &&
        a.toHub === p + fee(p),
      `seeder's ledger: ${b?.toUser} to the seeder, ${b?.toHub} to the hub; leecher's: ${a?.toUser} to the leecher, ${a?.toHub} to the hub`,
    );
    entitledPaid(ctx, p);
    ctx.honest.set("seeder", { owed: p, window: 0n });
    ctx.honest.set("leecher", { owed: -(p + fee(p)), window: 0n });
    ctx.figure("paid on V (wei)", p);
    ctx.figure("hub fee (wei)", fee(p));
    ctx.figure("seeder's exit transactions", bySeeder.transactions.length);
    ctx.figure("leecher's exit transactions", byLeecher.transactions.length);
  },
};
