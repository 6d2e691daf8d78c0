// 14. The seeder vanishes after being paid p, without registering its voucher anywhere. The leecher cannot close V
// without it: it exits its ledger on chain, challenging V with V0, which nobody answers; its reclaim gets x back in
// full. The hub recovers its x in the seeder's ledger the same way (exitLedger with its own store). The seeder
// forfeits p, by design: it held the only proof of it and never used it.
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import {
  checkPaidOut,
  exitTogether,
  HUB_CAPACITY,
  LEDGER_DEPOSIT,
  paidVirtual,
  reclaims,
  registeredTurns,
  VIRTUAL_AMOUNT,
} from "./hub-common.js";

export const hubSeederVanishes: Scenario = {
  id: "14",
  name: "hub-seeder-vanishes",
  title: "The seeder vanishes after being paid p: the leecher gets x back on chain, the hub its x",
  async run(ctx) {
    const { hubParty, leecher, seeder, v, paid: p } = await paidVirtual(ctx);
    await ctx.settling();
    seeder.conn.close();
    ctx.note(`the seeder vanished holding vouchers of ${formatEther(p)} ETH, never registered`);
    const [byLeecher, byHub] = await exitTogether(ctx, [
      { party: leecher.party, ledger: leecher.ledger },
      { party: hubParty, ledger: seeder.ledger },
    ]);
    await ctx.settled();
    ctx.note(
      `the leecher's exit: ${byLeecher.transactions.length} transactions; the hub's, in the seeder's ledger: ${byHub.transactions.length}`,
    );
    const turns = await registeredTurns(ctx, v);
    const r = await reclaims(ctx, v);
    const a = r.get(leecher.ledger);
    const b = r.get(seeder.ledger);
    ctx.check(
      "V finalized on V0: the leecher got x back in its ledger, the hub x in the seeder's",
      turns.length === 1 &&
        turns[0] === 0n &&
        a?.toUser === VIRTUAL_AMOUNT &&
        a.toHub === 0n &&
        b?.toUser === 0n &&
        b.toHub === VIRTUAL_AMOUNT,
      `turns registered on V: ${turns.join(", ")}; leecher's ledger ${a?.toUser} to the leecher, ${a?.toHub} to the hub; seeder's ${b?.toUser} to the seeder, ${b?.toHub} to the hub`,
    );
    await checkPaidOut(
      ctx,
      [leecher.ledger, seeder.ledger],
      [
        [leecher.ledger, leecher.party.address, LEDGER_DEPOSIT],
        [seeder.ledger, hubParty.address, HUB_CAPACITY],
      ],
    );
    ctx.entitled.set("leecher", 0n);
    ctx.entitled.set("hub", 0n);
    ctx.entitled.set("seeder", 0n);
    ctx.honest.set("leecher", { owed: 0n, window: 0n });
    ctx.honest.set("hub", { owed: 0n, window: 0n });
    ctx.figure("forfeited by the vanished seeder (wei)", p);
    ctx.figure("leecher's exit transactions", byLeecher.transactions.length);
    ctx.figure("hub's exit transactions", byHub.transactions.length);
  },
};
