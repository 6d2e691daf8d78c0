import type { FixedPart, Outcome, SignedVariablePart, VariablePart } from "../types.js";
import type { Voucher } from "../voucher.js";

/**
 * Where a channel is in its life, as far as this side knows. `funding`: the payer is sending (or sent) its deposit
 * and has not seen it confirmed; the row is written before the transaction is broadcast, so that a deposit we sent
 * is never unknown to the store (`PiecepayClient.recoverFunding` reads the chain to settle it).
 */
export type ChannelPhase = "proposed" | "funding" | "open" | "closing" | "challenged" | "finalized" | "withdrawn";

/** What we know about one channel of ours. */
export interface ChannelRecord {
  id: string;
  chainId: bigint;
  adjudicator: string;
  fixedPart: FixedPart;
  /** Our index in `fixedPart.participants`. */
  myIndex: number;
  /** The asset the channel is funded in (zero address for ETH). */
  asset: string;
  /** What the payer deposited, as far as we saw on chain. */
  deposited: bigint;
  phase: ChannelPhase;
  /** Free-form label for the counterparty (a peer id, a URL); never a key. */
  peer?: string;
  /**
   * The payer's deposit in flight, written before it is broadcast: the amount it sends, and the transaction's hash
   * once the node took it. Kept after the deposit is confirmed.
   */
  funding?: { amount: bigint; txHash?: string };
  /**
   * What the channel pays for, as its user tagged it: e.g. the torrent client's info hash (lowercase hex) and price
   * per piece, so that a later run continues this channel with the same payee instead of depositing again.
   */
  torrent?: string;
  pricePerPiece?: bigint;
  /** A payee's note of the pieces it served on the channel before its peer left (to continue it after a restart). */
  servedPieces?: number[];
  /** The final states we signed to close the channel (to pay out after a plain `conclude`). */
  finalStates?: VariablePart[];
  /**
   * The funding state's allocation destinations (32 bytes, lowercase), in participant order: where the channel pays
   * each side (the payer's wallet, the payee's payout address). Absent in records written before wallets and
   * session keys were apart, whose destinations were the participants themselves.
   */
  destinations?: string[];
  /** Set for a ledger channel with a hub. */
  ledger?: LedgerInfo;
  /** Set for a virtual channel through a hub. */
  virtual?: VirtualInfo;
}

/**
 * A ledger channel's side of the hub protocol (ADR 0021): the state this side signed that the other has not
 * countersigned yet (at most one per ledger; it is treated as possibly complete, so the next proposal builds on its
 * turn), and what the hub deposits at opening.
 */
export interface LedgerInfo {
  /** The hub's own deposit in the funding state (capacity in a payee's ledger; 0 in a payer's). */
  hubDeposit: bigint;
  /**
   * The proposal awaiting its countersignature: the state, our signature, why (`fund <V>`, `settle <V>`, `close`),
   * and for a settlement the virtual channel's outcome it follows.
   */
  pending?: { state: VariablePart; signature: string; purpose: string; virtualOutcome?: Outcome };
}

/** A virtual channel `[payer, hub, payee]` as a hub or one of its users knows it. */
export interface VirtualInfo {
  /** The ledgers `[payer, hub]` and `[payee, hub]` that guarantee it. */
  payerLedger: string;
  payeeLedger: string;
  /** x: what the payer put in. */
  amount: bigint;
  feeBps: bigint;
  /** V0, with the signatures gathered so far (all three once supported). */
  v0: SignedVariablePart;
  /** Guarantees countersigned into each ledger. */
  guaranteed: { payer: boolean; payee: boolean };
  /** V_F, once the channel is closed cooperatively: signed by payer and payee, then by the hub too. */
  final?: SignedVariablePart;
  /** The payee's largest voucher state on V0 (V_p), when it settled without the payer. */
  voucherState?: SignedVariablePart;
  /** Guarantees settled out of each ledger. */
  settled: { payer: boolean; payee: boolean };
}

/** Which way a voucher went: one we signed and sent, or one we received. */
export type VoucherDirection = "sent" | "received";

/**
 * The SDK's memory: channels, their latest supported state, the largest voucher each way, and the watcher's
 * progress. Every method is asynchronous, so that a browser store (IndexedDB) can implement it. A durable store's
 * write is on disk when its promise resolves, so that a payee can persist a voucher before it acknowledges it.
 * Every check-then-write (`putVoucher`, `putSupportedState`, `updateChannel`, `forgetUnfunded`, `markEventHandled`)
 * is atomic inside the store: callers never read, await, then write. Calls take effect in the order they are made.
 * Implementations: `SqliteChannelStore` (Node), `MemoryChannelStore` (tests and ephemeral use; not durable).
 * test/ts/sdk/store-conformance.ts holds the cases every implementation must pass.
 */
export interface ChannelStore {
  /** Inserts or replaces a channel's record. */
  putChannel(record: ChannelRecord): Promise<void>;
  getChannel(id: string): Promise<ChannelRecord | undefined>;
  /** Every channel, least recently written first. */
  listChannels(): Promise<ChannelRecord[]>;
  /**
   * Reads channel `id`, applies `update` and writes what it returns, atomically (also across processes sharing the
   * store): no other write to the channel lands between the read and the write. `update` is synchronous and
   * returns undefined to write nothing. Resolves to the record now stored (undefined when there is none).
   */
  updateChannel(
    id: string,
    update: (record: ChannelRecord) => ChannelRecord | undefined,
  ): Promise<ChannelRecord | undefined>;
  /** Moves a channel to `phase`. Rejects when the channel is unknown. */
  setPhase(id: string, phase: ChannelPhase): Promise<void>;
  /**
   * Deletes a channel that never received a deposit, with its funding state: only while its phase is `proposed`,
   * nothing is recorded as deposited and it holds no voucher either way, checked in the same transaction as the
   * delete. Resolves to whether it was deleted. A payee calls it for a proposal whose funding timed out or whose
   * peer left before funding, so unfunded proposals leave no rows behind.
   */
  forgetUnfunded(id: string): Promise<boolean>;

  /** Keeps `state` if its turn number is above the stored one, atomically; resolves to whether it was kept. */
  putSupportedState(id: string, state: SignedVariablePart): Promise<boolean>;
  getSupportedState(id: string): Promise<SignedVariablePart | undefined>;

  /**
   * Keeps `voucher` if its amount is above the largest stored for that channel and direction, atomically (also
   * across processes sharing the store); resolves to whether it was kept (false: a replay or an older voucher,
   * nothing to credit) and the largest amount stored before (0 if none), so that the credit is `amount - previous`.
   * A durable store resolves only once a received voucher is on disk.
   */
  putVoucher(direction: VoucherDirection, voucher: Voucher): Promise<{ kept: boolean; previous: bigint }>;
  getVoucher(direction: VoucherDirection, id: string): Promise<Voucher | undefined>;

  /** The next block the watcher has not yet scanned, by name; undefined before its first scan. */
  getCursor(name: string): Promise<bigint | undefined>;
  setCursor(name: string, block: bigint): Promise<void>;
  /** Marks an event as handled, atomically; resolves to false when it was already handled (a replayed log). */
  markEventHandled(key: string): Promise<boolean>;
  /** Whether `markEventHandled(key)` was called. */
  hasHandledEvent(key: string): Promise<boolean>;

  /** A small secret kept under `name` (e.g. the session key made by `sessionKey`); undefined when none is. */
  getSecret(name: string): Promise<string | undefined>;
  /**
   * Keeps `value` under `name` unless a secret is already stored there, atomically (also across tabs or processes
   * sharing the store); resolves to the secret now stored, so that two racing writers end up with the same one.
   */
  keepSecret(name: string, value: string): Promise<string>;

  close(): Promise<void>;
}
