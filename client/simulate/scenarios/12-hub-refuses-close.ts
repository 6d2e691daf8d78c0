// 12. The hub refuses to countersign the close: V_F, signed by the leecher and the seeder at p, goes to the hub,
// which never answers virtual.close. The seeder cannot conclude V (V_F lacks the hub's signature); it exits its
// ledger with its voucher (challenge, reclaim, payout) and is paid p. The leecher, whose ledger still guarantees V,
// exits too and pays exactly p + fee(p), no more.
import type { Scenario } from "../scenario.js";
import { eventually } from "./common.js";
import {
  checkPaidOut,
  entitledPaid,
  exitTogether,
  fee,
  HUB_CAPACITY,
  LEDGER_DEPOSIT,
  paidVirtual,
  registeredTurns,
} from "./hub-common.js";

export const hubRefusesClose: Scenario = {
  id: "12",
  name: "hub-refuses-close",
  title: "The hub refuses to countersign the close: the seeder exits with its voucher, the leecher pays p + fee(p)",
  async run(ctx) {
    const {
      hubParty,
      leecher,
      seeder,
      v,
      paid: p,
    } = await paidVirtual(ctx, {
      hostile: { "virtual.close": () => new Promise<unknown>(() => {}) },
    });
    const byLeecher = await leecher.conn.finalState(v, p);
    const bySeeder = await seeder.conn.finalState(v, p);
    await ctx.settling();
    const closing = seeder.conn.closeVirtual(v, bySeeder.state, byLeecher.signature, bySeeder.signature);
    closing.catch(() => {}); // never answered; rejected when the connection closes
    await eventually(
      async () => (await seeder.party.client.store.getChannel(v))?.virtual?.final?.signedBy === 0b101n,
      "V_F stored by the seeder",
    );
    ctx.note("V_F, signed by the leecher and the seeder, went to the hub: it never countersigns");
    const [seederExit, leecherExit] = await exitTogether(ctx, [
      { party: seeder.party, ledger: seeder.ledger },
      { party: leecher.party, ledger: leecher.ledger },
    ]);
    await ctx.settled();
    const adjudicator = hubParty.client.adjudicator;
    const concluded = (await adjudicator.queryFilter(adjudicator.filters.Concluded(v))).length;
    const turns = await registeredTurns(ctx, v);
    ctx.note(
      `V was registered at turn(s) ${turns.join(", ")} (the seeder's voucher state), never concluded; exits: seeder ${seederExit.transactions.length}, leecher ${leecherExit.transactions.length} transactions`,
    );
    ctx.check(
      "V finalized on the seeder's voucher state, not concluded",
      concluded === 0 && turns.at(-1) === 1n,
      `${concluded} Concluded event(s); turns registered ${turns.join(", ")}`,
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
    ctx.figure("seeder's exit transactions", seederExit.transactions.length);
    ctx.figure("leecher's exit transactions", leecherExit.transactions.length);
  },
};
