// `PiecepayClient`: the SDK's actions (sdk/actions/) bound to one context, as methods with the signatures they have
// always had. Each method is one action; the context holds what they share.
import type { TransactionReceipt } from "ethers";
import type { Adjudicator, VoucherPaymentApp } from "../typechain-types/index.js";
import { answer } from "./actions/answer.js";
import { bestState } from "./actions/best-state.js";
import { canPayGas } from "./actions/can-pay-gas.js";
import { challenge } from "./actions/challenge.js";
import { checkFundingNow } from "./actions/check-funding-now.js";
import { checkpoint } from "./actions/checkpoint.js";
import { close } from "./actions/close.js";
import { countersign } from "./actions/countersign.js";
import { defend } from "./actions/defend.js";
import { followDeposit } from "./actions/follow-deposit.js";
import { fund } from "./actions/fund.js";
import type { CloseOffer } from "./actions/internal/close-offer.js";
import { type ChannelAcceptance, join } from "./actions/join.js";
import { minChallengeDuration } from "./actions/min-challenge-duration.js";
import { offerClose } from "./actions/offer-close.js";
import { type OnChainChannel, onChain } from "./actions/on-chain.js";
import { open } from "./actions/open.js";
import { paid } from "./actions/paid.js";
import { pay } from "./actions/pay.js";
import { payout } from "./actions/payout.js";
import { type ChannelProposal, type ProposeParameters, propose } from "./actions/propose.js";
import { receive } from "./actions/receive.js";
import { recoverFunding } from "./actions/recover-funding.js";
import { redeem } from "./actions/redeem.js";
import { registeredState } from "./actions/registered-state.js";
import { registration } from "./actions/registration.js";
import { respond } from "./actions/respond.js";
import { settlement } from "./actions/settlement.js";
import { settlementIn } from "./actions/settlement-in.js";
import { syncPhase } from "./actions/sync-phase.js";
import { waitForFunding } from "./actions/wait-for-funding.js";
import { createPiecepayContext, type PiecepayContext, type PiecepayContextOptions } from "./context/context.js";
import type { RegisteredState } from "./registration.js";
import type { Settlement } from "./settlement.js";
import type { ChannelRecord, ChannelStore } from "./store/types.js";
import type { SignedVariablePart, VariablePart } from "./types.js";
import type { VerifiedVoucher, Voucher } from "./voucher.js";

export { fundingState, splitOutcome } from "./states.js";
export type { ChannelAcceptance, ChannelProposal, CloseOffer, OnChainChannel };

/** Settings of a `PiecepayClient`: those of its context. */
export type PiecepayClientOptions = PiecepayContextOptions;

/**
 * Opens, pays, closes, disputes and pays out voucher channels on the piecepay adjudicator, keeping every channel,
 * its latest supported state and the largest voucher each way in a durable `ChannelStore`. Each method runs the
 * action of the same name (`piecepay/sdk/actions`) with the client's `context`.
 * @example
 * const client = await PiecepayClient.create({ signer, chainId: 31337n, adjudicator, voucherApp, store })
 * const proposal = await client.propose({ payee, deposit: parseEther("0.1") })
 */
export class PiecepayClient {
  /** What the client's actions run against: pass it to any action of `piecepay/sdk/actions`. */
  readonly context: PiecepayContext;

  private constructor(context: PiecepayContext) {
    this.context = context;
  }

  /**
   * Connects a client after checking the chain id (the wallet's) and that the contracts are deployed there.
   * @throws PiecepayError WRONG_CHAIN (a `WrongChainError`), NO_PROVIDER, NOT_DEPLOYED or USER_REJECTED
   * @example const client = await PiecepayClient.create({ signer, chainId: 31337n, adjudicator, voucherApp, store })
   */
  static async create(options: PiecepayClientOptions): Promise<PiecepayClient> {
    return new PiecepayClient(await createPiecepayContext(options));
  }

  get adjudicator(): Adjudicator {
    return this.context.adjudicator;
  }

  get voucherApp(): VoucherPaymentApp {
    return this.context.voucherApp;
  }

  /** Our participant's address (the signer's). */
  get address(): string {
    return this.context.address;
  }

  /** The wallet's address: the sender of our transactions, where our payouts and refunds go. */
  get walletAddress(): string {
    return this.context.walletAddress;
  }

  /** The chain this client signs and sends for. */
  get chainId(): bigint {
    return this.context.chainId;
  }

  get confirmations(): number {
    return this.context.confirmations;
  }

  get store(): ChannelStore {
    return this.context.store;
  }

  /** See the `minChallengeDuration` action. */
  minChallengeDuration(): bigint {
    return minChallengeDuration(this.context);
  }

  /** See the `propose` action. */
  propose(params: ProposeParameters): Promise<ChannelProposal> {
    return propose(this.context, params);
  }

  /** See the `join` action. */
  join(proposal: ChannelProposal, options: { peer?: string; assets?: string[] } = {}): Promise<ChannelAcceptance> {
    return join(this.context, { proposal, ...options });
  }

  /** See the `fund` action. */
  fund(proposal: ChannelProposal, acceptance: ChannelAcceptance): Promise<ChannelRecord> {
    return fund(this.context, { proposal, acceptance });
  }

  /** See the `open` action. */
  open(
    params: ProposeParameters,
    ask: (proposal: ChannelProposal) => Promise<ChannelAcceptance>,
  ): Promise<ChannelRecord> {
    return open(this.context, { ...params, ask });
  }

  /** See the `recoverFunding` action. */
  recoverFunding(id: string): Promise<ChannelRecord | undefined> {
    return recoverFunding(this.context, { channelId: id });
  }

  /** See the `waitForFunding` action. */
  waitForFunding(
    id: string,
    options: { timeoutMs?: number; signal?: AbortSignal; confirmations?: number } = {},
  ): Promise<ChannelRecord> {
    return waitForFunding(this.context, { channelId: id, ...options });
  }

  /** See the `followDeposit` action. */
  followDeposit(id: string, options: { signal?: AbortSignal } = {}): Promise<"final" | "disputed"> {
    return followDeposit(this.context, { channelId: id, ...options });
  }

  /** See the `checkFundingNow` action. */
  checkFundingNow(_id?: string): void {
    checkFundingNow(this.context);
  }

  /** See the `pay` action. */
  pay(id: string, amount: bigint): Promise<Voucher> {
    return pay(this.context, { channelId: id, amount });
  }

  /** See the `receive` action. */
  receive(voucher: Voucher): Promise<VerifiedVoucher> {
    return receive(this.context, { voucher });
  }

  /** See the `paid` action. */
  paid(id: string): Promise<bigint> {
    return paid(this.context, { channelId: id });
  }

  /** See the `offerClose` action. */
  offerClose(id: string, options: { paid?: bigint } = {}): Promise<CloseOffer> {
    return offerClose(this.context, { channelId: id, ...options });
  }

  /** See the `countersign` action. */
  countersign(offer: CloseOffer, options: { minimum?: bigint } = {}): Promise<CloseOffer> {
    return countersign(this.context, { offer, ...options });
  }

  /** See the `close` action. */
  close(offer: CloseOffer, options: { minimum?: bigint } = {}): Promise<TransactionReceipt> {
    return close(this.context, { offer, ...options });
  }

  /** See the `canPayGas` action. */
  canPayGas(gas?: bigint): Promise<boolean> {
    return canPayGas(this.context, gas === undefined ? {} : { gas });
  }

  /** See the `bestState` action. */
  bestState(id: string): Promise<{ proof: SignedVariablePart[]; candidate: SignedVariablePart }> {
    return bestState(this.context, { channelId: id });
  }

  /** See the `challenge` action. */
  challenge(id: string): Promise<TransactionReceipt> {
    return challenge(this.context, { channelId: id });
  }

  /** See the `answer` action. */
  answer(id: string, challenged: VariablePart): Promise<TransactionReceipt | undefined> {
    return answer(this.context, { channelId: id, challenged });
  }

  /** See the `respond` action. */
  respond(id: string, challenged: VariablePart): Promise<TransactionReceipt> {
    return respond(this.context, { channelId: id, challenged });
  }

  /** See the `checkpoint` action. */
  checkpoint(id: string): Promise<TransactionReceipt> {
    return checkpoint(this.context, { channelId: id });
  }

  /** See the `defend` action. */
  defend(id: string, options: { payOut?: boolean } = {}): Promise<"answered" | "paid-out" | undefined> {
    return defend(this.context, { channelId: id, ...options });
  }

  /** See the `onChain` action. */
  onChain(id: string): Promise<OnChainChannel> {
    return onChain(this.context, { channelId: id });
  }

  /** See the `payout` action. */
  payout(id: string): Promise<TransactionReceipt> {
    return payout(this.context, { channelId: id });
  }

  /** See the `registeredState` action. */
  registeredState(id: string): Promise<VariablePart> {
    return registeredState(this.context, { channelId: id });
  }

  /** See the `registration` action. */
  registration(id: string): Promise<RegisteredState> {
    return registration(this.context, { channelId: id });
  }

  /** See the `redeem` action. */
  redeem(id: string, options: { waitFor?: (finalizesAt: bigint) => Promise<void> } = {}): Promise<TransactionReceipt> {
    return redeem(this.context, { channelId: id, ...options });
  }

  /** See the `settlement` action. */
  settlement(id: string): Promise<Settlement & { toUs: bigint; toPeer: bigint }> {
    return settlement(this.context, { channelId: id });
  }

  /** See the `settlementIn` action. */
  settlementIn(id: string, receipt: TransactionReceipt): Promise<{ toUs: bigint; toPeer: bigint }> {
    return settlementIn(this.context, { channelId: id, receipt });
  }

  /** See the `syncPhase` action. */
  syncPhase(id: string): Promise<ChannelRecord["phase"]> {
    return syncPhase(this.context, { channelId: id });
  }
}
