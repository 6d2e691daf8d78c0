// What the hub scenarios (10 to 16) share: the hub engine run in process on the scenario's chain (its RPC server on
// loopback, its SQLite store in the scenario's directory, its deposits recorded as the hub's transactions), users
// connected through HubConnection, the steps of a virtual channel's life, and the money read back from the chain
// (PaidOut and Reclaimed events). See docs/adr/0021-hub-ledger-and-virtual-channels.md and docs/hub.md.
import { formatEther, getAddress, parseEther } from "ethers";
import {
  type ExitLedgerReturnType,
  exitLedger,
  HubConnection,
  hubFee,
  type ProposalOutcome,
} from "../../../sdk/hub/index.js";
import { channelId, signVoucher, verifyVoucher } from "../../../sdk/index.js";
import { Hub } from "../../hub/hub.js";
import { type RpcHandler, type RpcServer, startRpcServer } from "../../hub/rpc-server.js";
import type { Party, ScenarioContext } from "../context.js";
import { eventually, PRICE, patience } from "./common.js";

/** The hub's fee in basis points of what each payer pays (committed in each virtual channel's nonce). */
export const HUB_FEE_BPS = 25n;
/** What a leecher deposits into its ledger. */
export const LEDGER_DEPOSIT = parseEther("0.01");
/** What the hub deposits into a seeder's ledger. */
export const HUB_CAPACITY = parseEther("0.01");
/** What a leecher puts into one virtual channel (x). */
export const VIRTUAL_AMOUNT = parseEther("0.005");
/** Ten vouchers of PRICE: what the leecher has paid when the incident happens (p). */
export const PAID = 10n * PRICE;

export const fee = (p: bigint) => hubFee(p, HUB_FEE_BPS);

/** The hub engine behind its RPC server; stopped and restarted on the same store (and port) on demand. */
export class SimHub {
  engine!: Hub;
  #server: RpcServer | undefined;
  #port = 0;
  #hostile: Record<string, RpcHandler>;

  private constructor(
    readonly ctx: ScenarioContext,
    readonly party: Party,
    options: { hostile?: Record<string, RpcHandler> },
  ) {
    this.#hostile = options.hostile ?? {};
  }

  /** Starts a hub run by `party` (its client's store is the hub's store). */
  static async start(
    ctx: ScenarioContext,
    party: Party,
    options: { hostile?: Record<string, RpcHandler>; capacity?: bigint } = {},
  ): Promise<SimHub> {
    const hub = new SimHub(ctx, party, options);
    await hub.#run(options.capacity ?? HUB_CAPACITY);
    ctx.cleanup(() => hub.stop());
    return hub;
  }

  #capacity = 0n;

  async #run(capacity: bigint): Promise<void> {
    const { ctx, party } = this;
    const apps = ctx.chain.hubApps;
    if (apps === undefined) throw new Error("this chain's deployment has no LedgerApp and VirtualVoucherApp");
    this.#capacity = capacity;
    const adjudicator = party.client.context.adjudicator;
    this.engine = new Hub({
      signer: party.signer,
      chainId: ctx.chain.chainId,
      adjudicator: ctx.chain.adjudicator,
      ledgerApp: apps.ledgerApp,
      virtualApp: apps.virtualApp,
      feeBps: HUB_FEE_BPS,
      challengeDuration: ctx.challengeDuration,
      maxCapacity: capacity,
      store: party.client.store,
      chain: {
        holdings: (asset, id) => adjudicator.holdings(asset, id),
        deposit: async (asset, id, expectedHeld, amount) => {
          const hash = await ctx.record(party.name, "ledger deposit", () =>
            adjudicator.deposit(asset, id, expectedHeld, amount, { value: amount }),
          );
          const receipt = await ctx.chain.provider.getTransactionReceipt(hash);
          if (receipt?.status !== 1) throw new Error(`the hub's deposit into ${id} reverted`);
        },
      },
    });
    await this.engine.start();
    this.#server = await startRpcServer({
      host: "127.0.0.1",
      port: this.#port,
      handlers: { ...this.engine.handlers(), ...this.#hostile },
      onClose: (connection) => this.engine.disconnected(connection),
    });
    this.#port = this.#server.port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  /** The hub vanishes: its server closes every connection and answers nothing more. */
  async stop(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
  }

  /**
   * A restart: the server closed, the engine discarded, then a new engine on a new handle of the same store file
   * (as a new process would open it), resuming what its store says is due, on the same port.
   */
  async restart(): Promise<void> {
    await this.stop();
    const path = (this.party.client.store as { path?: string }).path;
    if (path === undefined) throw new Error("the hub's store has no file");
    this.party.client = await this.ctx.client(this.party.signer, this.party.name, { store: path });
    await this.#run(this.#capacity);
  }
}

/** A user's connection to the hub; the proposals it answered are collected. */
export interface HubUser {
  party: Party;
  conn: HubConnection;
  outcomes: ProposalOutcome[];
  ledger: string;
}

/** Connects `party` to `hub` through HubConnection (closed when the scenario ends). */
export async function connect(ctx: ScenarioContext, party: Party, hub: SimHub): Promise<HubConnection> {
  const conn = await HubConnection.connect(party.client.context, hub.url);
  ctx.cleanup(() => conn.close());
  return conn;
}

/** `party` opens a ledger: a payer deposits `deposit`; a payee's ledger gets the hub's capacity. */
export async function openLedger(
  ctx: ScenarioContext,
  party: Party,
  hub: SimHub,
  role: { deposit: bigint } | { capacity: bigint },
): Promise<HubUser> {
  const conn = await connect(ctx, party, hub);
  const outcomes: ProposalOutcome[] = [];
  conn.onProposal = (o) => outcomes.push(o);
  const { ledgerId } = await conn.openLedger(role);
  ctx.track(ledgerId);
  return { party, conn, outcomes, ledger: ledgerId.toLowerCase() };
}

/** After a hub restart (or a reconnect): a new connection for `user`, proposals still collected. */
export async function reconnect(ctx: ScenarioContext, user: HubUser, hub: SimHub): Promise<void> {
  user.conn.close();
  user.conn = await connect(ctx, user.party, hub);
  user.conn.onProposal = (o) => user.outcomes.push(o);
}

/** V [payer, hub, payee] proposed by the payer and joined by the payee (V0 signed by all three, not funded yet). */
export async function proposeVirtual(payer: HubUser, payee: HubUser, amount = VIRTUAL_AMOUNT) {
  const proposal = await payer.conn.proposeVirtual({
    payee: payee.party.address,
    payerLedger: payer.ledger,
    payeeLedger: payee.ledger,
    amount,
  });
  const payeeSignature = await payee.conn.joinVirtual(proposal); // over the wire (vpropose / vaccept)
  const ctx = payer.conn.context;
  const id = channelId(ctx.chainId, ctx.adjudicator.target as string, proposal.fixedPart).toLowerCase();
  return { proposal, payeeSignature, id };
}

/** The payer funds V: its guarantee, then the hub's in the payee's ledger; resolves once both are countersigned. */
export async function fundVirtual(
  payer: HubUser,
  payee: HubUser,
  opened: Awaited<ReturnType<typeof proposeVirtual>>,
): Promise<string> {
  await payer.conn.fundVirtual(opened.proposal, opened.payeeSignature);
  await eventually(
    async () => (await payee.party.client.store.getChannel(opened.id))?.virtual?.guaranteed.payee === true,
    `the hub's guarantee for ${opened.id} in the payee's ledger`,
  );
  await payee.conn.settled();
  return opened.id;
}

/** Opens and funds V from `payer` to `payee` holding `amount`. */
export async function openVirtual(payer: HubUser, payee: HubUser, amount = VIRTUAL_AMOUNT): Promise<string> {
  return fundVirtual(payer, payee, await proposeVirtual(payer, payee, amount));
}

/**
 * The payer pays up to `total` on V in vouchers of `step`, each checked by the payee (signed by the payer, for V,
 * within x with the hub's fee) and stored on both sides, as the paid wire session keeps them.
 */
export async function payVirtual(
  payer: HubUser,
  payee: HubUser,
  id: string,
  total: bigint,
  step = PRICE,
): Promise<bigint> {
  const record = await payee.party.client.store.getChannel(id);
  const x = record?.virtual?.amount ?? 0n;
  let paid = (await payer.party.client.store.getVoucher("sent", id))?.amount ?? 0n;
  while (paid < total) {
    const next = paid + step > total ? total : paid + step;
    const voucher = await signVoucher(payer.party.signer, id, next);
    await payer.party.client.store.putVoucher("sent", voucher);
    const best = (await payee.party.client.store.getVoucher("received", id))?.amount ?? 0n;
    verifyVoucher(voucher, { channelId: id, payer: payer.party.address, deposited: x, best });
    if (next + fee(next) > x) throw new Error(`a voucher of ${next} with its fee is above x = ${x}`);
    await payee.party.client.store.putVoucher("received", voucher);
    paid = next;
  }
  return paid;
}

/** Closes V cooperatively at `paid`: V_F signed by both, countersigned by the hub, both ledgers settled off chain. */
export async function closeVirtual(payer: HubUser, payee: HubUser, id: string, paid: bigint): Promise<void> {
  const byPayer = await payer.conn.finalState(id, paid); // sent to the payee over the wire (vclose)
  const byPayee = await payee.conn.finalState(id, paid);
  await payee.conn.closeVirtual(id, byPayee.state, byPayer.signature, byPayee.signature);
  await settledIn(payee, id, "payee");
  await settledIn(payer, id, "payer");
}

/** Waits until `user` has countersigned the settlement of V in its ledger. */
export async function settledIn(user: HubUser, id: string, side: "payer" | "payee"): Promise<void> {
  await eventually(
    async () => (await user.party.client.store.getChannel(id))?.virtual?.settled[side] === true,
    `${user.party.name}'s ledger settled for ${id}`,
  );
  await user.conn.settled();
}

/** Exits under way: each resolves once its challenges are mined, with the time the last of them finalizes. */
export interface Exits {
  exits: Promise<ExitLedgerReturnType>[];
  finalizesAt: bigint;
}

/** Starts `exitLedger` for each of `exits`; resolves once all their challenges are mined (nothing waited out yet). */
export async function startExits(exits: { party: Party; ledger: string }[]): Promise<Exits> {
  const started: Promise<ExitLedgerReturnType>[] = [];
  let finalizesAt = 0n;
  for (const { party, ledger } of exits) {
    let waiting: (at: bigint) => void = () => {};
    const deadline = new Promise<bigint>((resolve) => {
      waiting = resolve;
    });
    const exit = exitLedger(party.client.context, ledger, { onWaiting: (at) => waiting(at) });
    exit.catch(() => {}); // awaited by finishExits; a scenario that throws first must not leave it unhandled
    started.push(exit);
    const at = await Promise.race([deadline, exit.then(() => 0n)]);
    if (at > finalizesAt) finalizesAt = at;
  }
  return { exits: started, finalizesAt };
}

/** Lets the chain's time run past the exits' deadline (moved where it can be, else waited) and awaits them. */
export async function finishExits(ctx: ScenarioContext, exits: Exits): Promise<ExitLedgerReturnType[]> {
  await ctx.chain.advanceTo(exits.finalizesAt + 1n);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the exits did not end")), patience(ctx));
  });
  try {
    return await Promise.race([Promise.all(exits.exits), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** startExits, then finishExits. */
export async function exitTogether(
  ctx: ScenarioContext,
  exits: { party: Party; ledger: string }[],
): Promise<ExitLedgerReturnType[]> {
  return finishExits(ctx, await startExits(exits));
}

/** Sum of PaidOut per `ledger:address` over `ids`, read from the chain. */
export async function paidOut(ctx: ScenarioContext, ids: string[]): Promise<Map<string, bigint>> {
  const adjudicator = ctx.parties[0].client.adjudicator;
  const paid = new Map<string, bigint>();
  for (const id of ids) {
    for (const log of await adjudicator.queryFilter(adjudicator.filters.PaidOut(id))) {
      const key = `${id.toLowerCase()}:${getAddress(`0x${log.args.destination.slice(26)}`)}`;
      paid.set(key, (paid.get(key) ?? 0n) + log.args.amount);
    }
  }
  return paid;
}

/** Checks that the chain paid exactly `expected` (`ledger:address` -> wei, zeros omitted) out of `ids`. */
export async function checkPaidOut(
  ctx: ScenarioContext,
  ids: string[],
  expected: [string, string, bigint][],
): Promise<void> {
  const paid = await paidOut(ctx, ids);
  const wanted = new Map(
    expected.filter(([, , w]) => w > 0n).map(([id, a, w]) => [`${id.toLowerCase()}:${getAddress(a)}`, w]),
  );
  const holds = paid.size === wanted.size && [...wanted].every(([k, w]) => paid.get(k) === w);
  const name = (key: string) => {
    const [id, address] = key.split(":");
    const who = ctx.parties.find((p) => p.address === address)?.name ?? address;
    return `${who} from ${id.slice(0, 10)}`;
  };
  ctx.check(
    "the ledgers paid each party exactly its entitlement (PaidOut events)",
    holds,
    [...paid].map(([k, w]) => `${name(k)}: ${w} (expected ${wanted.get(k) ?? 0n})`).join("; "),
  );
}

/** The Reclaimed events of V, by ledger: what each ledger's user and hub gained. */
export async function reclaims(
  ctx: ScenarioContext,
  v: string,
): Promise<Map<string, { toUser: bigint; toHub: bigint }>> {
  const adjudicator = ctx.parties[0].client.adjudicator;
  const found = new Map<string, { toUser: bigint; toHub: bigint }>();
  for (const log of await adjudicator.queryFilter(adjudicator.filters.Reclaimed(undefined, v))) {
    found.set(log.args.ledgerId.toLowerCase(), { toUser: log.args.toUser, toHub: log.args.toHub });
  }
  return found;
}

/** The turn numbers registered on `id`, in order (ChallengeRegistered). */
export async function registeredTurns(ctx: ScenarioContext, id: string): Promise<bigint[]> {
  const adjudicator = ctx.parties[0].client.adjudicator;
  return (await adjudicator.queryFilter(adjudicator.filters.ChallengeRegistered(id))).map((e) => e.args.turnNum);
}

/**
 * The story most hub scenarios start from: a hub, a leecher and a seeder; the leecher's ledger holding
 * LEDGER_DEPOSIT, the seeder's the hub's HUB_CAPACITY; V funded with VIRTUAL_AMOUNT in both; ten vouchers (PAID).
 */
export async function paidVirtual(ctx: ScenarioContext, options: { hostile?: Record<string, RpcHandler> } = {}) {
  const hubParty = await ctx.party("hub");
  const leecherParty = await ctx.party("leecher");
  const seederParty = await ctx.party("seeder");
  await ctx.begin();
  const hub = await SimHub.start(ctx, hubParty, options);
  const leecher = await openLedger(ctx, leecherParty, hub, { deposit: LEDGER_DEPOSIT });
  const seeder = await openLedger(ctx, seederParty, hub, { capacity: HUB_CAPACITY });
  const sent = { leecher: ctx.sentBy("leecher"), seeder: ctx.sentBy("seeder") };
  const v = await openVirtual(leecher, seeder);
  const paid = await payVirtual(leecher, seeder, v, PAID);
  ctx.note(
    `ledgers open: the leecher's with ${formatEther(LEDGER_DEPOSIT)} ETH, the seeder's with the hub's ${formatEther(HUB_CAPACITY)} ETH; V funded with ${formatEther(VIRTUAL_AMOUNT)} ETH in both; ten vouchers: ${formatEther(paid)} ETH`,
  );
  return { hub, hubParty, leecher, seeder, v, paid, sent };
}

/** The usual entitlements when the seeder is paid p: the seeder p, the leecher -(p + fee(p)), the hub fee(p). */
export function entitledPaid(ctx: ScenarioContext, p: bigint): void {
  ctx.entitled.set("seeder", p);
  ctx.entitled.set("leecher", -(p + fee(p)));
  ctx.entitled.set("hub", fee(p));
}
