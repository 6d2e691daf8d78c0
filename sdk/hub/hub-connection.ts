// A user's side of the hub protocol (ADR 0021, decisions 4, 5 and 7): one logged-in connection to a hub, acting
// through a PiecepayContext (its signer signs, its wallet deposits, its store remembers). Nothing the hub sends is
// signed unless it is exactly one change this user expects: every ledger proposal goes through checkLedgerUpdate
// against the latest state we hold signed by both, with what we know of the virtual channel it concerns. Every state
// we countersign is stored before our signature leaves.
import { hexlify, randomBytes, ZeroAddress } from "ethers";
import { approveToken } from "../actions/fund.js";
import { checksumAddress as getAddress } from "../address.js";
import { channelId, stateHash } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import { sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { checkLedgerUpdate, finalLedger, type LedgerChange, ledgerBalances, ledgerOutcome } from "../ledger.js";
import { recoverPersonalSigner } from "../recover.js";
import { signState, toSigned } from "../signatures.js";
import type { ChannelRecord } from "../store/types.js";
import type { FixedPart, Outcome, SignedVariablePart, VariablePart } from "../types.js";
import { feeBpsOf, hubFee, virtualChannelOutcome, virtualNonce, virtualVoucherState } from "../virtual-voucher.js";
import { readOutcome, readSignedVariablePart, readVariablePart } from "./codec.js";
import { signLogin } from "./login.js";
import { HUB_API_VERSION, HubError } from "./protocol.js";
import { HubRpcClient } from "./rpc-client.js";

/** How long a call waits for a busy ledger (see #callWhenFree). */
const BUSY_PATIENCE_MS = 30_000;
const USER = 0;
const HUB = 1;
const PAYER = 0;
const PAYEE = 2;

/** What a hub says about itself (`info`). */
export interface HubInfo {
  hub: string;
  chainId: bigint;
  adjudicator: string;
  ledgerApp: string;
  virtualApp: string;
  feeBps: bigint;
  challengeDuration: bigint;
  maxCapacity: bigint;
  /** The assets its ledgers may hold (the zero address: ETH; else ERC-20 tokens). */
  assets: string[];
  /** The most it deposits into one payee's ledger, per asset (ETH's is `maxCapacity`). */
  capacities: Record<string, bigint>;
}

/** A payer's offer of a virtual channel, sent to the payee over the wire (`vpropose`). */
export interface VirtualProposal {
  fixedPart: FixedPart;
  v0: VariablePart;
  payerSignature: string;
  hubSignature: string;
  payerLedger: string;
  payeeLedger: string;
}

/** What happened to a proposal the hub pushed. */
export interface ProposalOutcome {
  ledgerId: string;
  purpose: string;
  /** Countersigned, or refused with the reason. */
  countersigned: boolean;
  reason?: string;
}

/**
 * One logged-in connection to a hub.
 * @example const hub = await HubConnection.connect(context, "ws://127.0.0.1:8600"); const ledger = await hub.openLedger({ deposit: parseEther("0.1") })
 */
export class HubConnection {
  /** Called after each proposal the hub pushed was countersigned or refused. */
  onProposal: (outcome: ProposalOutcome) => void = () => {};
  #queue: Promise<unknown> = Promise.resolve();
  /** Top-ups we asked for and have not seen folded, by ledger: the only top-up proposals we countersign. */
  readonly #topUps = new Map<string, { to: "user" | "hub"; amount: bigint; folded: () => void }>();
  /** Who waits for a virtual channel's guarantee or settlement in our ledger (`waitForLedger`), by channel id. */
  readonly #waiters = new Map<string, Set<() => void>>();

  private constructor(
    readonly context: PiecepayContext,
    readonly rpc: HubRpcClient,
    readonly info: HubInfo,
  ) {
    rpc.onNotification = (method, params) => {
      if (method === "virtual.closed") this.#queue = this.#queue.then(() => this.#keepFinal(params)).catch(() => {});
      if (method !== "ledger.proposed") return;
      this.#queue = this.#queue.then(() => this.#answerProposal(params)).catch(() => {});
    };
  }

  /**
   * Connects, checks that the hub serves our chain and adjudicator with this API version, and logs in with the
   * context's signer.
   * @throws PiecepayError RPC_UNAVAILABLE, WRONG_CHAIN, ABI_MISMATCH; HubError
   * @example const hub = await HubConnection.connect(context, url)
   */
  static async connect(
    context: PiecepayContext,
    url: string,
    options: { timeoutMs?: number; onProposal?: (outcome: ProposalOutcome) => void } = {},
  ): Promise<HubConnection> {
    const rpc = await HubRpcClient.connect(url, options);
    try {
      const raw = (await rpc.call("info", {})) as Record<string, unknown>;
      if (raw.api !== HUB_API_VERSION) {
        throw new PiecepayError(
          "ABI_MISMATCH",
          `hub ${url} speaks API ${String(raw.api)}, we speak ${HUB_API_VERSION}`,
        );
      }
      const info: HubInfo = {
        hub: getAddress(String(raw.hub)),
        chainId: BigInt(String(raw.chainId)),
        adjudicator: getAddress(String(raw.adjudicator)),
        ledgerApp: getAddress(String(raw.ledgerApp)),
        virtualApp: getAddress(String(raw.virtualApp)),
        feeBps: BigInt(String(raw.feeBps)),
        challengeDuration: BigInt(String(raw.challengeDuration)),
        maxCapacity: BigInt(String(raw.maxCapacity)),
        assets: (Array.isArray(raw.assets) ? raw.assets : [ZeroAddress]).map((a) => getAddress(String(a))),
        capacities: Object.fromEntries(
          Object.entries((raw.capacities ?? {}) as Record<string, unknown>).map(([a, c]) => [
            getAddress(a),
            BigInt(String(c)),
          ]),
        ),
      };
      if (info.chainId !== context.chainId) {
        throw new PiecepayError("WRONG_CHAIN", `hub ${url} is on chain ${info.chainId}, not ${context.chainId}`);
      }
      if (info.adjudicator !== getAddress(context.adjudicator.target as string)) {
        throw new PiecepayError("ABI_MISMATCH", `hub ${url} uses adjudicator ${info.adjudicator}`);
      }
      const connection = new HubConnection(context, rpc, info);
      // Before login: the hub pushes what waits for us as soon as we are logged in.
      if (options.onProposal !== undefined) connection.onProposal = options.onProposal;
      const { nonce } = (await rpc.call("login.nonce", {})) as { nonce: string };
      await rpc.call("login", {
        address: context.address,
        signature: await signLogin(context.signer, info.hub, context.chainId, nonce),
      });
      await connection.#resync();
      return connection;
    } catch (error) {
      rpc.close();
      throw error;
    }
  }

  /**
   * Closes the connection.
   * @example hub.close()
   */
  close(): void {
    this.rpc.close();
  }

  /**
   * Waits until every proposal pushed so far is answered.
   * @example await hub.settled()
   */
  async settled(): Promise<void> {
    await this.#queue;
  }

  /**
   * Opens a ledger with the hub: we deposit `deposit` (to pay others), or the hub deposits `capacity` (for us to be
   * paid), in `asset` (default ETH; a token the hub lists in `info.assets`, approved first). Resolves once the
   * ledger is open on chain.
   * @example const { ledgerId } = await hub.openLedger({ deposit: parseEther("0.1") })
   */
  async openLedger(params: { deposit?: bigint; capacity?: bigint; asset?: string }): Promise<{ ledgerId: string }> {
    const ctx = await withChainChecked(this.context);
    const deposit = params.deposit ?? 0n;
    const capacity = params.capacity ?? 0n;
    const asset = getAddress(params.asset ?? ZeroAddress);
    if (deposit > 0n === capacity > 0n) {
      throw new PiecepayError("INVALID_DEPOSIT", "a ledger holds either our deposit or the hub's capacity, above 0");
    }
    if (!this.info.assets.includes(asset)) {
      throw new PiecepayError("INVALID_DEPOSIT", `hub ${this.info.hub} keeps no ledger in ${asset}`);
    }
    const fixedPart: FixedPart = {
      participants: [ctx.address, this.info.hub],
      channelNonce: BigInt(hexlify(randomBytes(6))),
      appDefinition: this.info.ledgerApp,
      challengeDuration: this.info.challengeDuration,
    };
    const id = channelId(ctx.chainId, this.info.adjudicator, fixedPart);
    const state: VariablePart = {
      outcome: ledgerOutcome(asset, ctx.address, this.info.hub, deposit, capacity),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const signature = await signState(ctx.signer, id, state);
    await ctx.store.putChannel(this.#record(id, fixedPart, USER, { asset, ledger: { hubDeposit: capacity } }));
    const answer = (await this.rpc.call("ledger.open", { fixedPart, state, signature })) as { signature: string };
    this.#requireHubSignature(id, state, answer.signature);
    await ctx.store.putSupportedState(
      id,
      toSigned(
        state,
        new Map([
          [USER, signature],
          [HUB, answer.signature],
        ]),
      ),
    );
    if (deposit > 0n) {
      await this.#deposit(id, asset, 0n, deposit, "ledger deposit");
    }
    const synced = (await this.rpc.call("ledger.sync", { ledgerId: id })) as { phase: string; held: string };
    if (synced.phase !== "open") {
      throw new PiecepayError("CHANNEL_NOT_OPEN", `ledger ${id} is not open at the hub (${synced.phase})`);
    }
    await ctx.store.updateChannel(id, (r) => ({ ...r, phase: "open", deposited: BigInt(synced.held) }));
    return { ledgerId: id };
  }

  /**
   * Tops up our ledger (ADR 0021, decision 7) with `amount` of ours: the hub signs the next state with the top-up
   * appended last (paid only from what exceeds everything before it, so safe to sign before the deposit), we check
   * and countersign it, deposit `amount` on chain (one transaction), and countersign the hub's fold of it into our
   * balance. Resolves once folded: the ledger can then guarantee that much more.
   * @throws HubError (BUSY after a while, REFUSED: a top-up pending, NOT_FUNDED); PiecepayError of the deposit
   * @example await hub.topUpLedger(ledgerId, parseEther("0.5"))
   */
  async topUpLedger(ledgerId: string, amount: bigint): Promise<void> {
    const ctx = await withChainChecked(this.context);
    const id = ledgerId.toLowerCase();
    const folded = this.#expectTopUp(id, "user", amount);
    // A run before this one may have been interrupted after our countersignature: the top-up is in our latest
    // state already, and only the deposit (if not sent) and the fold remain.
    const current = ledgerBalances((await this.#latest(id)).variablePart.outcome).topUp;
    if (current?.to !== "user" || current.amount !== amount) {
      await this.#enqueue(await this.#callWhenFree("ledger.topUp", { ledgerId: id, amount, to: "user" }));
    }
    const latest = await this.#latest(id);
    const asset = getAddress(latest.variablePart.outcome[0].asset);
    const held = await ctx.adjudicator.holdings(asset, id);
    const total = latest.variablePart.outcome[0].allocations.reduce((a, x) => a + x.amount, 0n);
    // Deposited already when a run before this one was interrupted after its deposit: not twice.
    if (held < total) await this.#deposit(id, asset, held, amount, "ledger top-up");
    await this.#enqueue(await this.#callWhenFree("ledger.fold", { ledgerId: id }));
    await folded;
    await ctx.store.updateChannel(id, (r) => ({ ...r, deposited: total }));
  }

  /**
   * Asks the hub for `amount` more capacity in our ledger (a payee's: the hub deposits, we send no transaction):
   * we countersign its top-up proposal, it deposits, and we countersign its fold. Resolves once folded.
   * @throws HubError INSUFFICIENT_CAPACITY (above the hub's maximum per ledger), REFUSED, BUSY
   * @example await hub.requestCapacity(ledgerId, parseEther("1"))
   */
  async requestCapacity(ledgerId: string, amount: bigint, options: { timeoutMs?: number } = {}): Promise<void> {
    const id = ledgerId.toLowerCase();
    const folded = this.#expectTopUp(id, "hub", amount);
    await this.#enqueue(await this.#callWhenFree("ledger.topUp", { ledgerId: id, amount, to: "hub" }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      folded,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new PiecepayError("FUNDING_TIMEOUT", `the hub did not deposit its top-up of ${id} in time`)),
          options.timeoutMs ?? 120_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Notes the top-up we ask for, so that its proposal and its fold are the ones we countersign; resolves when folded. */
  #expectTopUp(id: string, to: "user" | "hub", amount: bigint): Promise<void> {
    if (amount <= 0n) throw new PiecepayError("INVALID_DEPOSIT", "a top-up is above 0");
    return new Promise<void>((resolve) => {
      this.#topUps.set(id, {
        to,
        amount,
        folded: () => {
          this.#topUps.delete(id);
          resolve();
        },
      });
    });
  }

  /**
   * Our free balance in a ledger (what we can still put into virtual channels, or, for the hub's, what it can).
   * @example const { user } = await hub.balances(ledgerId)
   */
  async balances(ledgerId: string): Promise<{ user: bigint; hub: bigint }> {
    const { user, hub } = ledgerBalances((await this.#latest(ledgerId)).variablePart.outcome);
    return { user, hub };
  }

  /**
   * The payer's first step: V [us, hub, payee] holding `amount` of our ledger, signed by us and the hub. Send the
   * proposal to the payee; its answer goes to `fundVirtual`.
   * @example const proposal = await hub.proposeVirtual({ payee, payeeLedger, payerLedger, amount })
   */
  async proposeVirtual(params: {
    payee: string;
    payerLedger: string;
    payeeLedger: string;
    amount: bigint;
  }): Promise<VirtualProposal> {
    const ctx = await withChainChecked(this.context);
    const payee = getAddress(params.payee);
    // V holds our ledger's asset: a virtual channel moves value between two ledgers of one asset.
    const asset = getAddress((await this.#latest(params.payerLedger.toLowerCase())).variablePart.outcome[0].asset);
    const fixedPart: FixedPart = {
      participants: [ctx.address, this.info.hub, payee],
      channelNonce: virtualNonce(this.info.feeBps, BigInt(hexlify(randomBytes(6)))),
      appDefinition: this.info.virtualApp,
      challengeDuration: this.info.challengeDuration,
    };
    const id = channelId(ctx.chainId, this.info.adjudicator, fixedPart);
    const v0: VariablePart = {
      outcome: virtualChannelOutcome(asset, ctx.address, this.info.hub, payee, params.amount),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const payerSignature = await signState(ctx.signer, id, v0);
    const answer = (await this.#callWhenFree("virtual.propose", {
      fixedPart,
      state: v0,
      signature: payerSignature,
      payerLedger: params.payerLedger,
      payeeLedger: params.payeeLedger,
    })) as { signature: string };
    this.#requireHubSignature(id, v0, answer.signature);
    await ctx.store.putChannel(
      this.#record(id, fixedPart, PAYER, {
        asset,
        virtual: this.#virtualInfo(params.payerLedger, params.payeeLedger, params.amount, v0, [
          [PAYER, payerSignature],
          [1, answer.signature],
        ]),
      }),
    );
    return { fixedPart, v0, payerSignature, hubSignature: answer.signature, ...params };
  }

  /**
   * The payee's answer to a proposal: checks V (us as payee, this hub, its fee, our ledger) and both signatures,
   * stores it and returns our signature on V0. The hub then proposes its guarantee in our ledger, which this
   * connection countersigns when it comes.
   * @throws PiecepayError INVALID_PROPOSAL
   * @example const payeeSignature = await hub.joinVirtual(proposal, { payeeLedger })
   */
  async joinVirtual(proposal: VirtualProposal): Promise<string> {
    const ctx = await withChainChecked(this.context);
    const { fixedPart, v0 } = proposal;
    const bad = (why: string) => new PiecepayError("INVALID_PROPOSAL", `virtual channel refused: ${why}`);
    const [payer, hub, payee] = fixedPart.participants.map((p) => getAddress(p));
    if (fixedPart.participants.length !== 3 || hub !== this.info.hub || payee !== ctx.address || payer === payee) {
      throw bad(`participants are not [payer, ${this.info.hub}, us]`);
    }
    if (getAddress(fixedPart.appDefinition) !== this.info.virtualApp) throw bad("another app");
    if (fixedPart.challengeDuration !== this.info.challengeDuration) throw bad("another challenge duration");
    if (feeBpsOf(fixedPart.channelNonce) !== this.info.feeBps) throw bad("another fee than the hub's");
    const x = v0.outcome[0]?.allocations[PAYER]?.amount ?? 0n;
    // In our ledger's asset: a virtual channel moves value between two ledgers of one asset.
    const ours = await ctx.store.getChannel(proposal.payeeLedger);
    const expected = virtualChannelOutcome(ours?.asset ?? ZeroAddress, payer, hub, payee, x);
    if (x <= 0n || v0.turnNum !== 0n || v0.isFinal || v0.appData !== "0x" || !sameOutcome(v0.outcome, expected)) {
      throw bad("V0 is not [x, 0, 0] at turn 0");
    }
    const id = channelId(ctx.chainId, this.info.adjudicator, fixedPart);
    const hash = stateHash(id, v0);
    if (recoverPersonalSigner(hash, proposal.payerSignature) !== payer) throw bad("not signed by the payer");
    if (recoverPersonalSigner(hash, proposal.hubSignature) !== hub) throw bad("not signed by the hub");
    if (ours?.ledger === undefined || ours.myIndex !== USER || ours.phase !== "open") throw bad("not our open ledger");
    const payeeSignature = await signState(ctx.signer, id, v0);
    await ctx.store.putChannel(
      this.#record(id, fixedPart, PAYEE, {
        asset: ours.asset,
        virtual: this.#virtualInfo(proposal.payerLedger, proposal.payeeLedger, x, v0, [
          [PAYER, proposal.payerSignature],
          [1, proposal.hubSignature],
          [PAYEE, payeeSignature],
        ]),
      }),
    );
    return payeeSignature;
  }

  /**
   * The payer's last step: with the payee's signature V0 is supported; the hub proposes our guarantee, which we
   * check and countersign. Resolves once the hub holds it (the hub then funds the payee's side).
   * @example await hub.fundVirtual(proposal, payeeSignature)
   */
  async fundVirtual(proposal: VirtualProposal, payeeSignature: string): Promise<void> {
    const ctx = await withChainChecked(this.context);
    const id = channelId(ctx.chainId, this.info.adjudicator, proposal.fixedPart);
    const payee = getAddress(proposal.fixedPart.participants[PAYEE]);
    if (recoverPersonalSigner(stateHash(id, proposal.v0), payeeSignature) !== payee) {
      throw new PiecepayError("INVALID_ACCEPTANCE", "V0 is not signed by the payee");
    }
    await ctx.store.updateChannel(id, (r) => {
      const v = r.virtual;
      if (v === undefined) return undefined;
      const sigs = new Map([
        [PAYER, v.v0.sigs[0]],
        [1, v.v0.sigs[1]],
        [PAYEE, payeeSignature],
      ]);
      return { ...r, phase: "funding", virtual: { ...v, v0: toSigned(v.v0.variablePart, sigs) } };
    });
    const pending = (await this.#callWhenFree("virtual.fund", { virtualId: id, payeeSignature })) as Record<
      string,
      unknown
    >;
    if (pending.state !== undefined) await this.#enqueue(pending);
  }

  /**
   * The final state of V at `paid` to the payee, signed by us (payer or payee): both sign it, then either sends it
   * with `closeVirtual`.
   * @example const { state, signature } = await hub.finalState(virtualId, paid)
   */
  async finalState(virtualId: string, paid: bigint): Promise<{ state: VariablePart; signature: string }> {
    const record = await this.#virtual(virtualId);
    const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
    const fee = hubFee(paid, info.feeBps);
    const [payer, hub, payee] = record.fixedPart.participants;
    const base = virtualChannelOutcome(record.asset, payer, hub, payee, info.amount)[0];
    const amounts = [info.amount - paid - fee, fee, paid];
    if (amounts[0] < 0n)
      throw new PiecepayError("INVALID_CLOSE_AMOUNT", `${paid} + fee ${fee} is above ${info.amount}`);
    const state: VariablePart = {
      outcome: [{ asset: base.asset, allocations: base.allocations.map((a, i) => ({ ...a, amount: amounts[i] })) }],
      appData: "0x",
      turnNum: 1n,
      isFinal: true,
    };
    // Kept before our signature leaves: if someone concludes V with it, the Concluded event does not carry the
    // state, and our reclaim needs it to read what V owes us (sdk/hub/exit.ts).
    await this.context.store.updateChannel(virtualId, (r) =>
      (r.finalStates ?? []).some((s) => stateHash(virtualId, s) === stateHash(virtualId, state))
        ? undefined
        : { ...r, finalStates: [...(r.finalStates ?? []), state] },
    );
    return { state, signature: await signState(this.context.signer, virtualId, state) };
  }

  /**
   * Closes V with its final state signed by payer and payee: the hub countersigns, then settles both ledgers by it
   * (this connection countersigns our ledger's settlement when it comes).
   * @example await hub.closeVirtual(virtualId, state, payerSignature, payeeSignature)
   */
  async closeVirtual(
    virtualId: string,
    state: VariablePart,
    payerSignature: string,
    payeeSignature: string,
  ): Promise<void> {
    // Stored before the hub hears of it: the settlement it pushes next is checked against this state.
    const signed = (hubSignature?: string) =>
      toSigned(
        state,
        new Map([
          [PAYER, payerSignature],
          ...(hubSignature === undefined ? [] : ([[1, hubSignature]] as [number, string][])),
          [PAYEE, payeeSignature],
        ]),
      );
    await this.context.store.updateChannel(virtualId, (r) =>
      r.virtual === undefined ? undefined : { ...r, phase: "closing", virtual: { ...r.virtual, final: signed() } },
    );
    const answer = (await this.#callWhenFree("virtual.close", {
      virtualId,
      state,
      payerSignature,
      payeeSignature,
    })) as { signature: string };
    this.#requireHubSignature(virtualId, state, answer.signature);
    await this.context.store.updateChannel(virtualId, (r) =>
      r.virtual === undefined ? undefined : { ...r, virtual: { ...r.virtual, final: signed(answer.signature) } },
    );
  }

  /**
   * The payee's answer to the payer's close: checks that the payer signed V's final state at `paid` and that `paid`
   * is at least `minimum` (what we delivered), then countersigns it and closes V with the hub (`closeVirtual`).
   * Returns our signature, for the payer. The hub then settles our ledger by it, which this connection countersigns.
   * @throws PiecepayError INVALID_CLOSE_OFFER (not the payer's signature, or below `minimum`), INVALID_CLOSE_AMOUNT
   * @example const payeeSignature = await hub.acceptClose(virtualId, paid, payerSignature, { minimum: served })
   */
  async acceptClose(
    virtualId: string,
    paid: bigint,
    payerSignature: string,
    options: { minimum: bigint },
  ): Promise<string> {
    const record = await this.#virtual(virtualId);
    if (record.myIndex !== PAYEE) throw new PiecepayError("NOT_PAYEE", `we are not the payee of ${virtualId}`);
    if (paid < options.minimum) {
      throw new PiecepayError("INVALID_CLOSE_OFFER", `a close at ${paid} is below the ${options.minimum} we are owed`);
    }
    const { state, signature } = await this.finalState(virtualId, paid);
    const payer = getAddress(record.fixedPart.participants[PAYER]);
    if (recoverPersonalSigner(stateHash(virtualId, state), payerSignature) !== payer) {
      throw new PiecepayError("INVALID_CLOSE_OFFER", "the close is not signed by the payer");
    }
    await this.closeVirtual(virtualId, state, payerSignature, signature);
    return signature;
  }

  /**
   * Resolves once our ledger holds V's guarantee (`"guaranteed"`: the hub's proposal countersigned) or has settled it
   * (`"settled"`), at once if it already does; rejects after `timeoutMs` (FUNDING_TIMEOUT) or when `signal` aborts (FUNDING_ABORTED).
   * @example await hub.waitForLedger(virtualId, "guaranteed", { timeoutMs: 30_000 })
   */
  async waitForLedger(
    virtualId: string,
    what: "guaranteed" | "settled",
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const id = virtualId.toLowerCase();
    const done = async () => {
      const record = await this.#virtual(id);
      const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
      return info[what][record.myIndex === PAYER ? "payer" : "payee"];
    };
    if (await done()) return;
    await new Promise<void>((resolve, reject) => {
      const waiters = this.#waiters.get(id) ?? new Set<() => void>();
      this.#waiters.set(id, waiters);
      const end = (error?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", aborted);
        waiters.delete(check);
        if (waiters.size === 0) this.#waiters.delete(id);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        done().then((yes) => yes && end(), end);
      };
      const aborted = () => end(new PiecepayError("FUNDING_ABORTED", `stopped waiting for ${id} to be ${what}`));
      const timer = setTimeout(
        () => end(new PiecepayError("FUNDING_TIMEOUT", `the hub did not get ${id} ${what} in our ledger in time`)),
        options.timeoutMs ?? 60_000,
      );
      options.signal?.addEventListener("abort", aborted);
      waiters.add(check);
      check(); // it may have happened between the first look and now
    });
  }

  /**
   * The payee's settlement without the payer: its largest received voucher as a state on V0, signed by us alone.
   * @example await hub.settleVirtual(virtualId)
   */
  async settleVirtual(virtualId: string): Promise<void> {
    const record = await this.#virtual(virtualId);
    const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
    const voucher = await this.context.store.getVoucher("received", virtualId);
    if (voucher === undefined) throw new PiecepayError("INVALID_CLOSE_AMOUNT", "no voucher received on this channel");
    const state = virtualVoucherState(record.fixedPart, info.v0.variablePart, voucher);
    const signature = await signState(this.context.signer, virtualId, state);
    const candidate = toSigned(state, new Map([[PAYEE, signature]]));
    await this.context.store.updateChannel(virtualId, (r) =>
      r.virtual === undefined
        ? undefined
        : { ...r, phase: "closing", virtual: { ...r.virtual, voucherState: candidate } },
    );
    await this.#callWhenFree("virtual.settle", { virtualId, candidate });
  }

  /**
   * Withdraws a ledger: the hub signs its final state (no live guarantee), we countersign and conclude on chain.
   * @example const receipt = await hub.withdraw(ledgerId)
   */
  async withdraw(ledgerId: string) {
    const ctx = await withChainChecked(this.context);
    const latest = await this.#latest(ledgerId);
    const answer = (await this.#callWhenFree("ledger.close", { ledgerId })) as Record<string, unknown>;
    const state = readVariablePart(answer, "state");
    const expected = finalLedger(latest.variablePart);
    checkLedgerUpdate(latest.variablePart, state, { kind: "final" });
    if (stateHash(ledgerId, state) !== stateHash(ledgerId, expected)) {
      throw new PiecepayError("INVALID_CLOSE_OFFER", "the hub's final state is not our latest, final");
    }
    const hubSignature = String(answer.signature);
    this.#requireHubSignature(ledgerId, state, hubSignature);
    const ours = await signState(ctx.signer, ledgerId, state);
    const final = toSigned(
      state,
      new Map([
        [USER, ours],
        [HUB, hubSignature],
      ]),
    );
    await ctx.store.putSupportedState(ledgerId, final);
    const record = await ctx.store.getChannel(ledgerId);
    if (record === undefined) throw new PiecepayError("UNKNOWN_CHANNEL", `no ledger ${ledgerId}`);
    return sendTransaction(ctx, "ledger close", () =>
      ctx.adjudicator.concludeAndTransferAllAssets(record.fixedPart, final),
    );
  }

  /**
   * After a reconnect: a countersignature we stored but the hub never got (either side crashed in between) is sent
   * again, so both hold the same latest state of each of our ledgers with this hub.
   */
  async #resync(): Promise<void> {
    for (const record of await this.context.store.listChannels()) {
      if (record.ledger === undefined || getAddress(record.fixedPart.participants[HUB]) !== this.info.hub) continue;
      const ours = await this.context.store.getSupportedState(record.id);
      if (ours === undefined || ours.signedBy !== 3n) continue;
      const theirs = (await this.rpc.call("ledger.get", { ledgerId: record.id }).catch(() => undefined)) as
        | { latest?: { variablePart?: { turnNum?: string } }; pending?: { purpose?: string } }
        | undefined;
      const hubTurn = BigInt(theirs?.latest?.variablePart?.turnNum ?? "-1");
      if (theirs?.pending === undefined || hubTurn >= ours.variablePart.turnNum) continue;
      await this.rpc.call("ledger.countersign", {
        ledgerId: record.id,
        turnNum: ours.variablePart.turnNum,
        signature: ours.sigs[USER],
      });
      const purpose = String(theirs.pending.purpose);
      await this.#noteCompleted(record.id, purpose);
      this.onProposal({ ledgerId: record.id, purpose, countersigned: true });
    }
  }

  // ------------------------------------------------------------------------------------------------ proposals

  #enqueue(params: unknown): Promise<void> {
    const answered = this.#queue.then(() => this.#answerProposal(params));
    this.#queue = answered.catch(() => {});
    return answered;
  }

  /**
   * Keeps V_F signed by all three, pushed by the hub when the other side closed V: with it we can conclude V on
   * chain ourselves. Kept only if every signature is its participant's over a final state of a V of ours.
   */
  async #keepFinal(params: unknown): Promise<void> {
    const id = String((params as { virtualId?: unknown }).virtualId).toLowerCase();
    const record = await this.context.store.getChannel(id);
    if (record?.virtual === undefined || record.virtual.final?.signedBy === 7n) return;
    const final = readSignedVariablePart(params, "final");
    const hash = stateHash(id, final.variablePart);
    const signers = final.sigs.map((sig) => recoverPersonalSigner(hash, sig));
    const participants = record.fixedPart.participants.map((p) => getAddress(p));
    if (final.signedBy !== 7n || !final.variablePart.isFinal || signers.some((s, i) => s !== participants[i])) {
      this.context.log("hub-final-refused", { virtualId: id });
      return;
    }
    checkVirtualOutcome(record, final.variablePart.outcome);
    await this.context.store.updateChannel(id, (r) =>
      r.virtual === undefined ? undefined : { ...r, phase: "closing", virtual: { ...r.virtual, final } },
    );
  }

  /** Checks a ledger proposal against the one change we expect for its purpose; countersigns it or refuses. */
  async #answerProposal(params: unknown): Promise<void> {
    const ledgerId = String((params as { ledgerId?: unknown }).ledgerId).toLowerCase();
    const purpose = String((params as { purpose?: unknown }).purpose);
    try {
      const state = readVariablePart(params, "state");
      const hubSignature = String((params as { signature?: unknown }).signature);
      this.#requireHubSignature(ledgerId, state, hubSignature);
      const latest = await this.#latest(ledgerId);
      if (state.turnNum <= latest.variablePart.turnNum) {
        // Pushed again (at login, after a restart of either side): if it is the state we countersigned, our
        // signature may never have reached the hub, so send it again; anything else at that turn is refused.
        if (stateHash(ledgerId, state) !== stateHash(ledgerId, latest.variablePart)) {
          throw new PiecepayError("INVALID_PROPOSAL", `the hub proposes another state at turn ${state.turnNum}`);
        }
        const answer = (await this.rpc.call("ledger.countersign", {
          ledgerId,
          turnNum: state.turnNum,
          signature: latest.sigs[USER],
        })) as { already?: boolean };
        if (answer?.already !== true) this.onProposal({ ledgerId, purpose, countersigned: true });
        return;
      }
      checkLedgerUpdate(latest.variablePart, state, await this.#expectedChange(ledgerId, purpose, params));
      const signature = await signState(this.context.signer, ledgerId, state);
      await this.context.store.putSupportedState(
        ledgerId,
        toSigned(
          state,
          new Map([
            [USER, signature],
            [HUB, hubSignature],
          ]),
        ),
      );
      await this.#noteCompleted(ledgerId, purpose);
      await this.rpc.call("ledger.countersign", { ledgerId, turnNum: state.turnNum, signature });
      this.onProposal({ ledgerId, purpose, countersigned: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.context.log("hub-proposal-refused", { ledgerId, purpose, reason });
      this.onProposal({ ledgerId, purpose, countersigned: false, reason });
      throw error;
    }
  }

  /** The change `purpose` may make to our ledger, from what we hold about its virtual channel. */
  async #expectedChange(ledgerId: string, purpose: string, params: unknown): Promise<LedgerChange> {
    const [what, id] = purpose.split(" ");
    const refuse = (why: string) => new PiecepayError("INVALID_PROPOSAL", `hub proposal ${purpose} refused: ${why}`);
    if (what === "topUp" || what === "fold") {
      // A fold moves the trailing top-up into the balance it names and nothing else (checkLedgerUpdate holds it to
      // that): it never takes from us, so it is signed whenever it comes, after a restart of ours too. A top-up
      // only as we asked for it: the amount and the side.
      if (what === "fold") return { kind: "foldTopUp" };
      const asked = this.#topUps.get(ledgerId);
      if (asked === undefined) throw refuse("we asked for no top-up");
      if (purpose !== `topUp ${asked.to} ${asked.amount}`) throw refuse(`we asked for ${asked.amount} to ${asked.to}`);
      return { kind: "proposeTopUp", amount: asked.amount, to: asked.to };
    }
    const record = id === undefined ? undefined : await this.context.store.getChannel(id);
    const info = record?.virtual;
    if (record === undefined || info === undefined) throw refuse("no such virtual channel of ours");
    const side = record.myIndex === PAYER ? "payer" : "payee";
    if ((side === "payer" ? info.payerLedger : info.payeeLedger).toLowerCase() !== ledgerId) {
      throw refuse("not our ledger for this virtual channel");
    }
    if (what === "fund") {
      if (info.v0.signedBy !== 7n) throw refuse("V0 is not signed by all three yet");
      return side === "payer"
        ? { kind: "fund", target: id, amount: info.amount, from: "user", supportedV0: info.v0.variablePart }
        : {
            kind: "fund",
            target: id,
            amount: info.amount,
            from: "hub",
            supportedV0: info.v0.variablePart,
            payerGuarantee: info.amount,
          };
    }
    if (what === "settle") {
      const voucher = await this.context.store.getVoucher(side === "payer" ? "sent" : "received", id);
      const virtualOutcome = info.final?.variablePart.outcome ?? readOutcome(params, "virtualOutcome");
      if (info.final === undefined && side === "payee" && info.voucherState === undefined) {
        throw refuse("we neither closed nor settled this channel");
      }
      checkVirtualOutcome(record, virtualOutcome);
      // A final state we signed is what we agreed to, whatever vouchers came before it: a payee that closed at what
      // it delivered, below the payer's largest voucher, settles at that. Without one, our largest voucher bounds it.
      const agreed = info.final?.variablePart.outcome[0]?.allocations[PAYEE]?.amount;
      return {
        kind: "settle",
        target: id,
        virtualOutcome,
        side,
        largestVoucher: agreed ?? voucher?.amount ?? 0n,
      };
    }
    throw refuse("unknown purpose");
  }

  async #noteCompleted(ledgerId: string, purpose: string): Promise<void> {
    const [what, id] = purpose.split(" ");
    if (what === "fold") this.#topUps.get(ledgerId)?.folded();
    if (what === "topUp" || what === "fold") return;
    await this.#markCompleted(what, id);
    for (const wake of this.#waiters.get(id?.toLowerCase()) ?? []) wake();
  }

  async #markCompleted(what: string, id: string): Promise<void> {
    await this.context.store.updateChannel(id, (r) => {
      const v = r.virtual;
      if (v === undefined) return undefined;
      // Our side is our index in V, never the ledger ids: a payee learns the payer's ledger from the payer's
      // `vpropose`, a field no signature covers, and one naming the payee's own ledger would mark the wrong side.
      const side = r.myIndex === PAYER ? "payer" : "payee";
      return what === "fund"
        ? { ...r, phase: "open", virtual: { ...v, guaranteed: { ...v.guaranteed, [side]: true } } }
        : { ...r, phase: "finalized", virtual: { ...v, settled: { ...v.settled, [side]: true } } };
    });
  }

  // ----------------------------------------------------------------------------------------------- plumbing

  /** Our deposit of `amount` into ledger `id` holding `held`: a token approved first; recorded before it is sent. */
  async #deposit(id: string, asset: string, held: bigint, amount: bigint, what: string): Promise<void> {
    const ctx = this.context;
    if (asset !== ZeroAddress) await approveToken(ctx, asset, amount);
    await ctx.store.updateChannel(id, (r) => ({
      ...r,
      ...(r.phase === "proposed" ? { phase: "funding" } : {}),
      funding: { amount },
    }));
    const value = asset === ZeroAddress ? amount : 0n;
    await sendTransaction(ctx, what, () => ctx.adjudicator.deposit(asset, id, held, amount, { value }));
  }

  /**
   * `method`, again while the hub answers BUSY: a ledger takes one proposal at a time, and one of ours (or the
   * other side's, for a virtual channel's close) waits for its countersignature, which comes within milliseconds.
   * Several virtual channels opened at once on one ledger thus go one after another. The hub refuses BUSY before it
   * does anything, so a call again is a first call. Gives up after BUSY_PATIENCE_MS.
   */
  async #callWhenFree(method: string, params: unknown): Promise<unknown> {
    const deadline = Date.now() + BUSY_PATIENCE_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      try {
        return await this.rpc.call(method, params);
      } catch (error) {
        if (!(error instanceof HubError) || error.reason !== "BUSY" || Date.now() + wait > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
      }
    }
  }

  async #latest(ledgerId: string): Promise<SignedVariablePart> {
    const latest = await this.context.store.getSupportedState(ledgerId);
    if (latest === undefined) throw new PiecepayError("UNKNOWN_CHANNEL", `no ledger ${ledgerId} in our store`);
    return latest;
  }

  async #virtual(id: string): Promise<ChannelRecord> {
    const record = await this.context.store.getChannel(id);
    if (record?.virtual === undefined) throw new PiecepayError("UNKNOWN_CHANNEL", `no virtual channel ${id}`);
    return record;
  }

  #requireHubSignature(id: string, state: VariablePart, signature: string): void {
    if (recoverPersonalSigner(stateHash(id, state), signature) !== this.info.hub) {
      throw new PiecepayError("INVALID_PROPOSAL", `the hub's signature on ${id} is not the hub's`);
    }
  }

  #record(id: string, fixedPart: FixedPart, myIndex: number, extra: Partial<ChannelRecord>): ChannelRecord {
    return {
      id,
      chainId: this.context.chainId,
      adjudicator: this.info.adjudicator,
      fixedPart,
      myIndex,
      asset: ZeroAddress,
      deposited: 0n,
      phase: "proposed",
      peer: `hub ${this.info.hub}`,
      ...extra,
    };
  }

  #virtualInfo(
    payerLedger: string,
    payeeLedger: string,
    amount: bigint,
    v0: VariablePart,
    sigs: [number, string][],
  ): NonNullable<ChannelRecord["virtual"]> {
    return {
      payerLedger: payerLedger.toLowerCase(),
      payeeLedger: payeeLedger.toLowerCase(),
      amount,
      feeBps: this.info.feeBps,
      v0: toSigned(v0, new Map(sigs)),
      guaranteed: { payer: false, payee: false },
      settled: { payer: false, payee: false },
    };
  }
}

/** A settlement's virtual outcome must be [x - p - fee(p), fee(p), p] to V's three destinations. */
function checkVirtualOutcome(record: ChannelRecord, outcome: Outcome): void {
  const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
  const p = outcome[0]?.allocations[PAYEE]?.amount ?? -1n;
  const [payer, hub, payee] = record.fixedPart.participants;
  const base = virtualChannelOutcome(record.asset, payer, hub, payee, info.amount)[0];
  const fee = p < 0n ? 0n : hubFee(p, info.feeBps);
  const amounts = [info.amount - p - fee, fee, p];
  const expected = [{ asset: base.asset, allocations: base.allocations.map((a, i) => ({ ...a, amount: amounts[i] })) }];
  if (p < 0n || amounts[0] < 0n || !sameOutcome(outcome, expected)) {
    throw new PiecepayError("INVALID_PROPOSAL", "the settlement's virtual outcome is not [x - p - fee(p), fee(p), p]");
  }
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  const plain = (o: Outcome) =>
    JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? v.toString() : typeof v === "string" ? v.toLowerCase() : v));
  return plain(a) === plain(b);
}
