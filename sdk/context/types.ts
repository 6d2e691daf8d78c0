// The shape of a context, apart from how one is made (context.ts), so that what a context holds can import it.
import type { Provider, Signer } from "ethers";
import type { Adjudicator, ILedgerApp, IVirtualVoucherApp, VoucherPaymentApp } from "../../typechain-types/index.js";
import type { FundingPoller } from "../funding.js";
import type { ChannelStore } from "../store/types.js";
import type { ChainGuard } from "./chain-guard.js";
import type { ChannelLocks } from "./locks.js";
import type { TransactionQueue } from "./transaction-queue.js";

/** Settings of a `PiecepayContext` (and of a `PiecepayClient`, which binds one). */
export interface PiecepayContextOptions {
  /**
   * The channel's participant: signs states and vouchers. With a `wallet`, a session key (`sessionKey(store)`)
   * that holds no ETH and needs no provider; without one, our account, connected to a provider.
   */
  signer: Signer;
  /**
   * The account that sends every transaction (approve, deposit, close, challenge, checkpoint, respond, payout) and
   * to which the channel pays out and refunds: any ethers Signer connected to a provider, e.g. an EIP-1193 wallet
   * through `walletFromEip1193`. Reads go through its provider too. Default: `signer`.
   */
  wallet?: Signer;
  /** The chain we mean to be on: nothing is signed or sent anywhere else. */
  chainId: bigint;
  /** The adjudicator's address (from deployments/<chainId>.json). */
  adjudicator: string;
  /** The voucher payment app's address. */
  voucherApp: string;
  /**
   * The hub's ledger app's address (`LedgerApp` in deployments/<chainId>.json; ADR 0021): the app of ledger channels.
   * Only the hub's actions need it, and refuse with NOT_DEPLOYED without it; when given, it must have code.
   */
  ledgerApp?: string;
  /** The hub's virtual voucher app's address (`VirtualVoucherApp`): the app of virtual channels; as `ledgerApp`. */
  virtualApp?: string;
  store: ChannelStore;
  /**
   * Blocks a transaction or a deposit must be buried under before it counts as done (default: `defaultConfirmations`
   * of the chain: 1 on a local development chain, 5 on a public testnet, 12 on mainnet and any other chain).
   */
  confirmations?: number;
  /** How often the watcher polls, in ms (default 4,000). */
  pollingIntervalMs?: number;
  /** The chain's block time in seconds, to turn confirmations into time (default 12). */
  blockTimeSeconds?: number;
  /**
   * How old a chain id check may be before `pay` (which sends nothing) starts a new one in the background
   * (default 30,000 ms). Every other action checks when it starts.
   */
  chainCheckIntervalMs?: number;
  /** Time kept in hand beyond polling and confirmations to get an answer mined (default 60 s). */
  safetyMarginSeconds?: number;
  /** Receives what the actions do (never keys or signatures of keys). */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** The timing a context works to, defaults filled in. */
export interface PiecepayTiming {
  pollingIntervalMs: number;
  blockTimeSeconds: number;
  chainCheckIntervalMs: number;
  safetyMarginSeconds: number;
}

/** What every action takes first. Make one with `createPiecepayContext`; `PiecepayClient.context` is one. */
export interface PiecepayContext {
  /** Signs states and vouchers: the channel's participant. */
  readonly signer: Signer;
  /** Sends our transactions and receives our payouts (the signer when no wallet was given). */
  readonly wallet: Signer;
  /** Whether a wallet apart from the signer was given. */
  readonly hasWallet: boolean;
  /** Our participant's address (the signer's). */
  readonly address: string;
  /** The wallet's address: the sender of our transactions, where our payouts and refunds go. */
  readonly walletAddress: string;
  readonly chainId: bigint;
  readonly confirmations: number;
  readonly adjudicator: Adjudicator;
  readonly voucherApp: VoucherPaymentApp;
  /**
   * The hub's ledger app, when its address was given (`hubApps(context)` demands both apps). Typed by its interface,
   * whose factory carries no bytecode: the address (`target`) and the app's custom errors.
   */
  readonly ledgerApp?: ILedgerApp;
  /** The hub's virtual voucher app, when its address was given; typed as `ledgerApp`. */
  readonly virtualApp?: IVirtualVoucherApp;
  readonly store: ChannelStore;
  readonly timing: Readonly<PiecepayTiming>;
  log(event: string, fields: Record<string, unknown>): void;
  /** The wallet's provider: every read and every transaction go through it (NO_PROVIDER without one). */
  provider(): Provider;
  readonly chain: ChainGuard;
  readonly locks: ChannelLocks;
  readonly transactions: TransactionQueue;
  readonly funding: FundingPoller;
  /** Set on the context that an action passes down once it checked the chain: what it calls does not check again. */
  readonly chainChecked?: true;
}
