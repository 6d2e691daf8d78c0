// What a simulation yields: the report of each scenario (balances before and after, every transaction with its gas,
// the time to settle, the invariants checked). Plain data, importing nothing, so that context.ts, invariants.ts and
// the report can all depend on it without a cycle. The scenarios themselves are described in scenario.ts;
// see client/README.md, "Simulations".

/** An honest party's due: what it is owed for what it did, the most it may lose, whether the bound must hold. */
export interface Honest {
  owed: bigint;
  window: bigint;
  expected?: boolean;
}

/** One party's balances: on chain (its wallet) and in the channel (its share of the scenario's channels). */
export interface PartyRow {
  name: string;
  address: string;
  walletBefore: bigint;
  walletAfter: bigint;
  /** walletAfter - walletBefore. */
  change: bigint;
  /** Wei this party spent on gas in the scenario. */
  gas: bigint;
  /** change + gas: what it received (negative: paid) apart from gas. */
  net: bigint;
  /** Its share of the channels by its own store when the settlement began (the incident), and at the end. */
  channelBefore: bigint;
  channelAfter: bigint;
}

export interface ChannelRow {
  id: string;
  /** The channel's challenge duration in seconds (its fixed part, as the parties' stores hold it; 0 if none does). */
  challengeDuration: bigint;
  holdingsBefore: bigint;
  holdingsAfter: bigint;
  /** Wei that came in (deposits) and went out (payouts), from the adjudicator's HoldingsUpdated events. */
  deposited: bigint;
  paidOut: bigint;
  /** Transactions that paid out of it. */
  payouts: number;
}

export interface TransactionRow {
  party: string;
  what: string;
  hash: string;
  block: number;
  gasUsed: bigint;
  /** gasUsed x effective gas price, in wei. */
  cost: bigint;
  /** Whether it reverted (a rejected attempt that was still mined). */
  reverted: boolean;
}

export interface Check {
  name: string;
  holds: boolean;
  /** Whether the scenario expects it to hold: false for a loss the scenario exists to show (no watcher). */
  expected: boolean;
  detail: string;
}

export interface ScenarioReport {
  id: string;
  name: string;
  title: string;
  /** What happened, in order. */
  story: string[];
  parties: PartyRow[];
  channels: ChannelRow[];
  transactions: TransactionRow[];
  settle: { chainSeconds: number; wallSeconds: number };
  figures: Record<string, string>;
  checks: Check[];
  /** Every check came out as expected and nothing threw. */
  passed: boolean;
  error?: string;
}

export interface SimulationReport {
  chain: { chainId: bigint; kind: "embedded" | "rpc"; canMoveTime: boolean; adjudicator: string; voucherApp: string };
  challengeDuration: bigint;
  scenarios: ScenarioReport[];
  passed: boolean;
}
