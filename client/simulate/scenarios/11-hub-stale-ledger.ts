// 11. The hub posts a stale ledger state: after ten vouchers on V it challenges the leecher's ledger with the
// ledger's funding state (turn 0, the whole deposit the leecher's, no guarantee), which both signed at opening. The
// leecher answers with its latest state (turn 1, x guaranteed to V: checkpoint) and exits (V challenged, reclaim,
// payout); the seeder answers V with its voucher (as its watcher would) and settles its own ledger with the hub off
// chain. The leecher ends whole: its deposit less exactly p + fee(p).
import { ZeroAddress } from "ethers";
import { challengeVirtual, ledgerOutcome } from "../../../sdk/hub/index.js";
import { NO_REGISTRATION, signState, toSigned, type VariablePart } from "../../../sdk/index.js";
import type { Scenario } from "../scenario.js";
import {
  checkPaidOut,
  entitledPaid,
  fee,
  finishExits,
  HUB_CAPACITY,
  LEDGER_DEPOSIT,
  paidVirtual,
  registeredTurns,
  settledIn,
  startExits,
} from "./hub-common.js";

export const hubStaleLedger: Scenario = {
  id: "11",
  name: "hub-stale-ledger",
  title: "The hub challenges the leecher's ledger with a stale state: the leecher answers with its latest",
  async run(ctx) {
    const { hubParty, leecher, seeder, v, paid: p } = await paidVirtual(ctx);
    const a = leecher.ledger;
    const fixedPart = (await hubParty.client.store.getChannel(a))?.fixedPart;
    if (fixedPart === undefined) throw new Error("the hub has no record of the leecher's ledger");
    // The funding state both signed at opening. The hub's store keeps only the latest state; the leecher's signature
    // on turn 0 is deterministic (RFC 6979), so signing it again yields the very signature the hub received then.
    const stale: VariablePart = {
      outcome: ledgerOutcome(ZeroAddress, leecher.party.address, hubParty.address, LEDGER_DEPOSIT, 0n),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const sigs = new Map([
      [0, await signState(leecher.party.signer, a, stale)],
      [1, await signState(hubParty.signer, a, stale)],
    ]);
    await ctx.settling();
    const adjudicator = hubParty.client.context.adjudicator;
    await ctx.record("hub", "stale ledger challenge", () =>
      adjudicator.challenge(fixedPart, [], toSigned(stale, sigs), "0x", NO_REGISTRATION),
    );
    ctx.note("the hub challenged the leecher's ledger with its funding state (turn 0: no guarantee for V)");
    // The leecher stops trusting the hub: it answers and leaves on chain.
    leecher.conn.close();
    const exits = await startExits([{ party: leecher.party, ledger: a }]);
    // The seeder, online, answers V's registration with its voucher (as its watcher would), and settles its ledger
    // with the hub off chain on the same voucher.
    const answer = await challengeVirtual(seeder.party.client.context, v);
    ctx.note(`the seeder answered V's registration with its voucher state (${answer ? "sent" : "nothing to send"})`);
    await seeder.conn.settleVirtual(v);
    await settledIn(seeder, v, "payee");
    await seeder.conn.withdraw(seeder.ledger);
    ctx.note("the seeder settled its ledger with the hub on its voucher (off chain) and withdrew it");
    const [byLeecher] = await finishExits(ctx, exits);
    await ctx.settled();
    const turns = await registeredTurns(ctx, a);
    ctx.note(
      `the leecher's ledger registered turns ${turns.join(", ")}; its exit sent ${byLeecher.transactions.length}`,
    );
    ctx.check(
      "the stale state was overruled by the leecher's latest",
      turns.length === 2 && turns[0] === 0n && turns[1] === 1n,
      `turns registered on the leecher's ledger: ${turns.join(", ")}`,
    );
    await checkPaidOut(
      ctx,
      [a, seeder.ledger],
      [
        [seeder.ledger, seeder.party.address, p],
        [seeder.ledger, hubParty.address, HUB_CAPACITY - p],
        [a, leecher.party.address, LEDGER_DEPOSIT - p - fee(p)],
        [a, hubParty.address, p + fee(p)],
      ],
    );
    entitledPaid(ctx, p);
    ctx.honest.set("leecher", { owed: -(p + fee(p)), window: 0n });
    ctx.honest.set("seeder", { owed: p, window: 0n });
    ctx.figure("paid on V (wei)", p);
    ctx.figure("leecher's answer and exit transactions", byLeecher.transactions.length);
  },
};
