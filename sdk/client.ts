import {
  Contract,
  type ContractTransactionResponse,
  dataSlice,
  formatEther,
  getAddress,
  hexlify,
  isError,
  JsonRpcApiProvider,
  randomBytes,
  type Signer,
  type TransactionReceipt,
  ZeroAddress,
  zeroPadValue,
} from "ethers";
import {
  type Adjudicator,
  Adjudicator__factory,
  type VoucherPaymentApp,
  VoucherPaymentApp__factory,
} from "../typechain-types/index.js";
import { channelId, isExternalDestination, outcomeHash, stateHash, toDestination } from "./channel.js";
import { defaultConfirmations } from "./confirmations.js";
import { ContractRevertError, decodeContractError } from "./contract-errors.js";
import { InsufficientFundsError, PiecepayError, WrongChainError } from "./errors.js";
import { FundingPoller } from "./funding.js";
import { recoverPersonalSigner } from "./recover.js";
import {
  findRegistration,
  NO_REGISTRATION,
  type RegisteredState,
  type Registration,
  registrationOf,
} from "./registration.js";
import { RetryingJsonRpcProvider } from "./rpc-retry.js";
import { destinationsOf, type Settlement, settlementOf } from "./settlement.js";
import { signChallenge, signState, toSigned } from "./signatures.js";
import type { ChannelRecord, ChannelStore } from "./store/types.js";
import type { FixedPart, SignedVariablePart, VariablePart } from "./types.js";
import { createVoucher, encodeVoucher, type VerifiedVoucher, type Voucher, verifyVoucher } from "./voucher.js";
import { voucherStateSupportError } from "./voucher-app.js";
import { rejectionError } from "./wallet.js";

const ERC20_ABI = [
  "function allowance(address owner, address spender) view returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
];

const PAYER = 0;
const PAYEE = 1;

/** Settings of a `PiecepayClient`. */
export interface PiecepayClientOptions {
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
  /** The chain we mean to be on: the client refuses to sign or send anywhere else. */
  chainId: bigint;
  /** The adjudicator's address (from deployments/<chainId>.json). */
  adjudicator: string;
  /** The voucher payment app's address. */
  voucherApp: string;
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
   * (default 30,000 ms). Transactions always check first.
   */
  chainCheckIntervalMs?: number;
  /** Time kept in hand beyond polling and confirmations to get an answer mined (default 60 s). */
  safetyMarginSeconds?: number;
  /** Receives what the client does (never keys or signatures of keys). */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

/** The payer's offer of a channel: sent to the payee, who answers with a `ChannelAcceptance`. */
export interface ChannelProposal {
  chainId: bigint;
  adjudicator: string;
  fixedPart: FixedPart;
  /** Turn 0: the whole deposit allocated back to the payer, nothing to the payee. */
  funding: VariablePart;
  payerSignature: string;
}

/** The payee's countersignature of the funding state. */
export interface ChannelAcceptance {
  channelId: string;
  payeeSignature: string;
}

/** One side's signature of the final state that closes a channel cooperatively. */
export interface CloseOffer {
  channelId: string;
  final: VariablePart;
  signature: string;
}

/** A channel's state on chain. */
export interface OnChainChannel {
  holdings: bigint;
  turnNumRecord: bigint;
  finalizesAt: bigint;
  finalized: boolean;
  /** Whether a challenge is registered and not yet final. */
  challenged: boolean;
}

/**
 * Opens, pays, closes, disputes and pays out voucher channels on the piecepay adjudicator, keeping every channel,
 * its latest supported state and the largest voucher each way in a durable `ChannelStore`.
 * @example
 * const client = await PiecepayClient.create({ signer, chainId: 31337n, adjudicator, voucherApp, store })
 * const proposal = await client.propose({ payee, deposit: parseEther("0.1") })
 */
export class PiecepayClient {
  readonly adjudicator: Adjudicator;
  readonly voucherApp: VoucherPaymentApp;
  /** Our participant's address (the signer's). */
  readonly address: string;
  /** The wallet's address: the sender of our transactions, where our payouts and refunds go. */
  readonly walletAddress: string;
  /** The chain this client signs and sends for. */
  readonly chainId: bigint;
  readonly confirmations: number;
  readonly #options: PiecepayClientOptions;

  readonly #wallet: Signer;

  private constructor(options: PiecepayClientOptions, address: string, walletAddress: string) {
    this.#options = options;
    this.#wallet = options.wallet ?? options.signer;
    this.address = address;
    this.walletAddress = walletAddress;
    this.chainId = options.chainId;
    this.confirmations = options.confirmations ?? defaultConfirmations(options.chainId);
    if (!Number.isInteger(this.confirmations) || this.confirmations < 1) {
      throw new PiecepayError("INVALID_CONFIRMATIONS", `confirmations must be a whole number of at least 1`);
    }
    this.adjudicator = Adjudicator__factory.connect(options.adjudicator, this.#wallet);
    this.voucherApp = VoucherPaymentApp__factory.connect(options.voucherApp, this.#wallet);
    this.#funding = new FundingPoller(
      {
        head: () => this.#head(),
        updatedIn: (ids, from, to) => this.#holdingsUpdatedIn(ids, from, to),
        look: (id, to) => this.#fundingLook(id, to),
        log: (event, fields) => this.#log(event, fields),
      },
      options.pollingIntervalMs ?? 4000,
    );
  }

  /**
   * Connects a client after checking the chain id (the wallet's) and that the contracts are deployed there.
   * @throws PiecepayError WRONG_CHAIN (a `WrongChainError`), NO_PROVIDER, NOT_DEPLOYED or USER_REJECTED
   * @example const client = await PiecepayClient.create({ signer, chainId: 31337n, adjudicator, voucherApp, store })
   */
  static async create(options: PiecepayClientOptions): Promise<PiecepayClient> {
    let walletAddress: string;
    try {
      walletAddress = getAddress(await (options.wallet ?? options.signer).getAddress());
    } catch (error) {
      throw rejectionError(error, "the connection") ?? error;
    }
    const client = new PiecepayClient(options, getAddress(await options.signer.getAddress()), walletAddress);
    await client.#assertChain();
    const provider = client.#provider();
    for (const [name, address] of [
      ["adjudicator", options.adjudicator],
      ["voucher app", options.voucherApp],
    ]) {
      if ((await provider.getCode(address)) === "0x") {
        throw new PiecepayError("NOT_DEPLOYED", `no ${name} at ${address} on chain ${options.chainId}`, {
          details:
            "Deploy the contracts (npm run deploy:localhost) or pass the addresses from deployments/<chainId>.json.",
        });
      }
    }
    return client;
  }

  get store(): ChannelStore {
    return this.#options.store;
  }

  /**
   * The shortest challenge duration this client accepts: time to notice a challenge (one polling interval plus
   * the confirmation depth) and to get an answer mined (the safety margin). Shorter, and a counterparty's
   * challenge could finalize before the watcher answers.
   * @example client.minChallengeDuration() // 4 + 12 + 60 = 76n with the defaults
   */
  minChallengeDuration(): bigint {
    const o = this.#options;
    const seconds =
      Math.ceil((o.pollingIntervalMs ?? 4000) / 1000) +
      this.confirmations * (o.blockTimeSeconds ?? 12) +
      (o.safetyMarginSeconds ?? 60);
    return BigInt(Math.max(seconds, 10));
  }

  // ------------------------------------------------------------------------------------------------- opening

  /**
   * The payer's first step: a channel to `payee` holding `deposit`, and its funding state signed by us. The funding
   * state pays the payer's share to our wallet and the payee's to `payeeDestination` (the payee's wallet; default:
   * the payee participant itself), and every later state keeps these destinations.
   * @throws PiecepayError CHALLENGE_DURATION_TOO_SHORT, INVALID_DEPOSIT, INVALID_PROPOSAL, WRONG_CHAIN
   * @example const proposal = await payer.propose({ payee, payeeDestination: payeeWallet, deposit: parseEther("0.1") })
   */
  async propose(params: {
    payee: string;
    /** Where the channel pays the payee: its wallet's address (default: `payee`). */
    payeeDestination?: string;
    deposit: bigint;
    asset?: string;
    challengeDuration?: bigint;
    channelNonce?: bigint;
    peer?: string;
  }): Promise<ChannelProposal> {
    await this.#assertChain();
    if (params.deposit <= 0n) throw new PiecepayError("INVALID_DEPOSIT", "a channel needs a deposit above 0");
    const challengeDuration = params.challengeDuration ?? this.minChallengeDuration() * 2n;
    this.#assertDuration(challengeDuration);
    const fixedPart: FixedPart = {
      participants: [this.address, getAddress(params.payee)],
      channelNonce: params.channelNonce ?? BigInt(hexlify(randomBytes(8))),
      appDefinition: getAddress(this.#options.voucherApp),
      challengeDuration,
    };
    const id = this.#channelId(fixedPart);
    const payeeDestination = getAddress(params.payeeDestination ?? params.payee);
    if (payeeDestination === ZeroAddress) {
      throw new PiecepayError("INVALID_PROPOSAL", "the payee's destination is the zero address: its money would burn");
    }
    const funding = fundingState(fixedPart, params.asset ?? ZeroAddress, params.deposit, {
      payer: this.walletAddress,
      payee: payeeDestination,
    });
    const payerSignature = await signState(this.#options.signer, id, funding);
    await this.store.putChannel(this.#record(id, fixedPart, PAYER, funding, "proposed", params.peer));
    this.#log("channel-proposed", {
      channelId: id,
      payee: fixedPart.participants[PAYEE],
      payeeDestination,
      deposit: params.deposit,
    });
    return {
      chainId: this.#options.chainId,
      adjudicator: this.adjudicator.target as string,
      fixedPart,
      funding,
      payerSignature,
    };
  }

  /**
   * The payee's answer to a proposal: checks it (our chain, our adjudicator and app, us as payee, a safe
   * challenge duration, a well-formed funding state signed by the payer, paying our share to our wallet and the
   * payer's to an external address) and countersigns the funding state.
   * @throws PiecepayError INVALID_PROPOSAL, CHALLENGE_DURATION_TOO_SHORT, WRONG_CHAIN
   * @example const acceptance = await payee.join(proposal)
   */
  async join(
    proposal: ChannelProposal,
    options: { peer?: string; assets?: string[] } = {},
  ): Promise<ChannelAcceptance> {
    await this.#assertChain();
    const { fixedPart, funding } = proposal;
    const invalid = (why: string) => new PiecepayError("INVALID_PROPOSAL", `refused the channel proposal: ${why}`);
    if (proposal.chainId !== this.#options.chainId) throw invalid(`it is for chain ${proposal.chainId}`);
    if (getAddress(proposal.adjudicator) !== getAddress(this.#options.adjudicator))
      throw invalid("another adjudicator");
    if (fixedPart.participants.length !== 2) throw invalid("a voucher channel has two participants");
    if (getAddress(fixedPart.participants[PAYEE]) !== this.address) throw invalid("we are not its payee");
    if (getAddress(fixedPart.appDefinition) !== getAddress(this.#options.voucherApp)) throw invalid("another app");
    this.#assertDuration(fixedPart.challengeDuration);
    const id = this.#channelId(fixedPart);
    const deposit = funding.outcome[0]?.allocations[PAYER]?.amount ?? 0n;
    // Our share must go to our wallet, or the channel would pay someone else for what we serve. The payer's may
    // go to any external address (its wallet); not to a channel (an internal destination) nor to the zero address.
    const [payerTo, payeeTo] = [PAYER, PAYEE].map((i) => String(funding.outcome[0]?.allocations[i]?.destination));
    if (payeeTo.toLowerCase() !== toDestination(this.walletAddress)) {
      throw invalid(`it pays the payee to ${payeeTo}, not to our wallet ${this.walletAddress}`);
    }
    if (!/^0x[0-9a-fA-F]{64}$/.test(payerTo) || !isExternalDestination(payerTo) || BigInt(payerTo) === 0n) {
      throw invalid(`it refunds the payer to ${payerTo}, not to an account`);
    }
    const expected = fundingState(fixedPart, funding.outcome[0]?.asset ?? ZeroAddress, deposit, {
      payer: addressOf(payerTo),
      payee: this.walletAddress,
    });
    if (deposit <= 0n || stateHash(id, funding) !== stateHash(id, expected)) throw invalid("a malformed funding state");
    const accepted = (options.assets ?? [ZeroAddress]).map((a) => getAddress(a));
    if (!accepted.includes(getAddress(expected.outcome[0].asset))) {
      throw invalid(`it pays in ${expected.outcome[0].asset}, not in an asset we accept (${accepted.join(", ")})`);
    }
    if (signerOf(stateHash(id, funding), proposal.payerSignature) !== getAddress(fixedPart.participants[PAYER])) {
      throw invalid("the funding state is not signed by the payer");
    }
    if (await this.store.getChannel(id)) throw invalid("we already have this channel");
    const payeeSignature = await signState(this.#options.signer, id, funding);
    const record = this.#record(id, fixedPart, PAYEE, expected, "proposed", options.peer);
    await this.store.putChannel({ ...record, deposited: 0n });
    await this.store.putSupportedState(
      id,
      toSigned(
        funding,
        new Map([
          [PAYER, proposal.payerSignature],
          [PAYEE, payeeSignature],
        ]),
      ),
    );
    this.#log("channel-joined", { channelId: id, payer: fixedPart.participants[PAYER], deposit });
    return { channelId: id, payeeSignature };
  }

  /**
   * The payer's last step of opening: checks the payee's countersignature, then deposits (approving an ERC-20
   * first) and waits for the configured confirmations.
   * @throws PiecepayError INVALID_ACCEPTANCE, WRONG_CHAIN; ContractRevertError (e.g. HOLDINGS_CHANGED)
   * @example const channel = await payer.fund(proposal, acceptance)
   */
  async fund(proposal: ChannelProposal, acceptance: ChannelAcceptance): Promise<ChannelRecord> {
    await this.#assertChain();
    const id = this.#channelId(proposal.fixedPart);
    const record = await this.store.getChannel(id);
    if (!record || record.myIndex !== PAYER || id !== acceptance.channelId.toLowerCase()) {
      throw new PiecepayError("INVALID_ACCEPTANCE", "the acceptance is for no channel we proposed");
    }
    const payee = getAddress(proposal.fixedPart.participants[PAYEE]);
    if (signerOf(stateHash(id, proposal.funding), acceptance.payeeSignature) !== payee) {
      throw new PiecepayError("INVALID_ACCEPTANCE", "the funding state is not countersigned by the payee");
    }
    await this.store.putSupportedState(
      id,
      toSigned(
        proposal.funding,
        new Map([
          [PAYER, proposal.payerSignature],
          [PAYEE, acceptance.payeeSignature],
        ]),
      ),
    );
    const deposit = proposal.funding.outcome[0].allocations[PAYER].amount;
    const asset = record.asset;
    const held = await this.adjudicator.holdings(asset, id);
    const [, finalizesAt] = await this.adjudicator.statusOf(id);
    if (finalizesAt !== 0n) {
      throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} is challenged or finalized: not depositing into it`);
    }
    if (asset !== ZeroAddress) {
      const token = new Contract(asset, ERC20_ABI, this.#wallet);
      // Before the approve: a wallet short of the token fails here, with nothing sent.
      const tokens: bigint = await token.balanceOf(this.walletAddress);
      if (tokens < deposit) {
        throw new InsufficientFundsError(
          this.walletAddress,
          asset,
          tokens,
          deposit,
          `account ${this.walletAddress} holds ${tokens} of token ${asset}; the deposit needs ${deposit}`,
          "Fund the wallet with the token first.",
        );
      }
      if ((await token.allowance(this.walletAddress, this.adjudicator.target)) < deposit) {
        // The approve's gas and the deposit's (which cannot be estimated before the approve: about 100,000).
        await this.#assertCanPay(
          "approve and deposit",
          0n,
          async () => (await token.approve.estimateGas(this.adjudicator.target, deposit)) + 100_000n,
        );
        await this.#send("approve", () => token.approve(this.adjudicator.target, deposit));
      }
    }
    const value = asset === ZeroAddress ? deposit : 0n;
    await this.#assertCanPay("deposit", value, () =>
      this.adjudicator.deposit.estimateGas(asset, id, held, deposit, { value }),
    );
    // Written before the deposit is broadcast: whatever happens next (the process killed, the RPC gone, the
    // download finished first), the store knows a deposit may be on chain, and `recoverFunding` finds it.
    const inFlight: ChannelRecord = { ...record, phase: "funding", funding: { amount: deposit } };
    await this.store.putChannel(inFlight);
    // One confirmation: the deposit is ours, and a re-org that removes it costs us nothing (our vouchers then pay
    // out of nothing). The payee is the side that waits for depth before it serves without a bound.
    let receipt: TransactionReceipt;
    try {
      receipt = await this.#send(
        "deposit",
        () => this.adjudicator.deposit(asset, id, held, deposit, { value }),
        (hash) => this.store.putChannel({ ...inFlight, funding: { amount: deposit, txHash: hash } }),
        1,
      );
    } catch (error) {
      // Refused by the wallet's user, or stopped by the chain check before the wallet was asked: nothing reached
      // the chain, so the channel is as it was (proposed), not a deposit that may be on chain.
      if (error instanceof PiecepayError && (error.code === "USER_REJECTED" || error.code === "WRONG_CHAIN")) {
        await this.store.putChannel(record);
      }
      throw error;
    }
    // What this deposit credited (less than `deposit` for a token that takes a fee), from its own event: a
    // concurrent deposit by someone else does not count as ours. Never more than the funding state allocates.
    let after = held;
    for (const log of receipt.logs) {
      const parsed = this.adjudicator.interface.parseLog(log);
      if (parsed?.name === "HoldingsUpdated" && parsed.args.channelId.toLowerCase() === id) after = parsed.args.held;
    }
    const deposited = min(after - held, deposit);
    const funded: ChannelRecord = {
      ...record,
      deposited,
      phase: "open",
      funding: { amount: deposit, txHash: receipt.hash },
    };
    await this.store.putChannel(funded);
    this.#log("channel-funded", { channelId: id, deposited });
    return funded;
  }

  /**
   * Proposes, asks the payee (through `ask`, e.g. a wire message) and funds: a channel in one call.
   * @example const channel = await payer.open({ payee, deposit }, (proposal) => payee.join(proposal))
   */
  async open(
    params: Parameters<PiecepayClient["propose"]>[0],
    ask: (proposal: ChannelProposal) => Promise<ChannelAcceptance>,
  ): Promise<ChannelRecord> {
    const proposal = await this.propose(params);
    return this.fund(proposal, await ask(proposal));
  }

  /**
   * The payer's look at a channel whose deposit it may have sent without seeing it confirmed (phase `funding`, or
   * `proposed` in a store written before that phase existed): reads the holdings on chain and, when they hold
   * anything and the funding state is signed by both, records the channel as open (or challenged, finalized) with
   * what it holds, at most the funding state's deposit. A channel whose deposit never reached the chain stays as it
   * was (`forgetUnfunded` can then delete it) and undefined is returned.
   * @throws PiecepayError UNKNOWN_CHANNEL, RPC_UNAVAILABLE, WRONG_CHAIN
   * @example const recovered = await payer.recoverFunding(id) // then challenge, or close with the payee
   */
  async recoverFunding(id: string): Promise<ChannelRecord | undefined> {
    await this.#assertChain();
    const record = await this.#channel(id);
    if (record.phase !== "funding" && record.phase !== "proposed") return record;
    const funding = await this.store.getSupportedState(record.id);
    if (record.myIndex !== PAYER || !funding || funding.signedBy !== 3n) return undefined;
    const wanted = funding.variablePart.outcome[0].allocations[PAYER].amount;
    const [, finalizesAt] = await this.adjudicator.statusOf(record.id);
    const held =
      finalizesAt === 0n
        ? await this.adjudicator.holdings(record.asset, record.id)
        : (await this.onChain(record.id)).holdings;
    if (held === 0n && finalizesAt === 0n) return undefined;
    const now = BigInt((await this.#provider().getBlock("latest"))?.timestamp ?? 0);
    const phase = finalizesAt === 0n ? "open" : finalizesAt <= now ? "finalized" : "challenged";
    const recovered: ChannelRecord = { ...record, deposited: min(held, wanted), phase };
    await this.store.putChannel(recovered);
    this.#log("channel-funding-recovered", { channelId: record.id, held, phase });
    return recovered;
  }

  /**
   * The payee's wait for the payer's deposit: returns once the holdings cover the funding state's deposit at
   * `confirmations` (default: the client's), and records them. Every channel awaited by this client shares one poll
   * (see `FundingPoller`): a look every polling interval costs a constant number of RPC requests however many wait.
   * `signal` stops the wait (FUNDING_ABORTED), e.g. when the payer's connection closes. A payee that waits for fewer
   * confirmations than the client's follows the deposit with `followDeposit` until it is final.
   * @throws PiecepayError FUNDING_TIMEOUT, FUNDING_ABORTED, UNKNOWN_CHANNEL, CHANNEL_NOT_OPEN
   * @example await payee.waitForFunding(acceptance.channelId, { timeoutMs: 60_000 })
   */
  async waitForFunding(
    id: string,
    options: { timeoutMs?: number; signal?: AbortSignal; confirmations?: number } = {},
  ): Promise<ChannelRecord> {
    const record = await this.#channel(id);
    const depth = Math.min(options.confirmations ?? this.confirmations, this.confirmations);
    return this.#funding.wait(record.id, options.timeoutMs ?? 120_000, options.signal, depth);
  }

  /**
   * Follows a funded channel's deposit until it has the client's confirmations: resolves "final" then, or "disputed"
   * when the channel is challenged or concluded first (the watcher's to handle). Rejects with DEPOSIT_REMOVED as
   * soon as the newest block holds less than the deposit: a re-org took the deposit off the chain (no payout can
   * leave an open channel). Looks once per polling interval: two reads, for a bounded number of blocks.
   * @throws PiecepayError DEPOSIT_REMOVED, FUNDING_ABORTED, UNKNOWN_CHANNEL
   * @example if ((await payee.followDeposit(id, { signal })) === "final") serveWithoutBound()
   */
  async followDeposit(id: string, options: { signal?: AbortSignal } = {}): Promise<"final" | "disputed"> {
    const record = await this.#channel(id);
    const wanted =
      (await this.store.getSupportedState(record.id))?.variablePart.outcome[0].allocations[PAYER].amount ?? 0n;
    for (;;) {
      if (options.signal?.aborted) throw new PiecepayError("FUNDING_ABORTED", `stopped following channel ${id}`);
      try {
        const head = await this.#head();
        const [latest, confirmed] = await Promise.all([
          this.#openHoldings(record, "latest"),
          this.#openHoldings(record, Math.max(0, head - this.confirmations + 1)),
        ]);
        if (latest === undefined) return "disputed";
        if (latest < wanted) {
          this.#log("deposit-removed", { channelId: record.id, held: latest, wanted });
          throw new PiecepayError(
            "DEPOSIT_REMOVED",
            `channel ${record.id} holds ${latest} of the ${wanted} deposited: the deposit left the chain (a re-org)`,
          );
        }
        if (confirmed !== undefined && confirmed >= wanted) return "final";
      } catch (error) {
        if (error instanceof PiecepayError && error.code !== "RPC_UNAVAILABLE") throw error;
        this.#log("deposit-follow-failed", { channelId: record.id, error: String(error) }); // next look tries again
      }
      await sleep(this.#options.pollingIntervalMs ?? 4000);
    }
  }

  /** An open channel's holdings as of `blockTag`, or undefined once it is challenged or concluded. */
  async #openHoldings(record: ChannelRecord, blockTag: number | "latest"): Promise<bigint | undefined> {
    const [, finalizesAt] = await this.adjudicator.statusOf(record.id, { blockTag });
    if (finalizesAt !== 0n) return undefined;
    return this.adjudicator.holdings(record.asset, record.id, { blockTag });
  }

  /**
   * Asks the funding poll to look now instead of at its next tick: e.g. when the payer's first voucher arrives,
   * which it sends only once its deposit is mined. Early looks are coalesced: at most one per polling interval,
   * across every channel awaited.
   * @example payee.checkFundingNow(channelId)
   */
  checkFundingNow(_id?: string): void {
    this.#funding.hurry();
  }

  /** One poll for every channel awaiting funding. */
  readonly #funding: FundingPoller;

  /** The newest block, after checking the chain id. */
  async #head(): Promise<number> {
    await this.#assertChain();
    return this.#provider().getBlockNumber();
  }

  /** The ids among `ids` that a `HoldingsUpdated` log of the adjudicator names in blocks `from..to`: one request. */
  async #holdingsUpdatedIn(ids: string[], from: number, to: number): Promise<Set<string>> {
    const event = this.adjudicator.interface.getEvent("HoldingsUpdated");
    const logs = await this.#provider().getLogs({
      address: this.adjudicator.target as string,
      topics: [event.topicHash, ids.map((id) => zeroPadValue(id, 32))],
      fromBlock: from,
      toBlock: to,
    });
    return new Set(logs.map((log) => (log.topics[1] ?? "").toLowerCase()));
  }

  /** One look at a channel's funding as of block `blockTag`; records the channel open once it is funded. */
  async #fundingLook(id: string, blockTag: number): Promise<{ record: ChannelRecord; held: bigint; wanted: bigint }> {
    const record = await this.#channel(id);
    const funding = await this.store.getSupportedState(id);
    const wanted = funding?.variablePart.outcome[0].allocations[PAYER].amount ?? 0n;
    const held = await this.adjudicator.holdings(record.asset, id, { blockTag });
    const [, finalizesAt] = await this.adjudicator.statusOf(id, { blockTag });
    if (finalizesAt !== 0n) {
      throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} was challenged before it opened`);
    }
    if (held < wanted) return { record, held, wanted };
    // Vouchers are only enforceable up to the payer's allocation in the funding state, whatever else the channel
    // holds: that is the most a voucher may promise.
    // Only a channel still waiting for its deposit opens: not one that a close or a challenge moved on meanwhile.
    const open =
      (await this.store.updateChannel(id, (now) =>
        now.phase === "proposed" || now.phase === "funding" ? { ...now, deposited: wanted, phase: "open" } : undefined,
      )) ?? record;
    this.#log("channel-funding-seen", { channelId: id, held });
    return { record: open, held, wanted };
  }

  // ------------------------------------------------------------------------------------------------ payments

  /**
   * Pays `amount` more to the channel's payee: signs a voucher for the new cumulative total, stores it, returns it
   * (send it to the payee).
   * @throws VoucherError VOUCHER_EXCEEDS_DEPOSIT; PiecepayError UNKNOWN_CHANNEL, NOT_PAYER, CHANNEL_NOT_OPEN
   * @example const voucher = await payer.pay(channel.id, pricePerPiece)
   */
  async pay(id: string, amount: bigint): Promise<Voucher> {
    return this.#serialized(this.#paying, id, () => this.#pay(id, amount));
  }

  async #pay(id: string, amount: bigint): Promise<Voucher> {
    const record = await this.#channel(id);
    if (record.myIndex !== PAYER) throw new PiecepayError("NOT_PAYER", `we are not the payer of channel ${id}`);
    if (record.phase !== "open") throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} is ${record.phase}`);
    // No round trip per voucher: a voucher is bound to our chain by its channel id, so it is worth nothing on
    // another. A dead RPC must not stop payments (and drop the seeder); a chain change is caught by the checks of
    // every transaction, by the provider after an outage, and here once a check is older than the interval.
    this.#assertChainRecently();
    const previous = (await this.store.getVoucher("sent", id))?.amount ?? 0n;
    const voucher = await createVoucher(
      this.#options.signer,
      { channelId: record.id, deposited: record.deposited, previous },
      previous + amount,
    );
    await this.store.putVoucher("sent", voucher);
    return voucher;
  }

  /**
   * The payee's receipt of a voucher: checks it against the channel and the deposit, and stores it before it
   * resolves (on disk, with a durable store), so that a payment counted is never forgotten. `delta` is what it adds
   * (0 for a replay). Receipts on one channel run one after another, in the order of the calls: two vouchers
   * arriving back to back are each checked against the one stored before them, and each wei is credited once.
   * @throws VoucherError; PiecepayError UNKNOWN_CHANNEL, NOT_PAYEE
   * @example const { delta } = await payee.receive(voucher)
   */
  async receive(voucher: Voucher): Promise<VerifiedVoucher> {
    return this.#serialized(this.#receiving, voucher.channelId, () => this.#receive(voucher));
  }

  async #receive(voucher: Voucher): Promise<VerifiedVoucher> {
    const record = await this.#channel(voucher.channelId);
    if (record.myIndex !== PAYEE) throw new PiecepayError("NOT_PAYEE", `we are not the payee of ${record.id}`);
    // Not before the channel is funded, not once it is finalized, and not after we offered to close: the payer
    // could then conclude with our offer and the new voucher would count for nothing.
    if (record.phase !== "open" && record.phase !== "challenged") {
      throw new PiecepayError(
        "CHANNEL_NOT_OPEN",
        `channel ${record.id} is ${record.phase}: a voucher counts for nothing`,
      );
    }
    const best = (await this.store.getVoucher("received", record.id))?.amount ?? 0n;
    const verified = verifyVoucher(voucher, {
      channelId: record.id,
      payer: record.fixedPart.participants[PAYER],
      deposited: record.deposited,
      best,
    });
    if (verified.delta === 0n) return verified;
    // Credit against what the store held when it took the voucher (another process may have stored one since).
    const { kept, previous } = await this.store.putVoucher("received", voucher);
    return { voucher, delta: kept ? voucher.amount - previous : 0n };
  }

  /**
   * What the channel has paid so far: the largest voucher we sent (payer) or received (payee).
   * @example await payee.paid(id) // 3_000n
   */
  async paid(id: string): Promise<bigint> {
    const record = await this.#channel(id);
    return (await this.store.getVoucher(record.myIndex === PAYER ? "sent" : "received", record.id))?.amount ?? 0n;
  }

  // --------------------------------------------------------------------------------------------------- closing

  /**
   * Signs the final state that splits the deposit by what was paid: send it to the other side, who calls `close`.
   * `paid` (default: the vouchers' total) lets the payer offer what was actually delivered when it paid ahead.
   * @example const offer = await payer.offerClose(id)
   */
  async offerClose(id: string, options: { paid?: bigint } = {}): Promise<CloseOffer> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const vouchers = await this.paid(record.id);
    const paid = options.paid ?? vouchers;
    // A payer may settle for less than its vouchers (credit paid ahead and not used), never for more; a payee
    // may settle for less than it holds, never claim more than it holds.
    if (paid < 0n || paid > vouchers) {
      throw new PiecepayError("INVALID_CLOSE_AMOUNT", `cannot close at ${paid}: the vouchers say ${vouchers}`);
    }
    const final = await this.#finalState(record, paid);
    const signature = await signState(this.#options.signer, record.id, final);
    await this.store.updateChannel(record.id, (now) => ({
      ...now,
      phase: "closing",
      finalStates: [...(now.finalStates ?? []), final],
    }));
    return { channelId: record.id, final, signature };
  }

  /**
   * Checks the other side's close offer (a split of the deposit paying us at least what we are owed, final, signed
   * by the other participant) and signs the same final state: what a side without gas sends back, so that the other
   * side submits the close (`close` with this countersignature as its offer). Records the channel as closing.
   * @throws PiecepayError INVALID_CLOSE_OFFER
   * A payee that was paid ahead passes `minimum`: what it actually delivered.
   * @example const counter = await payee.countersign(offer, { minimum }) // send it to the payer, who calls close(counter)
   */
  async countersign(offer: CloseOffer, options: { minimum?: bigint } = {}): Promise<CloseOffer> {
    await this.#assertChain();
    const record = await this.#checkOffer(offer, options);
    const signature = await signState(this.#options.signer, record.id, offer.final);
    return { channelId: record.id, final: offer.final, signature };
  }

  /**
   * Countersigns the other side's close offer, if it pays us at least what we are owed, and closes the channel:
   * one transaction concludes it and pays both sides. Checks first that our account can pay its gas.
   * @throws PiecepayError INVALID_CLOSE_OFFER, INSUFFICIENT_FUNDS (nothing sent: `countersign` and let the other
   *   side submit); ContractRevertError
   * A payee that was paid ahead passes `minimum`: what it actually delivered.
   * @example const receipt = await payee.close(offer)
   */
  async close(offer: CloseOffer, options: { minimum?: bigint } = {}): Promise<TransactionReceipt> {
    await this.#assertChain();
    const record = await this.#checkOffer(offer, options);
    const other = 1 - record.myIndex;
    const signatures = new Map([
      [other, offer.signature],
      [record.myIndex, await signState(this.#options.signer, record.id, offer.final)],
    ]);
    const concluded = toSigned(offer.final, signatures);
    await this.#assertCanPay("close", 0n, () =>
      this.adjudicator.concludeAndTransferAllAssets.estimateGas(record.fixedPart, concluded),
    );
    try {
      const receipt = await this.#send("concludeAndTransferAllAssets", () =>
        this.adjudicator.concludeAndTransferAllAssets(record.fixedPart, concluded),
      );
      await this.store.setPhase(record.id, "withdrawn");
      return receipt;
    } catch (error) {
      // The other side cannot be paid (its account refuses ETH), or a challenge runs: conclude alone, then pay out
      // (our allocation alone if need be).
      if (!isRevert(error)) throw error;
      this.#log("close-in-two-steps", { channelId: record.id, why: String(error) });
      const registration = await this.#registrationIfChallenged(record.id);
      await this.#send("conclude", () => this.adjudicator.conclude(record.fixedPart, concluded, registration));
      return this.payout(record.id);
    }
  }

  /**
   * Whether our wallet holds the gas of a transaction of about `gas` units at the current fee (default: a
   * cooperative close's, with a margin). A side without it countersigns instead of submitting.
   * @example if (!(await payee.canPayGas())) send(await payee.countersign(offer))
   */
  async canPayGas(gas = 150_000n): Promise<boolean> {
    const provider = this.#provider();
    const [balance, feeData] = await Promise.all([provider.getBalance(this.walletAddress), provider.getFeeData()]);
    return balance >= gas * (feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n);
  }

  /** The checks of a close offer (see `countersign`); records the channel as closing with its final state. */
  async #checkOffer(offer: CloseOffer, options: { minimum?: bigint }): Promise<ChannelRecord> {
    const record = await this.#channel(offer.channelId);
    const base = await this.#base(record);
    const invalid = (why: string) => new PiecepayError("INVALID_CLOSE_OFFER", `refused the close offer: ${why}`);
    const final = offer.final;
    const paid = final.outcome[0]?.allocations?.[PAYEE]?.amount;
    // The offer must split the funding state's deposit between the same two destinations in the same asset,
    // nothing else: rebuild that outcome for the payee's amount and compare hashes.
    if (typeof paid !== "bigint" || paid < 0n || paid > base.variablePart.outcome[0].allocations[PAYER].amount) {
      throw invalid("its outcome is not a split of the deposit");
    }
    if (outcomeHash(final.outcome) !== outcomeHash(splitOutcome(base.variablePart, paid))) {
      throw invalid("its outcome is not a split of the deposit between the payer and the payee");
    }
    const vouchers = await this.paid(record.id);
    // The payee accepts no less than `minimum` (default: everything its vouchers promise); the payer pays no
    // more than its vouchers promise.
    const owed = record.myIndex === PAYEE ? (options.minimum ?? vouchers) : vouchers;
    if (record.myIndex === PAYEE ? paid < owed : paid > owed) {
      throw invalid(`it pays the payee ${paid}, but we are owed ${owed}`);
    }
    if (!final.isFinal) throw invalid("the state is not final");
    const other = 1 - record.myIndex;
    if (signerOf(stateHash(record.id, final), offer.signature) !== getAddress(record.fixedPart.participants[other])) {
      throw invalid("it is not signed by the other participant");
    }
    const updated = await this.store.updateChannel(record.id, (now) => {
      const known = (now.finalStates ?? []).some((s) => stateHash(now.id, s) === stateHash(now.id, final));
      return {
        ...now,
        phase: "closing",
        finalStates: known ? (now.finalStates ?? []) : [...(now.finalStates ?? []), final],
      };
    });
    return updated ?? record;
  }

  // -------------------------------------------------------------------------------------------------- disputes

  /**
   * The strongest state we can put on chain for this channel, at a turn number the adjudicator accepts now: for
   * the payee, a state it signs carrying its largest voucher on top of the funding state; otherwise the latest
   * state both signed.
   * @example const { proof, candidate } = await payee.bestState(id)
   */
  async bestState(id: string): Promise<{ proof: SignedVariablePart[]; candidate: SignedVariablePart }> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const base = await this.#base(record);
    const voucher = await this.store.getVoucher("received", record.id);
    if (record.myIndex !== PAYEE || !voucher) return { proof: [], candidate: base };
    // challenge() needs a turn number at least the record, and above it while a challenge runs.
    const { turnNumRecord, challenged } = await this.onChain(record.id);
    const floor = challenged ? turnNumRecord + 1n : turnNumRecord;
    const turnNum = floor > base.variablePart.turnNum ? floor : base.variablePart.turnNum + 1n;
    const vp = voucherState(base.variablePart, voucher, turnNum);
    const signature = await signState(this.#options.signer, record.id, vp);
    const candidate = toSigned(vp, new Map([[PAYEE, signature]]));
    // The app's own rules, checked before spending gas: a store holding a final state as its base, or a voucher
    // that does not fit it, fails here with the app's error name instead of in a reverted transaction.
    const refused = voucherStateSupportError(record.fixedPart, record.id, [base], candidate);
    if (refused) {
      throw new PiecepayError("NOT_ENFORCEABLE", `the voucher app would refuse our state: ${refused}`);
    }
    return { proof: [base], candidate };
  }

  /**
   * Registers our best state on chain; it finalizes after the challenge duration unless answered.
   * @throws ContractRevertError (e.g. TURN_NUMBER_TOO_LOW, CHANNEL_FINALIZED)
   * @example await payee.challenge(id)
   */
  async challenge(id: string): Promise<TransactionReceipt> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const { proof, candidate } = await this.bestState(record.id);
    const registration = await this.#registrationIfChallenged(record.id);
    // The adjudicator takes the sender as the challenger; a wallet apart from the participant sends the
    // participant's signature of the challenge instead.
    const challengerSig =
      this.walletAddress === this.address
        ? "0x"
        : await signChallenge(this.#options.signer, stateHash(record.id, candidate.variablePart));
    await this.#assertCanPay("challenge", 0n, () =>
      this.adjudicator.challenge.estimateGas(record.fixedPart, proof, candidate, challengerSig, registration),
    );
    const receipt = await this.#send("challenge", () =>
      this.adjudicator.challenge(record.fixedPart, proof, candidate, challengerSig, registration),
    );
    await this.store.setPhase(record.id, "challenged");
    return receipt;
  }

  /**
   * Answers the challenge standing on a channel when we hold something better than what it registered. The payee
   * answers with a newer challenge carrying its largest voucher; the payer answers with a newer state both signed
   * (a checkpoint). Either replaces the registered state and keeps the deadline (ADR 0005): the channel finalizes
   * one challenge duration after the first challenge, whoever answers. Returns undefined when there is nothing to
   * answer or nothing better to answer with.
   * @example await payee.answer(id, challengedVariablePart)
   */
  async answer(id: string, challenged: VariablePart): Promise<TransactionReceipt | undefined> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const base = await this.#base(record);
    const voucher = await this.store.getVoucher("received", record.id);
    if (record.myIndex === PAYEE) {
      if (!voucher) return undefined;
      const registeredPaid = challenged.outcome[0]?.allocations?.[PAYEE]?.amount ?? 0n;
      if (registeredPaid >= voucher.amount) return undefined; // it already pays us all we hold
      return this.challenge(record.id);
    }
    if (base.variablePart.turnNum > challenged.turnNum) return this.checkpoint(record.id);
    return undefined;
  }

  /**
   * The payee answers a challenge of the funding state with its single next move, a state carrying its largest
   * voucher (`respond`): that state becomes the registered one and the deadline stays (a challenged channel never
   * reopens, ADR 0005).
   * @throws PiecepayError NOTHING_TO_ANSWER_WITH; ContractRevertError (e.g. TURN_NUMBER_NOT_NEXT)
   * @example await payee.respond(id, variablePartFromEvent(event.args))
   */
  async respond(id: string, challenged: VariablePart): Promise<TransactionReceipt> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const voucher = await this.store.getVoucher("received", record.id);
    if (record.myIndex !== PAYEE || !voucher) {
      throw new PiecepayError("NOTHING_TO_ANSWER_WITH", `we hold no voucher of channel ${record.id} to respond with`);
    }
    const next = voucherState((await this.#base(record)).variablePart, voucher, challenged.turnNum + 1n);
    const signature = await signState(this.#options.signer, record.id, next);
    const { heldEth } = await this.registration(record.id);
    return this.#send("respond", () =>
      this.adjudicator.respond(
        record.fixedPart,
        record.id,
        challenged,
        toSigned(next, new Map([[PAYEE, signature]])),
        heldEth,
      ),
    );
  }

  /**
   * Answers a challenge of an older state with our latest state both signed (`checkpoint`): it replaces the
   * registered state and the deadline stays. Only during a challenge: on an open channel nothing may raise the
   * turn record (ADR 0005).
   * @throws ContractRevertError (e.g. TURN_NUMBER_TOO_LOW when it is not newer, NO_ONGOING_CHALLENGE)
   * @example await payer.checkpoint(id)
   */
  async checkpoint(id: string): Promise<TransactionReceipt> {
    await this.#assertChain();
    const record = await this.#channel(id);
    const base = await this.#base(record);
    const registration = await this.#registrationIfChallenged(record.id);
    return this.#send("checkpoint", () => this.adjudicator.checkpoint(record.fixedPart, [], base, registration));
  }

  /**
   * Looks at a channel on chain and does what protects us: answers a standing challenge if we can do better, pays
   * out once it finalized. What the watcher and `redeem` run for each channel.
   * @returns "answered", "paid-out", or undefined when nothing was needed
   * @example await payee.defend(id)
   */
  async defend(id: string): Promise<"answered" | "paid-out" | undefined> {
    return this.#exclusive(id, () => this.#defend(id));
  }

  async #defend(id: string): Promise<"answered" | "paid-out" | undefined> {
    const record = await this.#channel(id);
    if (record.phase === "withdrawn" || record.phase === "proposed" || record.phase === "funding") return undefined;
    const onChain = await this.onChain(record.id);
    if (onChain.challenged) {
      if (record.phase !== "challenged") await this.store.setPhase(record.id, "challenged");
      const registered = await this.registeredState(record.id);
      return (await this.answer(record.id, registered)) ? "answered" : undefined;
    }
    if (onChain.finalized) {
      // Nothing held, or nothing owed to us (ETH left over beyond the outcome stays in the channel; what is still
      // owed to the other side is theirs to pay out): nothing to do.
      const { owed } = await this.registration(record.id);
      if (onChain.holdings !== 0n && owed.length !== 0 && owedTo(owed, record.myIndex) === 0n) {
        // Nothing owed to us: pay the other side out as a courtesy, once; if it cannot be paid, that is its to solve.
        let paid = true;
        try {
          await this.#payout(record.id);
        } catch (error) {
          this.#log("payout-failed", { channelId: record.id, error: String(error) });
          paid = false;
        }
        await this.store.setPhase(record.id, "withdrawn");
        return paid ? "paid-out" : undefined;
      }
      if (onChain.holdings === 0n || owed.length === 0) {
        await this.store.setPhase(record.id, "withdrawn");
        return undefined;
      }
      if (record.phase !== "finalized") await this.store.setPhase(record.id, "finalized");
      await this.#payout(record.id);
      return "paid-out";
    }
    return undefined;
  }

  /**
   * Reads a channel's holdings and status on chain.
   * @example const { finalized, holdings } = await client.onChain(id)
   */
  async onChain(id: string): Promise<OnChainChannel> {
    const record = await this.#channel(id);
    const [turnNumRecord, finalizesAt, onChainFingerprint] = await this.adjudicator.statusOf(record.id);
    const now = BigInt((await this.#provider().getBlock("latest"))?.timestamp ?? 0);
    const finalized = finalizesAt !== 0n && finalizesAt <= now;
    // The ETH of a channel under challenge or finalized is committed in its fingerprint: read it with the
    // registration that the events name.
    const committed = record.asset === ZeroAddress && onChainFingerprint !== 0n;
    return {
      holdings: committed
        ? await this.adjudicator.ethHoldings(record.id, registrationOf(record.id, await this.registration(record.id)))
        : await this.adjudicator.holdings(record.asset, record.id),
      turnNumRecord,
      finalizesAt,
      finalized,
      challenged: finalizesAt !== 0n && !finalized,
    };
  }

  /**
   * Pays out a finalized channel's registered outcome to both sides (anyone may send it). When the other side
   * cannot be paid (an account whose code refuses ETH, a token that blocks it), pays our own allocation alone,
   * by index, so that nobody can keep our money in the channel by refusing theirs.
   * @throws PiecepayError NOT_FINALIZED, REGISTERED_STATE_UNKNOWN; ContractRevertError
   * @example await payee.payout(id)
   */
  async payout(id: string): Promise<TransactionReceipt> {
    return this.#exclusive(id, () => this.#payout(id));
  }

  async #payout(id: string): Promise<TransactionReceipt> {
    await this.#assertChain();
    const record = await this.#channel(id);
    if (!(await this.onChain(record.id)).finalized) {
      throw new PiecepayError("NOT_FINALIZED", `channel ${id} has not finalized yet`);
    }
    const { variablePart, owed, heldEth } = await this.registration(record.id);
    if (owed.length === 0) {
      // Paid out already (by the other side, or by our watcher while we waited for this lock): sending again would
      // present a registration that no longer matches (FingerprintMismatch). The payout's own receipt answers.
      const paidBy = (await this.settlement(record.id)).txHashes.at(-1);
      const receipt = paidBy ? await this.#provider().getTransactionReceipt(paidBy) : null;
      if (!receipt) throw new PiecepayError("NOTHING_OWED", `channel ${id} owes nothing: nothing to pay out`);
      await this.store.setPhase(record.id, "withdrawn");
      return receipt;
    }
    const hash = stateHash(record.id, variablePart);
    let receipt: TransactionReceipt;
    try {
      receipt = await this.#send("transferAllAssets", () =>
        this.adjudicator.transferAllAssets(record.id, hash, owed, heldEth),
      );
    } catch (error) {
      if (!isRevert(error) || owed.length !== 1 || owedTo(owed, record.myIndex) === 0n) throw error;
      this.#log("payout-ours-alone", { channelId: record.id, why: String(error) });
      receipt = await this.#send("transfer", () =>
        this.adjudicator.transfer(0n, record.id, hash, owed, heldEth, [BigInt(record.myIndex)]),
      );
    }
    await this.store.setPhase(record.id, "withdrawn");
    return receipt;
  }

  /**
   * The state registered on chain for a channel (see `registration`).
   * @throws PiecepayError REGISTERED_STATE_UNKNOWN
   * @example const registered = await client.registeredState(id)
   */
  async registeredState(id: string): Promise<VariablePart> {
    return (await this.registration(id)).variablePart;
  }

  /**
   * What the fingerprint of a channel under challenge or finalized commits to: the state (one of its
   * `ChallengeRegistered` events, or a final state we signed), the outcome still owed and the ETH committed
   * (named by its events), whichever matches.
   * @throws PiecepayError REGISTERED_STATE_UNKNOWN
   * @example const { variablePart, owed, heldEth } = await client.registration(id)
   */
  async registration(id: string): Promise<RegisteredState> {
    const record = await this.#channel(id);
    const found = await findRegistration(this.adjudicator, record.id, record.finalStates ?? []);
    if (!found) {
      throw new PiecepayError("REGISTERED_STATE_UNKNOWN", `no known state of channel ${id} matches its fingerprint`);
    }
    return found;
  }

  /** The registration argument: the one the events name while a challenge runs, none on an open channel. */
  async #registrationIfChallenged(id: string): Promise<Registration> {
    const [, finalizesAt] = await this.adjudicator.statusOf(id);
    return finalizesAt === 0n ? NO_REGISTRATION : registrationOf(id, await this.registration(id));
  }

  /**
   * The payee alone enforces its largest voucher: challenge with it, keep defending it (a later voucher is
   * registered in its place) until it finalizes, one challenge duration after the first challenge, and pay out.
   * `waitFor` lets a test move the chain's clock.
   * @example await payee.redeem(id)
   */
  async redeem(
    id: string,
    options: { waitFor?: (finalizesAt: bigint) => Promise<void> } = {},
  ): Promise<TransactionReceipt> {
    const record = await this.#channel(id);
    // Each step holds the channel's lock, so that our own watcher, defending the same channel, never acts on a
    // registration that this step is replacing (it used to log FingerprintMismatch against our own challenge).
    await this.#exclusive(record.id, async () => {
      const onChain = await this.onChain(record.id);
      if (onChain.challenged) return this.#defend(record.id);
      // A channel holding nothing (its deposit left the chain in a re-org, or never came): a challenge would cost
      // gas and pay nothing.
      if (!onChain.finalized && onChain.holdings === 0n) {
        throw new PiecepayError("NOTHING_HELD", `channel ${record.id} holds nothing on chain: nothing to enforce`);
      }
      if (!onChain.finalized) await this.challenge(record.id);
    });
    for (;;) {
      const finalizesAt = await this.#exclusive(record.id, async () => {
        const onChain = await this.onChain(record.id);
        if (onChain.finalized) return undefined;
        // Under ADR 0005 a challenged channel never reopens; should one be open anyway, register again.
        if (!onChain.challenged) await this.challenge(record.id);
        else await this.#defend(record.id);
        return (await this.onChain(record.id)).finalizesAt;
      });
      if (finalizesAt === undefined) break;
      if (options.waitFor) await options.waitFor(finalizesAt);
      else await sleep(this.#options.pollingIntervalMs ?? 4000);
    }
    return this.payout(record.id);
  }

  /**
   * What channel `id` actually paid out on chain, from the adjudicator's `PaidOut` events in the chain as the RPC
   * sees it now: the only figures to report as paid or earned (a close that paid nothing emitted nothing).
   * @example const { toUs, toPeer } = await payee.settlement(id)
   */
  async settlement(id: string): Promise<Settlement & { toUs: bigint; toPeer: bigint }> {
    const record = await this.#channel(id);
    const settled = await settlementOf(this.adjudicator, record.id, destinationsOf(record));
    return { ...settled, toUs: settled.paid[record.myIndex] ?? 0n, toPeer: settled.paid[1 - record.myIndex] ?? 0n };
  }

  /**
   * What one transaction of channel `id` paid each side, from its `PaidOut` events (0 for a payout that found
   * nothing to pay).
   * @example const { toUs } = await payee.settlementIn(id, await payee.payout(id))
   */
  async settlementIn(id: string, receipt: TransactionReceipt): Promise<{ toUs: bigint; toPeer: bigint }> {
    const record = await this.#channel(id);
    const paid = [0n, 0n];
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== (this.adjudicator.target as string).toLowerCase()) continue;
      const parsed = this.adjudicator.interface.parseLog(log);
      if (parsed?.name !== "PaidOut" || parsed.args.channelId.toLowerCase() !== record.id) continue;
      const i = destinationsOf(record).indexOf(parsed.args.destination.toLowerCase());
      if (i === 0 || i === 1) paid[i] += parsed.args.amount as bigint;
    }
    return { toUs: paid[record.myIndex], toPeer: paid[1 - record.myIndex] };
  }

  /**
   * Brings the store's phase of a channel in line with the chain: a channel the other side challenged, concluded or
   * paid out while we were away (a seeder that enforced our vouchers) no longer shows "open" or "closing"; one whose
   * close a re-org removed is open again. Returns the phase now stored.
   * @example await payer.syncPhase(id) // "withdrawn" once the seeder's enforcement paid both sides
   */
  async syncPhase(id: string): Promise<ChannelRecord["phase"]> {
    return this.#exclusive(id, async () => {
      const record = await this.#channel(id);
      if (record.phase === "proposed" || record.phase === "funding") return record.phase;
      const onChain = await this.onChain(record.id);
      let phase: ChannelRecord["phase"] = record.phase;
      if (onChain.challenged) phase = "challenged";
      else if (onChain.finalized) {
        // Nothing held, or nothing owed under the registration we can find: nothing left to pay out.
        const registered =
          onChain.holdings === 0n ? undefined : await this.registration(record.id).catch(() => undefined);
        phase = onChain.holdings === 0n || registered?.owed.length === 0 ? "withdrawn" : "finalized";
      } else if (record.phase === "withdrawn" || record.phase === "finalized" || record.phase === "challenged") {
        phase = "open"; // the chain says open: what ended it is no longer on the chain
      }
      if (phase !== record.phase) {
        await this.store.setPhase(record.id, phase);
        this.#log("phase-synced", { channelId: record.id, from: record.phase, to: phase });
      }
      return phase;
    });
  }

  /** Runs `step` after every earlier step on channel `id` of this client has ended: one actor per channel at once. */
  #exclusive<T>(id: string, step: () => Promise<T>): Promise<T> {
    const key = id.toLowerCase();
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(step, step);
    const settled = run.catch(() => undefined);
    this.#locks.set(key, settled);
    void settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return run;
  }

  readonly #locks = new Map<string, Promise<unknown>>();

  /**
   * Runs `step` after every earlier step of `queue` on channel `id`: vouchers paid, or received, one at a time per
   * channel. Apart from `#exclusive`, so that a voucher never waits behind a challenge's transaction.
   */
  #serialized<T>(queue: Map<string, Promise<unknown>>, id: string, step: () => Promise<T>): Promise<T> {
    const key = id.toLowerCase();
    const run = (queue.get(key) ?? Promise.resolve()).then(step, step);
    const settled = run.catch(() => undefined);
    queue.set(key, settled);
    void settled.then(() => {
      if (queue.get(key) === settled) queue.delete(key);
    });
    return run;
  }

  readonly #paying = new Map<string, Promise<unknown>>();
  readonly #receiving = new Map<string, Promise<unknown>>();

  // -------------------------------------------------------------------------------------------------- internals

  /** The final state paying `paid` to the payee (its appData is empty: a final state is never a proof's base). */
  async #finalState(record: ChannelRecord, paid: bigint): Promise<VariablePart> {
    const base = await this.#base(record);
    const { turnNumRecord } = await this.onChain(record.id);
    const turnNum =
      turnNumRecord > base.variablePart.turnNum + 2n ? turnNumRecord + 1n : base.variablePart.turnNum + 2n;
    return { outcome: splitOutcome(base.variablePart, paid), appData: "0x", turnNum, isFinal: true };
  }

  async #base(record: ChannelRecord): Promise<SignedVariablePart> {
    const base = await this.store.getSupportedState(record.id);
    if (!base) throw new PiecepayError("NO_SUPPORTED_STATE", `channel ${record.id} has no state signed by both`);
    return base;
  }

  #record(
    id: string,
    fixedPart: FixedPart,
    myIndex: number,
    funding: VariablePart,
    phase: ChannelRecord["phase"],
    peer?: string,
  ): ChannelRecord {
    return {
      id,
      chainId: this.#options.chainId,
      adjudicator: getAddress(this.#options.adjudicator),
      fixedPart,
      myIndex,
      asset: funding.outcome[0].asset,
      deposited: 0n,
      phase,
      destinations: funding.outcome[0].allocations.map((a) => a.destination.toLowerCase()),
      ...(peer === undefined ? {} : { peer }),
    };
  }

  async #channel(id: string): Promise<ChannelRecord> {
    const record = await this.store.getChannel(id);
    if (!record) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
    return record;
  }

  #channelId(fixedPart: FixedPart): string {
    return channelId(this.#options.chainId, this.#options.adjudicator, fixedPart).toLowerCase();
  }

  #assertDuration(duration: bigint): void {
    const min = this.minChallengeDuration();
    if (duration < min || duration > 365n * 24n * 3600n) {
      throw new PiecepayError(
        "CHALLENGE_DURATION_TOO_SHORT",
        `a challenge duration of ${duration} s leaves the watcher too little time (this client needs ${min} s to 365 days)`,
      );
    }
  }

  /** The wallet's provider: every read and every transaction go through it. */
  #provider() {
    const provider = this.#wallet.provider;
    if (!provider) {
      throw new PiecepayError(
        "NO_PROVIDER",
        `the ${this.#options.wallet ? "wallet" : "signer"} is not connected to a provider`,
      );
    }
    return provider;
  }

  /** When the chain id was last seen to be ours; a chain seen to be another, until a check says ours again. */
  #chainCheckedAt = 0;
  #wrongChain: PiecepayError | undefined;
  #chainCheck: Promise<void> | undefined;

  /**
   * The chain check of a step that sends nothing: throws if the last check saw another chain; when that check is
   * older than `chainCheckIntervalMs`, starts a new one in the background (the next call sees its verdict).
   */
  #assertChainRecently(): void {
    if (this.#wrongChain) throw this.#wrongChain;
    if (Date.now() - this.#chainCheckedAt <= (this.#options.chainCheckIntervalMs ?? 30_000)) return;
    this.#chainCheck ??= this.#assertChain()
      .catch(() => undefined) // an RPC outage: the next call tries again
      .finally(() => {
        this.#chainCheck = undefined;
      });
  }

  async #assertChain(): Promise<void> {
    try {
      await this.#checkChainId();
      this.#wrongChain = undefined;
      this.#chainCheckedAt = Date.now();
    } catch (error) {
      if (error instanceof PiecepayError && error.code === "WRONG_CHAIN") this.#wrongChain = error;
      throw error;
    }
  }

  async #checkChainId(): Promise<void> {
    const provider = this.#provider();
    // A RetryingJsonRpcProvider knows its chain statically (no round trip in getNetwork): ask it to look.
    let chainId: bigint;
    try {
      if (provider instanceof RetryingJsonRpcProvider) {
        await provider.checkChain();
        chainId = provider.expectedChainId;
      } else ({ chainId } = await provider.getNetwork());
    } catch (error) {
      if (error instanceof PiecepayError) throw error;
      // ethers throws NETWORK_ERROR ("network changed") when the RPC's chain id differs from the one it saw first
      // (a wallet whose user switched networks): ask the provider for the chain it is on now.
      if (isError(error, "NETWORK_ERROR")) {
        const now =
          provider instanceof JsonRpcApiProvider ? await provider.send("eth_chainId", []).catch(() => null) : null;
        if (now === null) {
          const why = `the ${this.#what()}'s chain changed under us: refusing to sign or send`;
          throw new PiecepayError("WRONG_CHAIN", why, { cause: error });
        }
        throw new WrongChainError(this.#options.chainId, BigInt(now), `the ${this.#what()}`, { cause: error });
      }
      throw new PiecepayError("RPC_UNAVAILABLE", `the ${this.#what()} did not tell its chain id`, { cause: error });
    }
    if (chainId !== this.#options.chainId) {
      throw new WrongChainError(this.#options.chainId, chainId, `the ${this.#what()}`);
    }
  }

  /**
   * Transactions of this client are submitted one at a time (each waits for the previous to reach the node): two
   * submitted at once from one account would both read the same pending nonce. Confirmations are awaited in
   * parallel.
   */
  #submitting: Promise<unknown> = Promise.resolve();

  async #send(
    what: string,
    send: () => Promise<ContractTransactionResponse>,
    onSubmitted?: (hash: string) => Promise<void>,
    confirmations = this.confirmations,
  ): Promise<TransactionReceipt> {
    await this.#assertChain();
    try {
      const submitted = this.#submitting.then(() => send());
      this.#submitting = submitted.catch(() => undefined);
      const tx = await submitted;
      await onSubmitted?.(tx.hash);
      const receipt = await tx.wait(confirmations);
      if (!receipt) throw new PiecepayError("TX_DROPPED", `the ${what} transaction was dropped`);
      this.#log("tx", { what, hash: receipt.hash, gasUsed: receipt.gasUsed, block: receipt.blockNumber });
      return receipt;
    } catch (error) {
      throw rejectionError(error, `the ${what} transaction`) ?? decodeContractError(error);
    }
  }

  /** What answers our chain checks: the wallet, or the RPC of a client without one. */
  #what(): string {
    return this.#options.wallet ? "wallet" : "RPC";
  }

  /**
   * Before a transaction: our wallet must hold `value` plus its gas (estimated, at the current fee), or the send
   * fails at once with INSUFFICIENT_FUNDS saying how much is held and needed, instead of an RPC error later.
   */
  async #assertCanPay(what: string, value: bigint, estimate: () => Promise<bigint>): Promise<void> {
    const provider = this.#provider();
    let balance: bigint;
    let fee: bigint;
    try {
      balance = await provider.getBalance(this.walletAddress);
      const feeData = await provider.getFeeData();
      fee = feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n;
    } catch (error) {
      throw new PiecepayError("RPC_UNAVAILABLE", "the RPC did not tell our balance", { cause: error });
    }
    // About twice a deposit's gas, when the node cannot estimate: it refuses for lack of funds, or the call would
    // revert (the send then reverts with the contract's reason, or takes its own fallback, e.g. a close in two steps).
    let gas = 100_000n;
    if (balance > value) {
      try {
        gas = await estimate();
      } catch {
        // keep the fallback
      }
    }
    const needed = value + gas * fee;
    if (balance < needed) {
      throw new InsufficientFundsError(
        this.walletAddress,
        ZeroAddress,
        balance,
        needed,
        `account ${this.walletAddress} holds ${ether(balance)} ETH; the ${what} needs ${ether(needed)} ETH (${ether(value)} ETH plus about ${ether(gas * fee)} ETH of gas)`,
        "Fund the account first (on a local chain, send it ETH from one of the node's funded accounts).",
      );
    }
  }

  #log(event: string, fields: Record<string, unknown>): void {
    this.#options.log?.(event, { account: this.address, ...fields });
  }
}

/**
 * A voucher channel's funding state: turn 0, the whole deposit allocated back to the payer, nothing to the payee.
 * `destinations` says where each side is paid (its wallet; default: the participant itself).
 * @example const funding = fundingState(fixedPart, ZeroAddress, parseEther("1"), { payer: payerWallet })
 */
export function fundingState(
  fixedPart: FixedPart,
  asset: string,
  deposit: bigint,
  destinations: { payer?: string; payee?: string } = {},
): VariablePart {
  return {
    outcome: [
      {
        asset: getAddress(asset),
        allocations: [
          { destination: toDestination(destinations.payer ?? fixedPart.participants[PAYER]), amount: deposit },
          { destination: toDestination(destinations.payee ?? fixedPart.participants[PAYEE]), amount: 0n },
        ],
      },
    ],
    appData: "0x",
    turnNum: 0n,
    isFinal: false,
  };
}

/** The address of an external destination (its low 20 bytes). */
function addressOf(destination: string): string {
  return getAddress(dataSlice(destination, 12));
}

/**
 * `base`'s outcome with `paid` moved from the payer's allocation to the payee's: what a close pays.
 * @example const final = { outcome: splitOutcome(funding, paid), appData: "0x", turnNum: 2n, isFinal: true }
 */
export function splitOutcome(base: VariablePart, paid: bigint): VariablePart["outcome"] {
  const [payer, payee] = base.outcome[0].allocations;
  return [
    {
      asset: base.outcome[0].asset,
      allocations: [
        { destination: payer.destination, amount: payer.amount - paid },
        { destination: payee.destination, amount: payee.amount + paid },
      ],
    },
  ];
}

/** The funding state `base` with `voucher.amount` moved to the payee and the voucher in its appData. */
function voucherState(base: VariablePart, voucher: Voucher, turnNum = base.turnNum + 1n): VariablePart {
  return { outcome: splitOutcome(base, voucher.amount), appData: encodeVoucher(voucher), turnNum, isFinal: false };
}

/** The signer of a state signature, or undefined for any malformed signature (never throws on peer input). */
function signerOf(hash: string, signature: unknown): string | undefined {
  try {
    return typeof signature === "string" ? recoverPersonalSigner(hash, signature) : undefined;
  } catch {
    return undefined;
  }
}

/** What `owed` (a one-asset outcome still owed, or `[]`) still owes participant `index`. */
function owedTo(owed: VariablePart["outcome"], index: number): bigint {
  return owed.length === 1 ? (owed[0].allocations[index]?.amount ?? 0n) : owed.length === 0 ? 0n : 1n;
}

/** Whether a send failed because the contract refused it (not the RPC, not our chain check). */
function isRevert(error: unknown): boolean {
  return error instanceof ContractRevertError || isError(error, "CALL_EXCEPTION");
}

/** Wei as ETH, without a trailing ".0": 0 ETH, 1.5 ETH. */
function ether(wei: bigint): string {
  return formatEther(wei).replace(/\.0$/, "");
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
