// 13. The leecher vanishes after paying p on V. The seeder settles off chain through the hub on its largest voucher
// (settleVirtual: its ledger settled, no transaction) and later withdraws its ledger in one transaction. The hub,
// left with the leecher's ledger still guaranteeing V, recovers on chain with its own store: exitLedger challenges
// the ledger and V (with the seeder's voucher state, which the hub holds), reclaims and pays out; the vanished
// leecher is paid its deposit less exactly p + fee(p) without lifting a finger.
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
  settledIn,
} from "./hub-common.js";

export const hubLeecherVanishes: Scenario = {
  id: "13",
  name: "hub-leecher-vanishes",
  title: "The leecher vanishes after paying p: the seeder settles through the hub, the hub recovers on chain",
  async run(ctx) {
    const { hubParty, leecher, seeder, v, paid: p, sent } = await paidVirtual(ctx);
    await ctx.settling();
    leecher.conn.close();
    ctx.note(`the leecher vanished after paying ${formatEther(p)} ETH on V`);
    await seeder.conn.settleVirtual(v);
    await settledIn(seeder, v, "payee");
    const seederAfterSettle = ctx.sentBy("seeder") - sent.seeder;
    ctx.note(`the seeder settled its ledger with the hub on its voucher: ${seederAfterSettle} transaction(s)`);
    await seeder.conn.withdraw(seeder.ledger);
    ctx.note("the seeder withdrew its ledger (one transaction)");
    const [byHub] = await exitTogether(ctx, [{ party: hubParty, ledger: leecher.ledger }]);
    await ctx.settled();
    ctx.note(`the hub recovered from the leecher's ledger on chain: ${byHub.transactions.length} transactions`);
    ctx.check(
      "the seeder's settlement took no transaction",
      seederAfterSettle === 0,
      `${seederAfterSettle} transaction(s) by the seeder between its ledger's opening and its withdrawal`,
    );
    ctx.check(
      "the leecher sent nothing after its deposit",
      ctx.sentBy("leecher") - sent.leecher === 0,
      `${ctx.sentBy("leecher") - sent.leecher} transaction(s)`,
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
    ctx.honest.set("hub", { owed: fee(p), window: 0n });
    ctx.figure("paid on V (wei)", p);
    ctx.figure("seeder's transactions to settle", seederAfterSettle);
    ctx.figure("hub's recovery transactions", byHub.transactions.length);
  },
};
