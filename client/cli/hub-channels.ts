// `piecepay channels`' rows for a hub's channels (ADR 0021), read from the store alone: a ledger channel [us, hub]
// with the balances of the latest state both signed, and a virtual channel [payer, hub, payee] with what it holds
// and the largest voucher each way. The chain's view of a ledger is added by channels.ts, as for a direct channel.
import { ledgerBalances } from "../../sdk/hub/index.js";
import type { ChannelRecord, ChannelStore, OnChainChannel } from "../../sdk/node.js";

/** A ledger channel with a hub, as `channels --json` prints it (amounts in wei, as decimal strings). */
export interface LedgerRow {
  kind: "ledger";
  id: string;
  chainId: bigint;
  adjudicator: string;
  /** Our address in the ledger (its user). */
  account: string;
  hub: string;
  phase: ChannelRecord["phase"];
  asset: string;
  /** What the ledger held on chain when it opened: our deposit (a leecher's), or the hub's (a seeder's). */
  deposited: bigint;
  /** The hub's deposit at opening (its capacity in a seeder's ledger). */
  hubDeposit: bigint;
  /** From the latest state we and the hub both signed (absent while there is none): our free balance... */
  ourBalance?: bigint;
  /** ...the hub's... */
  hubBalance?: bigint;
  /** ...and what is locked in guarantees for virtual channels, in `guarantees` of them. */
  locked?: bigint;
  guarantees?: number;
  /** A top-up signed and not folded in yet. */
  topUp?: bigint;
  turnNum?: bigint;
  /** With --rpc: the chain's view, or why it could not be read. */
  onChain?: (OnChainChannel & { status: string; paidToUs: bigint; paidToPeer: bigint }) | { error: string };
}

/** A virtual channel through a hub, as `channels --json` prints it. It holds no funds: its ledgers guarantee it. */
export interface VirtualRow {
  kind: "virtual";
  id: string;
  chainId: bigint;
  adjudicator: string;
  account: string;
  role: "payer" | "payee" | "hub";
  hub: string;
  /** The counterparty: the payee for the payer, the payer for the payee (the payer for the hub too). */
  peer: string;
  phase: ChannelRecord["phase"];
  asset: string;
  /** x: what the payer put in, guaranteed by both ledgers. */
  amount: bigint;
  feeBps: bigint;
  /** The largest voucher we signed (payer) or received (payee): a promise, not a payment. */
  vouchers: bigint;
  /** Our ledger that guarantees it (the payer's or the payee's). */
  ledger: string;
  /** Whether our ledger holds its guarantee, and whether the guarantee was settled out of it again. */
  guaranteed: boolean;
  settled: boolean;
}

/** The row of a ledger channel, from the store. */
export async function ledgerRow(store: ChannelStore, record: ChannelRecord): Promise<LedgerRow> {
  const row: LedgerRow = {
    kind: "ledger",
    id: record.id,
    chainId: record.chainId,
    adjudicator: record.adjudicator,
    account: record.fixedPart.participants[record.myIndex],
    hub: record.fixedPart.participants[1 - record.myIndex],
    phase: record.phase,
    asset: record.asset,
    deposited: record.deposited,
    hubDeposit: record.ledger?.hubDeposit ?? 0n,
  };
  const latest = await store.getSupportedState(record.id);
  if (latest === undefined) return row;
  const balances = ledgerBalances(latest.variablePart.outcome);
  // The hub's own store keeps the ledger from the hub's side (myIndex 1): "ours" is then the hub's balance.
  const [ours, hubs] = record.myIndex === 0 ? [balances.user, balances.hub] : [balances.hub, balances.user];
  const locked = [...balances.guarantees.values()].reduce((sum, amount) => sum + amount, 0n);
  return {
    ...row,
    ourBalance: ours,
    hubBalance: hubs,
    locked,
    guarantees: balances.guarantees.size,
    ...(balances.topUp === undefined ? {} : { topUp: balances.topUp.amount }),
    turnNum: latest.variablePart.turnNum,
  };
}

/** The row of a virtual channel, from the store. */
export async function virtualRow(store: ChannelStore, record: ChannelRecord): Promise<VirtualRow> {
  const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
  const [payer, hub, payee] = record.fixedPart.participants;
  const role = record.myIndex === 0 ? "payer" : record.myIndex === 2 ? "payee" : "hub";
  const direction = role === "payer" ? "sent" : "received";
  const side = role === "payee" ? "payee" : "payer";
  return {
    kind: "virtual",
    id: record.id,
    chainId: record.chainId,
    adjudicator: record.adjudicator,
    account: record.fixedPart.participants[record.myIndex],
    role,
    hub,
    peer: role === "payer" ? payee : payer,
    phase: record.phase,
    asset: record.asset,
    amount: info.amount,
    feeBps: info.feeBps,
    vouchers: (await store.getVoucher(direction, record.id))?.amount ?? 0n,
    ledger: role === "payee" ? info.payeeLedger : info.payerLedger,
    guaranteed: info.guaranteed[side],
    settled: info.settled[side],
  };
}
