// The hub's engine (ADR 0021, decisions 4, 5 and 7): it opens ledger channels with users, countersigns virtual
// channels between them, and moves guarantees in and out of the ledgers in the one order that never leaves it
// owing a payee what it cannot recover from the payer. It holds one durable store; every state it signs is written
// there before its signature leaves, and everything it still has to do is derived from the store, so a restart
// (even after SIGKILL) resumes exactly where it stopped. Requests are JSON-RPC over WebSocket (rpc-server.ts).
import { randomBytes } from "node:crypto";
import { hexlify, type Signer, ZeroAddress } from "ethers";
import {
  checkVirtualVoucherSupported,
  feeBpsOf,
  finalLedger,
  foldTopUp,
  fundGuarantee,
  HUB_API_VERSION,
  HubError,
  hubFee,
  ledgerBalances,
  loginSigner,
  proposeTopUp,
  readField,
  readFixedPart,
  readSignature,
  readSignedVariablePart,
  readVariablePart,
  settleGuarantee,
  virtualChannelOutcome,
} from "../../sdk/hub/index.js";
import {
  type ChannelRecord,
  // The same ids, hashes and signatures as the SDK's channelId, stateHash and signState, without ethers' ABI coder
  // and Wallet (sdk/state-signer.ts).
  fastChannelId as channelId,
  // getAddress, remembered: the hub checks the same participants' addresses at every step.
  checksumAddress as checksummed,
  type Outcome,
  recoverPersonalSigner,
  type SignedVariablePart,
  fastSignState as signState,
  fastStateHash as stateHash,
  toDestination,
  toSigned,
  type VariablePart,
} from "../../sdk/node.js";
import { type HubChannelStore, HubStore } from "./hub-store.js";
import type { RpcConnection, RpcHandler } from "./rpc-server.js";

/** What the hub needs from the chain: reading a channel's holdings, and depositing its own share of a ledger. */
export interface HubChain {
  holdings(asset: string, channelId: string): Promise<bigint>;
  /** Deposits `amount` into the channel if it still holds `expectedHeld`; resolves once confirmed. */
  deposit(asset: string, channelId: string, expectedHeld: bigint, amount: bigint): Promise<void>;
}

export interface HubOptions {
  signer: Signer;
  chainId: bigint;
  adjudicator: string;
  ledgerApp: string;
  virtualApp: string;
  /** The fee in basis points of what the payer pays each payee, committed in each virtual channel's nonce. */
  feeBps: bigint;
  /** Every ledger and virtual channel of this hub has this challenge duration (decision 8's bound). */
  challengeDuration: bigint;
  /** The assets its ledgers may hold (default ETH only): the zero address for ETH, else ERC-20 tokens. */
  assets?: string[];
  /** The most the hub deposits into one payee's ledger. */
  maxCapacity: bigint;
  /** The most it deposits into one payee's ledger in each token of `assets`, in its units (default: maxCapacity). */
  capacities?: Record<string, bigint>;
  /**
   * The hub's durable store. One that commits writes in groups (SqliteChannelStore with `commit: "group"`) offers
   * `flushed()`, and its writes are on disk only once that resolves: the hub awaits it before anything leaves (an
   * answer, a notification, a deposit), so that whatever it signed is on disk before the signature goes out.
   */
  store: HubChannelStore;
  chain: HubChain;
  log?: (line: string) => void;
}

const USER = 0;
const HUB = 1;
const PAYER = 0;
const PAYEE = 2;

/** The hub: `handlers()` are its API; `start()` resumes what a restart interrupted. */
export class Hub {
  readonly #options: HubOptions;
  /** The store, with what the hub read or wrote kept in memory (hub-store.ts). */
  readonly #store: HubStore;
  readonly #log: (line: string) => void;
  #address = "";
  /** Connections logged in, by address: where proposals for a user's ledgers are pushed. */
  readonly #online = new Map<string, Set<RpcConnection>>();
  /** Serializes the work on each channel (one proposal at a time per ledger). */
  readonly #locks = new Map<string, Promise<unknown>>();
  /**
   * Indexes of the store, built at start and kept as records are created, so that no request scans every record
   * (which made each virtual channel cost time in proportion to all the channels ever held; bench:hub): by ledger,
   * the virtual channels whose side in it is not settled yet, in the order they were proposed (what #advance looks
   * at); by user, its ledgers (where login looks for proposals waiting).
   */
  readonly #virtualsOf = new Map<string, Set<string>>();
  readonly #ledgersOf = new Map<string, Set<string>>();

  constructor(options: HubOptions) {
    this.#options = options;
    this.#store = new HubStore(options.store);
    this.#log = options.log ?? (() => {});
  }

  get address(): string {
    return this.#address;
  }

  #capacityOf(asset: string): bigint {
    const capacities = this.#options.capacities ?? {};
    const key = Object.keys(capacities).find((a) => checksummed(a) === checksummed(asset));
    return key === undefined ? this.#options.maxCapacity : capacities[key];
  }

  #assets(): string[] {
    return (this.#options.assets ?? [ZeroAddress]).map((a) => checksummed(a));
  }

  /** Reads the hub's address and proposes whatever the store says is due (a restart resumes here). */
  async start(): Promise<void> {
    this.#address = checksummed(await this.#options.signer.getAddress());
    await this.#reconcile();
    const records = await this.#store.listChannels();
    for (const record of records) this.#index(record);
    for (const record of records) {
      if (record.ledger === undefined) continue;
      // A capacity top-up the user countersigned before we stopped, not deposited or folded yet: done now.
      const latest = await this.#store.getSupportedState(record.id);
      const topUp = latest === undefined ? undefined : ledgerBalances(latest.variablePart.outcome).topUp;
      if (topUp?.to === "hub" && record.ledger.pending === undefined) {
        await this.#depositCapacity(record.id, topUp.amount).catch((error) =>
          this.#log(`ledger ${record.id}: the hub's top-up failed: ${(error as Error).message}`),
        );
      }
      await this.#advance(record.id);
    }
  }

  /** Adds a ledger or a virtual channel to the indexes. */
  #index(record: ChannelRecord): void {
    const add = (map: Map<string, Set<string>>, key: string) => {
      const set = map.get(key) ?? new Set<string>();
      map.set(key, set.add(record.id.toLowerCase()));
    };
    if (record.ledger !== undefined) add(this.#ledgersOf, checksummed(record.fixedPart.participants[USER]));
    const info = record.virtual;
    if (info === undefined) return;
    if (!info.settled.payer) add(this.#virtualsOf, info.payerLedger.toLowerCase());
    if (!info.settled.payee) add(this.#virtualsOf, info.payeeLedger.toLowerCase());
  }

  /**
   * Brings each virtual channel's flags in line with its ledgers' latest states: a countersignature stored just
   * before a crash, whose flag was not written yet, counts (a guarantee present is funded; a funded one gone, with
   * V_F or a voucher state held, is settled).
   */
  async #reconcile(): Promise<void> {
    const store = this.#store;
    for (const record of await store.listChannels()) {
      const info = record.virtual;
      if (info === undefined) continue;
      const holds = async (ledgerId: string) => {
        const latest = await store.getSupportedState(ledgerId);
        return (
          latest !== undefined && ledgerBalances(latest.variablePart.outcome).guarantees.has(record.id.toLowerCase())
        );
      };
      const [inPayer, inPayee] = [await holds(info.payerLedger), await holds(info.payeeLedger)];
      const closed = info.final !== undefined || info.voucherState !== undefined;
      const guaranteed = { payer: info.guaranteed.payer || inPayer, payee: info.guaranteed.payee || inPayee };
      const settled = {
        payer: info.settled.payer || (guaranteed.payer && !inPayer && closed),
        payee: info.settled.payee || (guaranteed.payee && !inPayee && closed),
      };
      if (JSON.stringify([guaranteed, settled]) === JSON.stringify([info.guaranteed, info.settled])) continue;
      this.#log(`virtual ${record.id}: flags brought in line with its ledgers after a restart`);
      await store.updateChannel(record.id, (r) => ({ ...r, virtual: { ...info, guaranteed, settled } }));
    }
  }

  /** The API, by method name: each answers only once what it wrote or read is on disk. */
  handlers(): Record<string, RpcHandler> {
    const handlers: Record<string, RpcHandler> = {
      info: () => this.#info(),
      "login.nonce": (_params, connection) => this.#nonce(connection),
      login: (params, connection) => this.#login(params, connection),
      "ledger.open": (params, connection) => this.#openLedger(params, this.#user(connection)),
      "ledger.sync": (params, connection) => this.#syncLedger(params, this.#user(connection)),
      "ledger.get": (params, connection) => this.#getLedger(params, this.#user(connection)),
      "ledger.countersign": (params, connection) => this.#countersign(params, this.#user(connection)),
      "ledger.close": (params, connection) => this.#closeLedger(params, this.#user(connection)),
      "ledger.topUp": (params, connection) => this.#topUpLedger(params, this.#user(connection)),
      "ledger.fold": (params, connection) => this.#foldLedger(params, this.#user(connection)),
      "virtual.propose": (params, connection) => this.#proposeVirtual(params, this.#user(connection)),
      "virtual.fund": (params, connection) => this.#fundVirtual(params, this.#user(connection)),
      "virtual.get": (params, connection) => this.#getVirtual(params, this.#user(connection)),
      "virtual.close": (params, connection) => this.#closeVirtual(params, this.#user(connection)),
      "virtual.settle": (params, connection) => this.#settleVirtual(params, this.#user(connection)),
    };
    const store = this.#store;
    if (!store.groupsCommits) return handlers;
    return Object.fromEntries(
      Object.entries(handlers).map(([method, handler]) => [
        method,
        async (params: unknown, connection: RpcConnection) => {
          let result: unknown;
          try {
            result = await handler(params, connection);
          } catch (error) {
            // A refusal carries no signature, but it follows the writes made before it, as an answer would.
            await store.flushed().catch(() => {});
            throw error;
          }
          await store.flushed();
          return result;
        },
      ]),
    );
  }

  /** Forgets a closed connection. */
  disconnected(connection: RpcConnection): void {
    const user = connection.data.get("user") as string | undefined;
    if (user !== undefined) this.#online.get(user)?.delete(connection);
  }

  #info() {
    const o = this.#options;
    return {
      api: HUB_API_VERSION,
      hub: this.#address,
      chainId: o.chainId,
      adjudicator: o.adjudicator,
      ledgerApp: o.ledgerApp,
      virtualApp: o.virtualApp,
      feeBps: o.feeBps,
      challengeDuration: o.challengeDuration,
      maxCapacity: o.maxCapacity,
      capacities: Object.fromEntries(this.#assets().map((a) => [a, this.#capacityOf(a)])),
      assets: this.#assets(),
    };
  }

  // ---------------------------------------------------------------------------------------------------- login

  #nonce(connection: RpcConnection) {
    const nonce = hexlify(randomBytes(16));
    connection.data.set("nonce", nonce);
    return { nonce };
  }

  async #login(params: unknown, connection: RpcConnection) {
    const address = checksummed(readField(params, "address", "address").toLowerCase());
    const signature = readSignature(params, "signature");
    const nonce = connection.data.get("nonce") as string | undefined;
    connection.data.delete("nonce");
    if (nonce === undefined) throw new HubError("BAD_LOGIN", "ask login.nonce first; a nonce serves one login");
    if (loginSigner(this.#address, this.#options.chainId, nonce, signature) !== address) {
      throw new HubError("BAD_LOGIN", `the signature is not ${address}'s over this connection's login text`);
    }
    connection.data.set("user", address);
    const connections = this.#online.get(address) ?? new Set();
    this.#online.set(address, connections.add(connection));
    this.#log(`login ${address} (connection ${connection.id})`);
    // Whatever waits for this user's countersignature is pushed again: it may have missed it.
    const waiting: { ledgerId: string }[] = [];
    for (const id of this.#ledgersOf.get(address) ?? []) {
      const record = await this.#store.getChannel(id);
      const pending = record?.ledger?.pending;
      if (pending !== undefined) waiting.push({ ledgerId: id, ...pending });
    }
    await this.#store.flushed();
    for (const proposal of waiting) connection.notify("ledger.proposed", proposal);
    return { address };
  }

  #user(connection: RpcConnection): string {
    const user = connection.data.get("user") as string | undefined;
    if (user === undefined) throw new HubError("NOT_LOGGED_IN", "log in first (login.nonce, then login)");
    return user;
  }

  // -------------------------------------------------------------------------------------------------- ledgers

  async #openLedger(params: unknown, user: string) {
    const fixedPart = readFixedPart(params, "fixedPart");
    const state = readVariablePart(params, "state");
    const signature = readSignature(params, "signature");
    const o = this.#options;
    if (
      fixedPart.participants.length !== 2 ||
      checksummed(fixedPart.participants[USER]) !== user ||
      checksummed(fixedPart.participants[HUB]) !== this.#address
    ) {
      throw new HubError("BAD_FIXED_PART", `a ledger's participants are [you, ${this.#address}]`);
    }
    if (checksummed(fixedPart.appDefinition) !== checksummed(o.ledgerApp)) {
      throw new HubError("BAD_FIXED_PART", `a ledger's app is ${o.ledgerApp}`);
    }
    if (fixedPart.challengeDuration !== o.challengeDuration) {
      throw new HubError("BAD_FIXED_PART", `this hub's challenge duration is ${o.challengeDuration} s`);
    }
    if (state.turnNum !== 0n || state.isFinal || state.appData !== "0x") {
      throw new HubError("BAD_STATE", "a ledger opens with a non-final turn 0 and empty appData");
    }
    const balances = this.#ledgerShape(state);
    if (!this.#assets().includes(checksummed(balances.asset))) {
      throw new HubError("BAD_STATE", `this hub keeps ledgers in ${this.#assets().join(", ")}`);
    }
    if (balances.guarantees.size !== 0 || balances.topUp !== undefined) {
      throw new HubError("BAD_STATE", "a ledger opens with no guarantee and no top-up");
    }
    if (balances.userDestination.toLowerCase() !== toDestination(user).toLowerCase()) {
      throw new HubError("BAD_STATE", "a ledger pays its user's share to the user");
    }
    if (balances.hubDestination.toLowerCase() !== toDestination(this.#address).toLowerCase()) {
      throw new HubError("BAD_STATE", `a ledger pays the hub's share to ${this.#address}`);
    }
    if (balances.hub > this.#capacityOf(balances.asset)) {
      throw new HubError(
        "INSUFFICIENT_CAPACITY",
        `this hub deposits at most ${this.#capacityOf(balances.asset)} into one ledger`,
      );
    }
    if (balances.hub > 0n && balances.user > 0n) {
      throw new HubError("BAD_STATE", "either you deposit (to pay) or the hub does (for you to be paid), not both");
    }
    const id = channelId(o.chainId, o.adjudicator, fixedPart);
    if (recoverPersonalSigner(stateHash(id, state), signature) !== user) {
      throw new HubError("BAD_SIGNATURE", "the funding state is not signed by you");
    }
    return this.#locked(id, async () => {
      const existing = await this.#store.getChannel(id);
      if (existing !== undefined) {
        const held = await this.#store.getSupportedState(id);
        if (
          existing.ledger === undefined ||
          held === undefined ||
          stateHash(id, held.variablePart) !== stateHash(id, state)
        ) {
          throw new HubError("REFUSED", `channel ${id} exists already: choose another nonce`);
        }
        return { ledgerId: id, signature: held.sigs[HUB] };
      }
      const hubSignature = await signState(o.signer, id, state);
      const record: ChannelRecord = {
        id,
        chainId: o.chainId,
        adjudicator: checksummed(o.adjudicator),
        fixedPart,
        myIndex: HUB,
        asset: balances.asset,
        deposited: 0n,
        phase: "proposed",
        destinations: state.outcome[0].allocations.map((a) => a.destination.toLowerCase()),
        ledger: { hubDeposit: balances.hub },
      };
      await this.#store.putChannel(record);
      this.#index(record);
      await this.#store.putSupportedState(
        id,
        toSigned(
          state,
          new Map([
            [USER, signature],
            [HUB, hubSignature],
          ]),
        ),
      );
      this.#log(`ledger ${id} with ${user}: user ${balances.user}, hub ${balances.hub}`);
      return { ledgerId: id, signature: hubSignature };
    });
  }

  /** Reads the ledger's deposits on chain, deposits the hub's share once the user's is in, and opens it. */
  async #syncLedger(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    return this.#locked(id, async () => {
      const record = await this.#ownLedger(id, user);
      const o = this.#options;
      const funding = await this.#latest(id);
      const { user: userShare } = ledgerBalances(funding.variablePart.outcome);
      const hubShare = record.ledger?.hubDeposit ?? 0n;
      if (record.phase === "open") return { phase: record.phase, held: await o.chain.holdings(record.asset, id) };
      let held = await o.chain.holdings(record.asset, id);
      if (held < userShare) return { phase: record.phase, held };
      if (hubShare > 0n && held < userShare + hubShare) {
        await this.#store.updateChannel(id, (r) => ({ ...r, phase: "funding", funding: { amount: hubShare } }));
        // A deposit is in the store (on disk) before it is sent.
        await this.#store.flushed();
        this.#log(`ledger ${id}: depositing the hub's ${hubShare}`);
        await o.chain.deposit(record.asset, id, held, hubShare);
        held = await o.chain.holdings(record.asset, id);
      }
      if (held < userShare + hubShare) return { phase: record.phase, held };
      await this.#store.updateChannel(id, (r) => ({ ...r, phase: "open", deposited: held }));
      this.#log(`ledger ${id} open, holding ${held}`);
      return { phase: "open", held };
    });
  }

  async #getLedger(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    const record = await this.#ownLedger(id, user);
    return { ledgerId: id, phase: record.phase, latest: await this.#latest(id), pending: record.ledger?.pending };
  }

  async #countersign(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    const turnNum = readField(params, "turnNum", "uint");
    const signature = readSignature(params, "signature");
    const done = await this.#locked(id, async () => {
      const record = await this.#ownLedger(id, user);
      const pending = record.ledger?.pending;
      if (pending === undefined || pending.state.turnNum !== turnNum) {
        // A countersignature sent again (the user did not see our answer): already in hand, nothing to do.
        const latest = await this.#latest(id);
        if (
          latest.variablePart.turnNum === turnNum &&
          recoverPersonalSigner(stateHash(id, latest.variablePart), signature) === user
        ) {
          return undefined;
        }
        throw new HubError("BAD_STATE", `no proposal at turn ${turnNum} waits for your signature in ${id}`);
      }
      if (recoverPersonalSigner(stateHash(id, pending.state), signature) !== user) {
        throw new HubError("BAD_SIGNATURE", `the signature is not yours over the proposal at turn ${turnNum}`);
      }
      await this.#store.putSupportedState(
        id,
        toSigned(
          pending.state,
          new Map([
            [USER, signature],
            [HUB, pending.signature],
          ]),
        ),
      );
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        ledger: { hubDeposit: r.ledger?.hubDeposit ?? 0n },
      }));
      this.#log(`ledger ${id}: ${pending.purpose} countersigned at turn ${turnNum}`);
      return pending.purpose;
    });
    if (done === undefined) return { ok: true, already: true };
    if (done.startsWith("topUp hub ")) {
      // Not awaited: the user's countersignature is answered now; the fold is pushed once the deposit is in.
      void this.#depositCapacity(id, BigInt(done.split(" ")[2])).catch((error) =>
        this.#log(`ledger ${id}: the hub's top-up failed: ${(error as Error).message}`),
      );
      return { ok: true };
    }
    const info = await this.#completed(done, id);
    await this.#advance(id);
    if (info !== undefined) {
      await this.#advance(info.payerLedger);
      await this.#advance(info.payeeLedger);
    }
    return { ok: true };
  }

  /**
   * The hub's signature on a final state of the ledger, for the user's `concludeAndTransferAllAssets`: only with no
   * live guarantee and no proposal waiting. The hub stops proposing on this ledger once it signed it final.
   */
  async #closeLedger(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    return this.#locked(id, async () => {
      const record = await this.#ownLedger(id, user);
      const o = this.#options;
      const closing = record.ledger?.pending;
      if (closing?.purpose === "close") return { ledgerId: id, ...closing };
      if (closing !== undefined) {
        throw new HubError("BUSY", `a proposal at turn ${closing.state.turnNum} waits for your signature first`);
      }
      const latest = await this.#latest(id);
      let state: VariablePart;
      try {
        state = finalLedger(latest.variablePart);
      } catch (error) {
        throw new HubError("REFUSED", `cannot close yet: ${(error as Error).message}`);
      }
      const signature = await signState(o.signer, id, state);
      const pending = { state, signature, purpose: "close" };
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        phase: "closing",
        ledger: { hubDeposit: r.ledger?.hubDeposit ?? 0n, pending },
      }));
      this.#log(`ledger ${id}: signed final at turn ${state.turnNum}`);
      return { ledgerId: id, ...pending };
    });
  }

  /**
   * A top-up (ADR 0021, decision 7): we sign the ledger's next state with `{to, amount}` appended after every other
   * allocation. Safe before any deposit: a trailing allocation is paid only from what exceeds all the others. `to`
   * "user": the user then deposits and asks us to fold (`ledger.fold`). `to` "hub": more capacity in a payee's
   * ledger, within the hub's maximum; once the user countersigns, we deposit and propose the fold ourselves.
   */
  async #topUpLedger(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    const amount = readField(params, "amount", "uint");
    const to = (params as { to?: unknown }).to ?? "user";
    if (to !== "user" && to !== "hub")
      throw new HubError("INVALID_PARAMS", `a top-up is "user" or "hub", not ${String(to)}`);
    if (amount <= 0n) throw new HubError("INVALID_PARAMS", "a top-up is above 0");
    return this.#locked(id, async () => {
      const record = await this.#ownLedger(id, user);
      if (record.phase !== "open") throw new HubError("NOT_FUNDED", `ledger ${id} is not open`);
      const purpose = `topUp ${to} ${amount}`;
      const pending = record.ledger?.pending;
      if (pending?.purpose === purpose) return { ledgerId: id, ...pending }; // asked again: the same proposal
      if (pending !== undefined) {
        throw new HubError("BUSY", `a proposal at turn ${pending.state.turnNum} waits for your signature first`);
      }
      const latest = await this.#latest(id);
      const balances = this.#ledgerShape(latest.variablePart);
      if (to === "hub") {
        const hubHeld = balances.hub + [...balances.guarantees.values()].reduce((a, b) => a + b, 0n);
        if (record.ledger?.hubDeposit === 0n)
          throw new HubError("REFUSED", "the hub adds capacity to a payee's ledger");
        if (hubHeld + amount > this.#capacityOf(balances.asset)) {
          throw new HubError(
            "INSUFFICIENT_CAPACITY",
            `this hub keeps at most ${this.#capacityOf(balances.asset)} in one ledger`,
          );
        }
      }
      let state: VariablePart;
      try {
        state = proposeTopUp(latest.variablePart, amount, to);
      } catch (error) {
        throw new HubError("REFUSED", `cannot top up: ${(error as Error).message}`);
      }
      const signature = await signState(this.#options.signer, id, state);
      const next = { state, signature, purpose };
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        ledger: { hubDeposit: r.ledger?.hubDeposit ?? 0n, pending: next },
      }));
      this.#log(`ledger ${id}: proposed ${purpose} at turn ${state.turnNum}`);
      return { ledgerId: id, ...next };
    });
  }

  /** Folds a top-up into the balance it pays once the ledger holds it on chain (the deposit is in). */
  async #foldLedger(params: unknown, user: string) {
    const id = readField(params, "ledgerId", "hex32");
    return this.#locked(id, async () => {
      await this.#ownLedger(id, user);
      return this.#proposeFold(id);
    });
  }

  /** Under the ledger's lock: the fold of its trailing top-up, signed and pending, once the chain holds it. */
  async #proposeFold(id: string) {
    const o = this.#options;
    const record = await this.#store.getChannel(id);
    const pending = record?.ledger?.pending;
    if (pending?.purpose === "fold") return { ledgerId: id, ...pending };
    if (pending !== undefined) {
      throw new HubError("BUSY", `a proposal at turn ${pending.state.turnNum} waits for your signature first`);
    }
    const latest = await this.#latest(id);
    if (this.#ledgerShape(latest.variablePart).topUp === undefined) {
      throw new HubError("REFUSED", "no top-up to fold (it is folded already, or none was countersigned)");
    }
    // Everything the state allocates must be held: the top-up is the last of it.
    const total = latest.variablePart.outcome[0].allocations.reduce((a, x) => a + x.amount, 0n);
    const held = await o.chain.holdings(record?.asset ?? ZeroAddress, id);
    if (held < total) throw new HubError("NOT_FUNDED", `ledger ${id} holds ${held} of ${total}: deposit first`);
    const state = foldTopUp(latest.variablePart);
    const signature = await signState(o.signer, id, state);
    const next = { state, signature, purpose: "fold" };
    await this.#store.updateChannel(id, (r) => ({
      ...r,
      deposited: held,
      ledger: { hubDeposit: r.ledger?.hubDeposit ?? 0n, pending: next },
    }));
    this.#log(`ledger ${id}: proposed fold at turn ${state.turnNum}, holding ${held}`);
    return { ledgerId: id, ...next };
  }

  /** The user countersigned our capacity top-up of its ledger: we deposit it, then propose the fold. */
  async #depositCapacity(id: string, amount: bigint): Promise<void> {
    const proposal = await this.#locked(id, async () => {
      const o = this.#options;
      const record = await this.#store.getChannel(id);
      const latest = await this.#latest(id);
      const total = latest.variablePart.outcome[0].allocations.reduce((a, x) => a + x.amount, 0n);
      const held = await o.chain.holdings(record?.asset ?? ZeroAddress, id);
      if (held < total) {
        // The countersigned top-up this deposit follows is on disk before the deposit is sent.
        await this.#store.flushed();
        this.#log(`ledger ${id}: depositing the hub's top-up of ${amount}`);
        await o.chain.deposit(record?.asset ?? ZeroAddress, id, held, amount);
      }
      const fold = await this.#proposeFold(id);
      return { user: checksummed(String(record?.fixedPart.participants[USER])), fold };
    });
    this.#push(proposal.user, "ledger.proposed", proposal.fold);
  }

  // ------------------------------------------------------------------------------------------ virtual channels

  async #proposeVirtual(params: unknown, payer: string) {
    const fixedPart = readFixedPart(params, "fixedPart");
    const state = readVariablePart(params, "state");
    const signature = readSignature(params, "signature");
    const payerLedger = readField(params, "payerLedger", "hex32");
    const payeeLedger = readField(params, "payeeLedger", "hex32");
    const o = this.#options;
    const [p0, hub, payee] = fixedPart.participants.map((p) => checksummed(p));
    if (
      fixedPart.participants.length !== 3 ||
      p0 !== payer ||
      hub !== this.#address ||
      payee === payer ||
      payee === hub
    ) {
      throw new HubError("BAD_FIXED_PART", `a virtual channel's participants are [you, ${this.#address}, the payee]`);
    }
    if (checksummed(fixedPart.appDefinition) !== checksummed(o.virtualApp)) {
      throw new HubError("BAD_FIXED_PART", `a virtual channel's app is ${o.virtualApp}`);
    }
    if (fixedPart.challengeDuration !== o.challengeDuration) {
      throw new HubError("BAD_FIXED_PART", `this hub's challenge duration is ${o.challengeDuration} s`);
    }
    if (feeBpsOf(fixedPart.channelNonce) !== o.feeBps) {
      throw new HubError("BAD_FIXED_PART", `this hub's fee is ${o.feeBps} bps (virtualNonce(${o.feeBps}, n))`);
    }
    const x = state.outcome[0]?.allocations[PAYER]?.amount ?? 0n;
    // V holds the payer ledger's asset, and the payee's ledger must hold the same: value moves between them.
    const payerRecord = await this.#store.getChannel(payerLedger);
    const payeeRecord = await this.#store.getChannel(payeeLedger);
    const asset = checksummed(payerRecord?.asset ?? ZeroAddress);
    if (payeeRecord !== undefined && checksummed(payeeRecord.asset) !== asset) {
      throw new HubError("BAD_STATE", `the payee's ledger holds ${payeeRecord.asset}, yours ${asset}`);
    }
    const expected = virtualChannelOutcome(asset, payer, this.#address, payee, x);
    if (
      x <= 0n ||
      state.turnNum !== 0n ||
      state.isFinal ||
      state.appData !== "0x" ||
      JSON.stringify(state.outcome, bigints) !== JSON.stringify(expected, bigints)
    ) {
      throw new HubError(
        "BAD_STATE",
        "V0 is turn 0, not final, empty appData, outcome [x, 0, 0] to [payer, hub, payee]",
      );
    }
    const id = channelId(o.chainId, o.adjudicator, fixedPart);
    if (recoverPersonalSigner(stateHash(id, state), signature) !== payer) {
      throw new HubError("BAD_SIGNATURE", "V0 is not signed by you");
    }
    const payerSide = ledgerBalances((await this.#openLedgerOf(payerLedger, payer)).variablePart.outcome);
    if (payerSide.user < x) throw new HubError("INSUFFICIENT_BALANCE", `your ledger has ${payerSide.user} free`);
    const payeeSide = ledgerBalances((await this.#openLedgerOf(payeeLedger, payee)).variablePart.outcome);
    if (payeeSide.hub < x) {
      throw new HubError("INSUFFICIENT_CAPACITY", `the hub has ${payeeSide.hub} free toward ${payee}`);
    }
    return this.#locked(id, async () => {
      const existing = await this.#store.getChannel(id);
      if (existing?.virtual !== undefined) {
        if (stateHash(id, existing.virtual.v0.variablePart) !== stateHash(id, state)) {
          throw new HubError("REFUSED", `virtual channel ${id} exists already: choose another nonce`);
        }
        return { virtualId: id, signature: existing.virtual.v0.sigs[1] };
      }
      if (existing !== undefined) throw new HubError("REFUSED", `channel ${id} exists already`);
      const hubSignature = await signState(o.signer, id, state);
      const record: ChannelRecord = {
        id,
        chainId: o.chainId,
        adjudicator: checksummed(o.adjudicator),
        fixedPart,
        myIndex: 1,
        asset,
        deposited: 0n,
        phase: "proposed",
        virtual: {
          payerLedger,
          payeeLedger,
          amount: x,
          feeBps: o.feeBps,
          v0: toSigned(
            state,
            new Map([
              [PAYER, signature],
              [1, hubSignature],
            ]),
          ),
          guaranteed: { payer: false, payee: false },
          settled: { payer: false, payee: false },
        },
      };
      await this.#store.putChannel(record);
      this.#index(record);
      this.#log(`virtual ${id}: ${payer} -> ${payee}, x ${x}, proposed`);
      return { virtualId: id, signature: hubSignature };
    });
  }

  /** The payer brings the payee's signature on V0; the hub proposes the payer's guarantee. */
  async #fundVirtual(params: unknown, payer: string) {
    const id = readField(params, "virtualId", "hex32");
    const payeeSignature = readSignature(params, "payeeSignature");
    const record = await this.#virtual(id, [PAYER], payer);
    const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
    const payee = checksummed(record.fixedPart.participants[PAYEE]);
    if (recoverPersonalSigner(stateHash(id, info.v0.variablePart), payeeSignature) !== payee) {
      throw new HubError("BAD_SIGNATURE", "V0 is not signed by the payee");
    }
    if (info.v0.signedBy !== 7n) {
      const sigs = new Map([
        [PAYER, info.v0.sigs[0]],
        [1, info.v0.sigs[1]],
        [PAYEE, payeeSignature],
      ]);
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        phase: "funding",
        virtual: { ...(r.virtual as typeof info), v0: toSigned(info.v0.variablePart, sigs) },
      }));
      this.#log(`virtual ${id}: V0 supported`);
    }
    await this.#advance(info.payerLedger);
    const ledger = await this.#store.getChannel(info.payerLedger);
    const pending = ledger?.ledger?.pending;
    if (pending === undefined || pending.purpose !== `fund ${id}`) {
      if ((await this.#store.getChannel(id))?.virtual?.guaranteed.payer) return { ledgerId: info.payerLedger };
      throw new HubError("BUSY", `your ledger has another proposal waiting for your signature; sign it, then retry`);
    }
    return { ledgerId: info.payerLedger, ...pending };
  }

  async #getVirtual(params: unknown, user: string) {
    const id = readField(params, "virtualId", "hex32");
    const record = await this.#virtual(id, [PAYER, PAYEE], user);
    return { virtualId: id, phase: record.phase, ...record.virtual };
  }

  /** V_F signed by payer and payee: the hub countersigns it, then settles both ledgers by it. */
  async #closeVirtual(params: unknown, user: string) {
    const id = readField(params, "virtualId", "hex32");
    const state = readVariablePart(params, "state");
    const payerSignature = readSignature(params, "payerSignature");
    const payeeSignature = readSignature(params, "payeeSignature");
    const result = await this.#locked(id, async () => {
      const record = await this.#virtual(id, [PAYER, PAYEE], user);
      const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
      if (info.final !== undefined) {
        if (stateHash(id, info.final.variablePart) !== stateHash(id, state)) {
          throw new HubError("REFUSED", "this virtual channel is already closed at another final state");
        }
        return { signature: info.final.sigs[1], fresh: false };
      }
      if (!info.guaranteed.payer || !info.guaranteed.payee) {
        throw new HubError("NOT_FUNDED", "the virtual channel is not funded in both ledgers yet");
      }
      const [payer, , payee] = record.fixedPart.participants.map((p) => checksummed(p));
      const p = state.outcome[0]?.allocations[PAYEE]?.amount ?? -1n;
      const fee = p >= 0n ? hubFee(p, info.feeBps) : -1n;
      const expected = virtualChannelOutcome(record.asset, payer, this.#address, payee, info.amount);
      const allocations = expected[0].allocations;
      const wanted = [
        { ...allocations[0], amount: info.amount - p - fee },
        { ...allocations[1], amount: fee },
        { ...allocations[2], amount: p },
      ];
      if (
        p < 0n ||
        info.amount - p - fee < 0n ||
        !state.isFinal ||
        state.turnNum === 0n ||
        state.appData !== "0x" ||
        JSON.stringify(state.outcome, bigints) !== JSON.stringify([{ ...expected[0], allocations: wanted }], bigints)
      ) {
        throw new HubError("BAD_STATE", "V_F is final, after turn 0, [x - p - fee(p), fee(p), p] with empty appData");
      }
      const hash = stateHash(id, state);
      if (
        recoverPersonalSigner(hash, payerSignature) !== payer ||
        recoverPersonalSigner(hash, payeeSignature) !== payee
      ) {
        throw new HubError("BAD_SIGNATURE", "V_F must be signed by the payer and the payee");
      }
      const hubSignature = await signState(this.#options.signer, id, state);
      const final = toSigned(
        state,
        new Map([
          [PAYER, payerSignature],
          [1, hubSignature],
          [PAYEE, payeeSignature],
        ]),
      );
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        phase: "closing",
        virtual: { ...(r.virtual as typeof info), final },
      }));
      this.#log(`virtual ${id}: closed at ${p} to the payee, fee ${fee}`);
      return { signature: hubSignature, fresh: true, info, payer, payee, final };
    });
    if (result.fresh && result.info !== undefined) {
      // V_F signed by all three: the receipt either side concludes V with, whoever sent the close.
      const closed = { virtualId: id, final: result.final };
      this.#push(result.payer, "virtual.closed", closed);
      this.#push(result.payee, "virtual.closed", closed);
      await this.#advance(result.info.payeeLedger);
      await this.#advance(result.info.payerLedger);
    }
    return { virtualId: id, signature: result.signature };
  }

  /** The payee settles without the payer, on its voucher state over V0 (decision 5). */
  async #settleVirtual(params: unknown, user: string) {
    const id = readField(params, "virtualId", "hex32");
    const candidate = readSignedVariablePart(params, "candidate");
    const info = await this.#locked(id, async () => {
      const record = await this.#virtual(id, [PAYEE], user);
      const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
      if (info.final !== undefined) throw new HubError("REFUSED", "the virtual channel is closed: settle by V_F");
      if (info.settled.payee) throw new HubError("REFUSED", "your side is settled already");
      if (!info.guaranteed.payer || !info.guaranteed.payee) {
        throw new HubError("NOT_FUNDED", "the virtual channel is not funded in both ledgers");
      }
      if (candidate.signedBy !== 1n << BigInt(PAYEE)) {
        throw new HubError("BAD_STATE", "the voucher state is signed by the payee alone");
      }
      if (recoverPersonalSigner(stateHash(id, candidate.variablePart), candidate.sigs[0]) !== user) {
        throw new HubError("BAD_SIGNATURE", "the voucher state is not signed by you");
      }
      try {
        checkVirtualVoucherSupported(record.fixedPart, id, [info.v0], candidate);
      } catch (error) {
        throw new HubError("BAD_STATE", `the app would not support it: ${(error as Error).message}`);
      }
      await this.#store.updateChannel(id, (r) => ({
        ...r,
        phase: "closing",
        virtual: { ...(r.virtual as typeof info), voucherState: candidate },
      }));
      this.#log(
        `virtual ${id}: the payee settles on its voucher of ${candidate.variablePart.outcome[0].allocations[PAYEE].amount}`,
      );
      return info;
    });
    await this.#advance(info.payeeLedger);
    return { virtualId: id, ledgerId: info.payeeLedger };
  }

  // ----------------------------------------------------------------------------------------- what is due next

  /**
   * Proposes the next change a ledger needs, if it has no proposal waiting: settling a closed virtual channel comes
   * before funding a new one, and a payer's side is settled only once the payee's is or V_F is held.
   */
  async #advance(ledgerId: string): Promise<void> {
    const proposal = await this.#locked(ledgerId, async () => {
      const o = this.#options;
      const record = await this.#store.getChannel(ledgerId);
      if (record?.ledger === undefined || record.ledger.pending !== undefined || record.phase !== "open") return;
      const latest = await this.#latest(ledgerId);
      const key = ledgerId.toLowerCase();
      const virtuals = this.#virtualsOf.get(key) ?? new Set<string>();
      for (const id of [...virtuals]) {
        const v = await this.#store.getChannel(id);
        const info = v?.virtual;
        // Once its side in this ledger is settled, a virtual channel has nothing more to ask of it (flags only
        // ever turn true): it leaves the index.
        if (
          v === undefined ||
          info === undefined ||
          info.settled[info.payerLedger.toLowerCase() === key ? "payer" : "payee"]
        ) {
          virtuals.delete(id);
          continue;
        }
        let next: { state: VariablePart; purpose: string; virtualOutcome?: Outcome } | undefined;
        try {
          next = this.#nextChange(ledgerId, v, latest.variablePart);
        } catch (error) {
          this.#log(`ledger ${ledgerId}: cannot propose for ${v.id}: ${(error as Error).message}`);
          continue;
        }
        if (next === undefined) continue;
        const signature = await signState(o.signer, ledgerId, next.state);
        const pending = { state: next.state, signature, purpose: next.purpose, virtualOutcome: next.virtualOutcome };
        await this.#store.updateChannel(ledgerId, (r) => ({
          ...r,
          ledger: { hubDeposit: r.ledger?.hubDeposit ?? 0n, pending },
        }));
        this.#log(`ledger ${ledgerId}: proposed ${next.purpose} at turn ${next.state.turnNum}`);
        return { user: checksummed(record.fixedPart.participants[USER]), pending };
      }
      return undefined;
    });
    if (proposal !== undefined) this.#push(proposal.user, "ledger.proposed", { ledgerId, ...proposal.pending });
  }

  #nextChange(
    ledgerId: string,
    v: ChannelRecord,
    latest: VariablePart,
  ): { state: VariablePart; purpose: string; virtualOutcome?: Outcome } | undefined {
    const info = v.virtual as NonNullable<ChannelRecord["virtual"]>;
    const onPayerSide = info.payerLedger === ledgerId;
    const onPayeeSide = info.payeeLedger === ledgerId;
    const settleOn = info.final?.variablePart.outcome ?? info.voucherState?.variablePart.outcome;
    if (onPayeeSide && info.guaranteed.payee && !info.settled.payee && settleOn !== undefined) {
      const state = settleGuarantee(latest, { target: v.id, virtualOutcome: settleOn, side: "payee" });
      return { state, purpose: `settle ${v.id}`, virtualOutcome: settleOn };
    }
    if (onPayerSide && info.guaranteed.payer && !info.settled.payer && settleOn !== undefined) {
      if (info.final === undefined && !info.settled.payee) return undefined;
      const state = settleGuarantee(latest, { target: v.id, virtualOutcome: settleOn, side: "payer" });
      return { state, purpose: `settle ${v.id}`, virtualOutcome: settleOn };
    }
    if (info.v0.signedBy !== 7n || info.final !== undefined || info.voucherState !== undefined) return undefined;
    if (onPayerSide && !info.guaranteed.payer) {
      const state = fundGuarantee(latest, {
        target: v.id,
        amount: info.amount,
        from: "user",
        supportedV0: info.v0.variablePart,
      });
      return { state, purpose: `fund ${v.id}` };
    }
    if (onPayeeSide && info.guaranteed.payer && !info.guaranteed.payee) {
      const state = fundGuarantee(latest, {
        target: v.id,
        amount: info.amount,
        from: "hub",
        supportedV0: info.v0.variablePart,
        payerGuarantee: info.amount,
      });
      return { state, purpose: `fund ${v.id}` };
    }
    return undefined;
  }

  /** Records what a countersigned proposal in `ledgerId` did to its virtual channel; returns the channel's info. */
  async #completed(purpose: string, ledgerId: string): Promise<ChannelRecord["virtual"]> {
    const [what, id] = purpose.split(" ");
    if (what !== "fund" && what !== "settle") return undefined;
    const updated = await this.#store.updateChannel(id, (r) => {
      const v = r.virtual;
      if (v === undefined) return undefined;
      const side = v.payerLedger === ledgerId ? "payer" : "payee";
      const guaranteed = what === "fund" ? { ...v.guaranteed, [side]: true } : v.guaranteed;
      const settled = what === "settle" ? { ...v.settled, [side]: true } : v.settled;
      const phase =
        settled.payer && settled.payee
          ? "finalized"
          : guaranteed.payer && guaranteed.payee && r.phase === "funding"
            ? "open"
            : r.phase;
      return { ...r, phase, virtual: { ...v, guaranteed, settled } };
    });
    return updated?.virtual;
  }

  // ----------------------------------------------------------------------------------------------- plumbing

  async #latest(id: string): Promise<SignedVariablePart> {
    const latest = await this.#store.getSupportedState(id);
    if (latest === undefined) throw new HubError("UNKNOWN_LEDGER", `no state of ${id}`);
    return latest;
  }

  async #ownLedger(id: string, user: string): Promise<ChannelRecord> {
    const record = await this.#store.getChannel(id);
    if (record?.ledger === undefined) throw new HubError("UNKNOWN_LEDGER", `no ledger ${id}`);
    if (checksummed(record.fixedPart.participants[USER]) !== user)
      throw new HubError("NOT_YOURS", `${id} is not yours`);
    return record;
  }

  async #openLedgerOf(id: string, user: string): Promise<SignedVariablePart> {
    const record = await this.#store.getChannel(id);
    if (record?.ledger === undefined || checksummed(record.fixedPart.participants[USER]) !== user) {
      throw new HubError("UNKNOWN_LEDGER", `no ledger ${id} of ${user} with this hub`);
    }
    if (record.phase !== "open") throw new HubError("NOT_FUNDED", `ledger ${id} is not open yet (ledger.sync)`);
    return this.#latest(id);
  }

  async #virtual(id: string, roles: number[], user: string): Promise<ChannelRecord> {
    const record = await this.#store.getChannel(id);
    if (record?.virtual === undefined) throw new HubError("UNKNOWN_VIRTUAL", `no virtual channel ${id}`);
    if (!roles.some((i) => checksummed(record.fixedPart.participants[i]) === user)) {
      throw new HubError(
        "NOT_YOURS",
        `you are not ${roles.map((r) => (r === PAYER ? "the payer" : "the payee")).join(" or ")} of ${id}`,
      );
    }
    return record;
  }

  #ledgerShape(state: VariablePart) {
    try {
      return ledgerBalances(state.outcome);
    } catch (error) {
      throw new HubError("BAD_STATE", `not a ledger outcome: ${(error as Error).message}`);
    }
  }

  /** Notifies `user`'s connections, once the store has on disk what it holds (nothing leaves if that fails). */
  #push(user: string, method: string, params: unknown): void {
    const send = () => {
      for (const connection of this.#online.get(user) ?? []) connection.notify(method, params);
    };
    if (!this.#store.groupsCommits) send();
    else
      void this.#store
        .flushed()
        .then(send, () => this.#log(`${method} to ${user} not sent: the store failed to commit`));
  }

  /** Runs `work` after every earlier work on `key`. */
  #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => {});
    this.#locks.set(key, settled);
    void settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return next;
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : typeof value === "string" ? value.toLowerCase() : value;
}
