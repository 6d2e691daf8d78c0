// The paid extension's messages, as values. Their byte layout lives in codec.ts and PROTOCOL.md; the session state
// machines (client/session/) only ever see these decoded values.
import type { FixedPart, Voucher } from "../../sdk/index.js";

/** The wire protocol version this client speaks (first byte of every message). */
export const PROTOCOL_VERSION = 2;
/** The BEP 10 extension name. */
export const EXTENSION_NAME = "piecepay";
/** No message of ours is longer than this; a longer one is malformed and its sender dropped. */
export const MAX_MESSAGE_BYTES = 512;

/** What a peer advertises in the extended handshake under the `piecepay` key. */
export interface PaidHandshake {
  version: number;
  chainId: bigint;
  adjudicator: string;
  /**
   * Set by a seeder that charges: its participant (`payee`), where the channel pays it (`payTo`, its wallet; absent:
   * the payee itself), in which asset, how much per piece.
   */
  offer?: { payee: string; payTo?: string; asset: string; pricePerPiece: bigint; hubs?: HubRoute[] };
  /** Set by a leecher willing to pay: its payer address. */
  payer?: string;
}

/**
 * A hub through which a seeder accepts payment: the hub's address and the seeder's ledger channel with it, which
 * guarantees the seeder's side of each virtual channel (ADR 0021).
 */
export interface HubRoute {
  hub: string;
  ledger: string;
}

/** The most hubs one offer names: each takes 52 bytes, and the fullest handshake stays within its 512 bytes. */
export const MAX_OFFER_HUBS = 3;

/** Leecher -> seeder: a channel to open (the funding state is rebuilt from these fields). */
export interface ProposeMessage {
  type: "propose";
  chainId: bigint;
  adjudicator: string;
  fixedPart: FixedPart;
  asset: string;
  deposit: bigint;
  /** Where the funding state refunds the payer: its wallet. */
  payerDestination: string;
  /** Where it pays the payee: the seeder's `payTo` (or its payee). */
  payeeDestination: string;
  payerSignature: string;
}

/** Seeder -> leecher: the funding state countersigned. */
export interface AcceptMessage {
  type: "accept";
  channelId: string;
  payeeSignature: string;
}

/** Leecher -> seeder: a cumulative payment. */
export interface VoucherMessage {
  type: "voucher";
  voucher: Voucher;
}

/** Seeder -> leecher: the voucher of `amount` is on the seeder's disk and counted. */
export interface ReceiptMessage {
  type: "receipt";
  channelId: string;
  amount: bigint;
}

/** Either way: a signed final state splitting the deposit, `paid` to the payee. */
export interface CloseMessage {
  type: "close";
  channelId: string;
  turnNum: bigint;
  paid: bigint;
  /** The voucher the final state carries in its appData (amount 0 and no signature: empty appData). */
  voucher?: { amount: bigint; signature: string };
  signature: string;
}

/** Either way: a notice; `code` says what (see NoticeCode). */
export interface NoticeMessage {
  type: "notice";
  code: NoticeCode;
  reason: string;
}

/**
 * Leecher -> seeder: continue our open channel `voucher.channelId` on this connection (we reconnected, or were
 * restarted) instead of opening a new one. `voucher` is the largest we signed on it, signed by the payer; amount 0
 * with an all-zero signature when we signed none yet.
 */
export interface ResumeMessage {
  type: "resume";
  voucher: Voucher;
}

/**
 * Seeder -> leecher: the channel continues. `amount` is the largest voucher we hold on it, `served` the pieces we
 * delivered on it before that the leecher has (so both count the same pieces as paid for).
 */
export interface ResumedMessage {
  type: "resumed";
  channelId: string;
  amount: bigint;
  served: bigint;
}

/**
 * Leecher -> seeder: a virtual channel [payer, hub, payee] through one of the seeder's hubs, holding `amount` of the
 * payer's ledger (V0, turn 0, [amount, 0, 0]), signed by the payer and the hub. The fee is in the channel nonce.
 */
export interface VirtualProposeMessage {
  type: "vpropose";
  fixedPart: FixedPart;
  asset: string;
  amount: bigint;
  payerLedger: string;
  payeeLedger: string;
  payerSignature: string;
  hubSignature: string;
}

/** Seeder -> leecher: V0 signed by the payee too; the leecher now has the hub fund both guarantees. */
export interface VirtualAcceptMessage {
  type: "vaccept";
  channelId: string;
  payeeSignature: string;
}

/** Seeder -> leecher: the hub's guarantee in the seeder's ledger is countersigned; vouchers count from now. */
export interface VirtualReadyMessage {
  type: "vready";
  channelId: string;
}

/** Leecher -> seeder: the payer's signature of V's final state paying `paid` (and the hub's fee on it). */
export interface VirtualCloseMessage {
  type: "vclose";
  channelId: string;
  paid: bigint;
  signature: string;
}

/** Seeder -> leecher: the payee's signature of that final state; the hub has countersigned it and settles both ledgers. */
export interface VirtualClosedMessage {
  type: "vclosed";
  channelId: string;
  payeeSignature: string;
}

export type NoticeCode = "refused" | "closed" | "bye";

export type PaidMessage =
  | ProposeMessage
  | AcceptMessage
  | VoucherMessage
  | ReceiptMessage
  | CloseMessage
  | NoticeMessage
  | ResumeMessage
  | ResumedMessage
  | VirtualProposeMessage
  | VirtualAcceptMessage
  | VirtualReadyMessage
  | VirtualCloseMessage
  | VirtualClosedMessage;
