// 15. The hub restarts mid-open: V0 is signed by all three (the payee's signature still on its way to the hub) when
// the hub's server closes and its engine is discarded; a new engine starts on the same store file and port, resumes
// what the store says is due, and the users reconnect. The payer funds V, the guarantees go in, ten vouchers, a
// cooperative close, and each user withdraws its ledger: neither the leecher nor the seeder sends a transaction
// beyond its ledger's opening and closing.
import type { Scenario } from "../scenario.js";
import {
  checkPaidOut,
  closeVirtual,
  entitledPaid,
  fee,
  fundVirtual,
  HUB_CAPACITY,
  LEDGER_DEPOSIT,
  openLedger,
  PAID,
  payVirtual,
  proposeVirtual,
  reconnect,
  SimHub,
} from "./hub-common.js";

export const hubRestartsMidOpen: Scenario = {
  id: "15",
  name: "hub-restarts-mid-open",
  title: "The hub restarts between V0 and the guarantees: V opens and closes normally, no extra transaction",
  async run(ctx) {
    const hubParty = await ctx.party("hub");
    const leecherParty = await ctx.party("leecher");
    const seederParty = await ctx.party("seeder");
    await ctx.begin();
    const hub = await SimHub.start(ctx, hubParty);
    const leecher = await openLedger(ctx, leecherParty, hub, { deposit: LEDGER_DEPOSIT });
    const seeder = await openLedger(ctx, seederParty, hub, { capacity: HUB_CAPACITY });
    const sent = { leecher: ctx.sentBy("leecher"), seeder: ctx.sentBy("seeder") };
    const opened = await proposeVirtual(leecher, seeder);
    ctx.note("V proposed by the leecher, countersigned by the hub, joined by the seeder (V0 signed by all three)");
    await hub.restart();
    ctx.note("the hub restarted: server closed, engine discarded, a new engine on the same store and port");
    await reconnect(ctx, leecher, hub);
    await reconnect(ctx, seeder, hub);
    const v = await fundVirtual(leecher, seeder, opened);
    ctx.note("the leecher and the seeder reconnected; V funded in both ledgers");
    const p = await payVirtual(leecher, seeder, v, PAID);
    await ctx.settling();
    await closeVirtual(leecher, seeder, v, p);
    ctx.note("ten vouchers; V closed cooperatively, both ledgers settled off chain");
    const between = {
      leecher: ctx.sentBy("leecher") - sent.leecher,
      seeder: ctx.sentBy("seeder") - sent.seeder,
    };
    await seeder.conn.withdraw(seeder.ledger);
    await leecher.conn.withdraw(leecher.ledger);
    await ctx.settled();
    ctx.note("each withdrew its ledger (one transaction each)");
    ctx.check(
      "no transaction by the leecher or the seeder beyond their ledgers",
      between.leecher === 0 && between.seeder === 0,
      `between the ledgers' opening and their withdrawal: leecher ${between.leecher}, seeder ${between.seeder}`,
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
    entitledPaid(ctx, p);
    ctx.honest.set("seeder", { owed: p, window: 0n });
    ctx.honest.set("leecher", { owed: -(p + fee(p)), window: 0n });
    ctx.figure("paid on V (wei)", p);
    ctx.figure("transactions by leecher and seeder after their ledgers opened", between.leecher + between.seeder);
  },
};
