// 16. A crowd on one hub: 20 leechers and 5 seeders, one ledger each. Each leecher pays 1 to 3 seeders through
// virtual channels, random amounts from a seeded generator (the same run every time), closing each cooperatively;
// the hub restarts with a virtual channel half open; leecher-20 vanishes with its channels paid and open (its
// seeders settle through the hub, the hub recovers its ledger on chain); seeder-5 vanishes after being paid by
// leecher-19 (leecher-19 gets x back on chain, the hub its x). Then everyone left withdraws its ledger. Invariants,
// from the chain: everything paid out of the ledgers equals what was deposited; each honest party is paid exactly
// its vouchers; the hub ends up by exactly the fees of the channels that paid; and no cooperative leecher or seeder
// sends a transaction between its ledger's opening and its withdrawal.
import { formatEther, parseEther } from "ethers";
import type { Party, ScenarioContext } from "../context.js";
import type { Scenario } from "../scenario.js";
import { PRICE } from "./common.js";
import {
  closeVirtual,
  fee,
  finishExits,
  fundVirtual,
  type HubUser,
  LEDGER_DEPOSIT,
  openLedger,
  paidOut,
  payVirtual,
  proposeVirtual,
  reconnect,
  SimHub,
  settledIn,
  startExits,
} from "./hub-common.js";

/** The crowd's size: `piecepay simulate hub-crowd` runs the 20 x 5. */
export const CROWD = { leechers: 20, seeders: 5 };
/** What a leecher puts into each virtual channel: three of them fit in its ledger. */
const X = parseEther("0.0025");
/** The hub's capacity in each seeder's ledger: room for every channel the crowd opens toward one seeder. */
const CAPACITY = parseEther("0.05");
/** The seed of the amounts and of who pays whom. */
const SEED = 16;

/** mulberry32: a small seeded generator, so that a run can be repeated exactly. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A copy of `items` in a random order (Fisher-Yates), `pick(n)` drawing from 0 to n - 1. */
function shuffled<T>(items: T[], pick: (n: number) => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Channel {
  id: string;
  payer: HubUser;
  payee: HubUser;
  paid: bigint;
  /** How it ended: closed cooperatively, settled by the payee alone (payer vanished), or forfeited (payee vanished). */
  end: "closed" | "settled" | "forfeited";
}

/** Runs a crowd of `size` on one hub in `ctx`. */
export async function runCrowd(ctx: ScenarioContext, size = CROWD): Promise<void> {
  const random = generator(SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const hubParty = await ctx.party("hub");
  const seederParties: Party[] = [];
  for (let i = 1; i <= size.seeders; i++) seederParties.push(await ctx.party(`seeder-${i}`));
  const leecherParties: Party[] = [];
  for (let i = 1; i <= size.leechers; i++) leecherParties.push(await ctx.party(`leecher-${i}`));
  await ctx.begin();
  const hub = await SimHub.start(ctx, hubParty, { capacity: CAPACITY });
  const seeders: HubUser[] = [];
  for (const party of seederParties) seeders.push(await openLedger(ctx, party, hub, { capacity: CAPACITY }));
  const leechers: HubUser[] = [];
  for (const party of leecherParties) leechers.push(await openLedger(ctx, party, hub, { deposit: LEDGER_DEPOSIT }));
  const users = [...seeders, ...leechers];
  const sentAtOpen = new Map(users.map((u) => [u.party.name, ctx.sentBy(u.party.name)]));
  ctx.note(
    `${leechers.length} leechers deposited ${formatEther(LEDGER_DEPOSIT)} ETH each; the hub put ${formatEther(CAPACITY)} ETH into each of ${seeders.length} seeders' ledgers`,
  );

  // Roles: the last seeder is paid by the second-to-last leecher alone and vanishes; the last leecher vanishes.
  const vanishingSeeder = seeders[seeders.length - 1];
  const exitingLeecher = leechers[leechers.length - 2];
  const vanishingLeecher = leechers[leechers.length - 1];
  const payable = seeders.slice(0, -1);
  const restartAt = Math.floor(leechers.length / 2);
  const channels: Channel[] = [];
  for (const [i, leecher] of leechers.entries()) {
    const count = 1 + pick(Math.min(3, payable.length));
    const chosen = shuffled(payable, pick).slice(0, leecher === exitingLeecher ? 1 : count);
    for (const [k, seeder] of chosen.entries()) {
      const opened = await proposeVirtual(leecher, seeder, X);
      if (i === restartAt && k === 0) {
        // V0 signed by all three, the payee's signature not yet at the hub: the hub restarts, everyone reconnects.
        await hub.restart();
        for (const user of users) await reconnect(ctx, user, hub);
        ctx.note(`the hub restarted while ${leecher.party.name}'s channel to ${seeder.party.name} was half open`);
      }
      const id = await fundVirtual(leecher, seeder, opened);
      const paid = await payVirtual(leecher, seeder, id, BigInt(1 + pick(20)) * PRICE);
      const channel: Channel = { id, payer: leecher, payee: seeder, paid, end: "closed" };
      channels.push(channel);
      if (leecher === vanishingLeecher) channel.end = "settled";
      else await closeVirtual(leecher, seeder, id, paid);
    }
    if (leecher === exitingLeecher) {
      const opened = await proposeVirtual(leecher, vanishingSeeder, X);
      const id = await fundVirtual(leecher, vanishingSeeder, opened);
      const paid = await payVirtual(leecher, vanishingSeeder, id, BigInt(1 + pick(20)) * PRICE);
      channels.push({ id, payer: leecher, payee: vanishingSeeder, paid, end: "forfeited" });
    }
  }
  const closed = channels.filter((c) => c.end === "closed").length;
  ctx.note(`${channels.length} virtual channels, ${closed} closed cooperatively; no transaction for any of them`);

  await ctx.settling();
  vanishingLeecher.conn.close();
  vanishingSeeder.conn.close();
  ctx.note(
    `${vanishingLeecher.party.name} vanished with its channels paid and open; ${vanishingSeeder.party.name} vanished after being paid`,
  );
  for (const c of channels.filter((x) => x.end === "settled")) {
    await c.payee.conn.settleVirtual(c.id);
  }
  for (const c of channels.filter((x) => x.end === "settled")) {
    await settledIn(c.payee, c.id, "payee");
  }
  ctx.note(`the seeders of ${vanishingLeecher.party.name} settled through the hub on their vouchers, off chain`);
  const cooperative = users.filter((u) => u !== vanishingSeeder && u !== vanishingLeecher && u !== exitingLeecher);
  const offChain = cooperative.map((u) => ctx.sentBy(u.party.name) - (sentAtOpen.get(u.party.name) ?? 0));
  const exits = await startExits([
    { party: exitingLeecher.party, ledger: exitingLeecher.ledger },
    { party: hubParty, ledger: vanishingLeecher.ledger },
    { party: hubParty, ledger: vanishingSeeder.ledger },
  ]);
  const [byLeecher, ...byHub] = await finishExits(ctx, exits);
  ctx.note(
    `on chain: ${exitingLeecher.party.name} exited (${byLeecher.transactions.length} transactions), the hub recovered ${vanishingLeecher.party.name}'s and ${vanishingSeeder.party.name}'s ledgers (${byHub.reduce((a, e) => a + e.transactions.length, 0)})`,
  );
  for (const user of cooperative) await user.conn.withdraw(user.ledger);
  await ctx.settled();
  ctx.note(`the ${cooperative.length} others withdrew their ledgers, one transaction each`);

  // What each party is owed by its vouchers, and what the chain paid it out of the ledgers.
  const ledgers = users.map((u) => u.ledger);
  const paid = await paidOut(ctx, ledgers);
  const sumPaidTo = (party: Party) =>
    [...paid].filter(([key]) => key.endsWith(`:${party.address}`)).reduce((a, [, w]) => a + w, 0n);
  const owed = new Map<string, bigint>();
  const add = (name: string, wei: bigint) => owed.set(name, (owed.get(name) ?? 0n) + wei);
  for (const u of users) add(u.party.name, 0n);
  add("hub", 0n);
  for (const c of channels) {
    if (c.end === "forfeited") continue; // the payee vanished: the payer keeps p, by design
    add(c.payee.party.name, c.paid);
    add(c.payer.party.name, -(c.paid + fee(c.paid)));
    add("hub", fee(c.paid));
  }
  const forfeited = channels.filter((c) => c.end === "forfeited").reduce((a, c) => a + c.paid, 0n);
  const deposits = BigInt(leechers.length) * LEDGER_DEPOSIT + BigInt(seeders.length) * CAPACITY;
  const totalPaid = [...paid.values()].reduce((a, w) => a + w, 0n);
  ctx.check(
    "everything the ledgers paid out (PaidOut) equals what was deposited: no wei created or lost",
    totalPaid === deposits,
    `paid out ${formatEther(totalPaid)} ETH; deposited ${formatEther(deposits)} ETH`,
  );
  const wrong = [...users.map((u) => u.party), hubParty].filter((p) => {
    const deposit = seeders.some((s) => s.party === p)
      ? 0n
      : leechers.some((l) => l.party === p)
        ? LEDGER_DEPOSIT
        : BigInt(seeders.length) * CAPACITY;
    return sumPaidTo(p) - deposit !== owed.get(p.name);
  });
  ctx.check(
    "each party was paid out of the ledgers exactly its vouchers (PaidOut less its deposit)",
    wrong.length === 0,
    wrong.length === 0
      ? `${users.length + 1} parties, each to the wei`
      : wrong.map((p) => `${p.name}: ${sumPaidTo(p)} paid, owed ${owed.get(p.name)}`).join("; "),
  );
  const fees = owed.get("hub") ?? 0n;
  ctx.check(
    "the hub ends up by exactly the fees of the channels that paid",
    fees === channels.filter((c) => c.end !== "forfeited").reduce((a, c) => a + fee(c.paid), 0n),
    `fees ${fees} wei over ${channels.length - channels.filter((c) => c.end === "forfeited").length} channels; the vanished seeder forfeited ${forfeited} wei to its payer, nothing to the hub`,
  );
  const busy = cooperative.filter((_, i) => offChain[i] !== 0);
  ctx.check(
    "no cooperative leecher or seeder sent a transaction between its ledger's opening and its withdrawal",
    busy.length === 0,
    busy.length === 0 ? `${cooperative.length} parties, 0 transactions each` : busy.map((u) => u.party.name).join(", "),
  );
  for (const [name, wei] of owed) ctx.entitled.set(name, wei);
  for (const u of cooperative) ctx.honest.set(u.party.name, { owed: owed.get(u.party.name) ?? 0n, window: 0n });
  ctx.honest.set("hub", { owed: fees, window: 0n });
  ctx.figure("virtual channels", channels.length);
  ctx.figure("closed cooperatively", closed);
  ctx.figure(
    "paid through the hub (wei)",
    channels.reduce((a, c) => a + c.paid, 0n),
  );
  ctx.figure("hub fees (wei)", fees);
  ctx.figure("forfeited by the vanished seeder (wei)", forfeited);
  ctx.figure(
    "exit transactions (leecher, hub)",
    `${byLeecher.transactions.length}, ${byHub.reduce((a, e) => a + e.transactions.length, 0)}`,
  );
}

export const hubCrowd: Scenario = {
  id: "16",
  name: "hub-crowd",
  title: "One hub, 20 leechers, 5 seeders: cooperative closes, a restart, a leecher and a seeder vanishing",
  run: (ctx) => runCrowd(ctx),
};
