// The world a scenario runs in. `SimulationChain`: the chain (embedded: Hardhat's in-process EVM with the contracts
// freshly deployed; or any node through --rpc with the addresses of its deployment record), a bank that funds a
// fresh account per party, and a clock that moves the chain's time where it can and really waits where it cannot.
// `ScenarioContext`: one scenario's parties, SDK clients (each with its own store in a temporary directory), the
// transactions they send, the balance snapshots before and after, and the checks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ContractTransactionResponse,
  type JsonRpcProvider,
  keccak256,
  type Provider,
  parseEther,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
  Wallet,
} from "ethers";
import {
  ChannelWatcher,
  decodeContractError,
  PiecepayClient,
  type PiecepayClientOptions,
  readEthHoldings,
  SqliteChannelStore,
} from "../../sdk/node.js";
import { commonChecks } from "./invariants.js";
import type { Check, Honest, ScenarioReport, TransactionRow } from "./types.js";

/** SDK timings for a simulation: a short polling interval, one confirmation, a small safety margin. */
export const SIM_TIMING = { pollingIntervalMs: 50, confirmations: 1, blockTimeSeconds: 1, safetyMarginSeconds: 5 };

/** The shortest challenge duration the simulation's clients accept (see PiecepayClient.minChallengeDuration). */
export const MIN_CHALLENGE_DURATION = 10n;

/**
 * How long a real wait gives the node, past the time it waited for, to make a block on its own before the bank
 * sends a transaction to make one (see SimulationChain.advanceTo): more than a public chain's 12-second slot, so
 * that a chain that makes its own blocks is never sent one.
 */
export const POKE_AFTER_MS = 15_000;

/** What each party's fresh account is funded with. */
export const FUNDING = parseEther("1");

/** A chain with the contracts deployed, a bank account and a clock. */
export class SimulationChain {
  readonly #sleeps = new Set<NodeJS.Timeout>();

  /** The hub's apps (ADR 0021), where the chain has them: the hub scenarios need them, the others do not. */
  hubApps: { ledgerApp: string; virtualApp: string } | undefined;

  private constructor(
    readonly kind: "embedded" | "rpc",
    readonly provider: Provider,
    readonly chainId: bigint,
    readonly adjudicator: string,
    readonly voucherApp: string,
    readonly bank: Signer,
    readonly canMoveTime: boolean,
    /** Sends a raw JSON-RPC request to the node (evm_* methods). */
    readonly send: (method: string, params: unknown[]) => Promise<unknown>,
    /** An HTTP JSON-RPC endpoint a child process can use (set by `serve()` on the embedded chain). */
    public rpcUrl: string | undefined,
    readonly close: () => Promise<void>,
    /** How long a real wait gives the node to make its own block before the bank makes one (POKE_AFTER_MS). */
    readonly pokeAfterMs = POKE_AFTER_MS,
  ) {}

  /**
   * Hardhat's in-process EVM, with the adjudicator and the voucher app deployed from its first account. Hardhat is
   * loaded here only, behind the one module of client/ allowed to load it (client/embedded-chain.ts).
   */
  static async embedded(): Promise<SimulationChain> {
    const { startEmbeddedChain } = await import("../embedded-chain.js");
    const embedded = await startEmbeddedChain();
    let server: { url: string; close(): Promise<void> } | undefined;
    const chain = new SimulationChain(
      "embedded",
      embedded.provider,
      embedded.chainId,
      embedded.adjudicator,
      embedded.voucherApp,
      embedded.accounts[0],
      true,
      embedded.request,
      undefined,
      async () => {
        await server?.close();
        await embedded.close();
      },
    );
    chain.hubApps = { ledgerApp: embedded.ledgerApp, virtualApp: embedded.virtualApp };
    chain.#serve = async () => {
      const { serveJsonRpc } = await import("./serve.js");
      server = await serveJsonRpc(embedded.request);
      return server.url;
    };
    return chain;
  }

  /**
   * Any node: the contracts at `deployment`, parties funded by `bank` (the --key account, or the node's first
   * unlocked account). A node we did not start may be shared: its clock is moved (evm_increaseTime) only when
   * `moveTime` says so and the node takes it, since every other pending challenge on it would finalize sooner;
   * otherwise each wait is a real one.
   */
  static async rpc(
    url: string,
    provider: JsonRpcProvider,
    chainId: bigint,
    deployment: { adjudicator: string; voucherApp: string; ledgerApp?: string; virtualApp?: string },
    bank: Signer,
    options: { moveTime?: boolean; pokeAfterMs?: number } = {},
  ): Promise<SimulationChain> {
    provider.pollingInterval = 250;
    const send = (method: string, params: unknown[]) => provider.send(method, params);
    let canMoveTime = options.moveTime === true;
    if (canMoveTime) {
      try {
        await send("evm_increaseTime", [0]);
      } catch {
        canMoveTime = false;
      }
    }
    const chain = new SimulationChain(
      "rpc",
      provider,
      chainId,
      deployment.adjudicator,
      deployment.voucherApp,
      bank,
      canMoveTime,
      send,
      url,
      async () => provider.destroy(),
      options.pokeAfterMs,
    );
    const { ledgerApp, virtualApp } = deployment;
    if (ledgerApp !== undefined && virtualApp !== undefined) chain.hubApps = { ledgerApp, virtualApp };
    return chain;
  }

  #serve: (() => Promise<string>) | undefined;

  /** An HTTP endpoint for child processes: the node's URL, or a JSON-RPC server over the embedded chain. */
  async serve(): Promise<string> {
    if (this.rpcUrl === undefined && this.#serve) this.rpcUrl = await this.#serve();
    if (this.rpcUrl === undefined) throw new Error("this chain has no endpoint for another process");
    return this.rpcUrl;
  }

  /** The latest block's timestamp. */
  async now(): Promise<bigint> {
    return BigInt((await this.provider.getBlock("latest"))?.timestamp ?? 0);
  }

  /**
   * Brings the chain's time to at least `timestamp`: evm_increaseTime and evm_mine where the node allows it,
   * otherwise a real wait until a block that late exists. A public chain makes a block every 12 s or so; a node
   * that mines only when a transaction arrives (anvil without --block-time behind an RPC that refuses evm_*) would
   * never get there on its own: when the wall clock has waited out the difference and `pokeAfterMs`
   * more and the chain still has no such block, the bank sends itself 0 ETH (again every `pokeAfterMs`).
   */
  async advanceTo(timestamp: bigint): Promise<void> {
    const now = await this.now();
    if (now >= timestamp) return;
    if (this.canMoveTime) {
      await this.send("evm_increaseTime", [Number(timestamp - now)]);
      await this.send("evm_mine", []);
      return;
    }
    let pokeAt = Date.now() + Number(timestamp - now) * 1000 + this.pokeAfterMs;
    while ((await this.now()) < timestamp) {
      if (Date.now() < pokeAt) {
        await this.sleep(500);
        continue;
      }
      const tx = await this.bank.sendTransaction({ to: await this.bank.getAddress(), value: 0n });
      await tx.wait();
      pokeAt = Date.now() + this.pokeAfterMs;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve();
      }, ms);
      this.#sleeps.add(timer);
    });
  }
}

/** One party of a scenario: a fresh funded account and the SDK clients it runs (each a "process" of its own). */
export interface Party {
  name: string;
  address: string;
  signer: Signer;
  /** Its first SDK client (created by `ctx.party`). */
  client: PiecepayClient;
}

/** Errors of an attempt that must fail: what the SDK or the contract said. */
export function errorCode(error: unknown): string {
  const decoded = decodeContractError(error) as { code?: string; shortMessage?: string; message?: string };
  return decoded.code ?? decoded.shortMessage ?? String(decoded.message ?? error);
}

interface Pending {
  party: string;
  what: string;
  hash: string;
}

/**
 * One scenario's run: the scenario creates its parties, marks `begin()` (balances before), tracks its channels,
 * notes what happens, marks the settlement, declares what each party is entitled to and which party is honest, and
 * adds its own checks; `finish()` takes the balances after and builds the report with the common invariants.
 */
export class ScenarioContext {
  readonly dir: string;
  readonly parties: Party[] = [];
  readonly channels = new Set<string>();
  readonly story: string[] = [];
  readonly checks: Check[] = [];
  readonly figures: Record<string, string> = {};
  /** Net wei (apart from gas) each party should end with, by name. */
  readonly entitled = new Map<string, bigint>();
  /**
   * The honest parties, by name: what each is owed for what it did (net, gas apart: a seeder its pieces, a leecher
   * minus what it received), the most it may lose (its credit window), and whether the scenario expects the bound
   * to hold (false only where it exists to show the loss, as without a watcher).
   */
  readonly honest = new Map<string, Honest>();
  readonly #stores: SqliteChannelStore[] = [];
  readonly #watchers: ChannelWatcher[] = [];
  readonly #cleanups: (() => unknown)[] = [];
  readonly #txs: Pending[] = [];
  readonly #summaries: ((report: ScenarioReport) => void)[] = [];
  #before: { block: number; wallets: bigint[]; shares: bigint[] } | undefined;
  #settle: { wallStart: number; chainStart: bigint; wallEnd?: number; chainEnd?: bigint } | undefined;

  constructor(
    readonly chain: SimulationChain,
    readonly challengeDuration: bigint,
    readonly onNote: (text: string) => void = () => {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "piecepay-simulate-"));
  }

  /** A fresh account funded with `FUNDING` from the bank, and an SDK client for it. */
  async party(name: string): Promise<Party> {
    const wallet = Wallet.createRandom().connect(this.chain.provider);
    const funded = await this.chain.bank.sendTransaction({ to: wallet.address, value: FUNDING });
    await funded.wait();
    const signer = wallet as unknown as Signer;
    const party: Party = { name, address: wallet.address, signer, client: await this.client(signer, name) };
    this.parties.push(party);
    return party;
  }

  /** An SDK client for `signer` whose transactions are recorded under `name`; `store` defaults to a fresh one. */
  async client(
    signer: Signer,
    name: string,
    options: { store?: string; extra?: Partial<PiecepayClientOptions> } = {},
  ): Promise<PiecepayClient> {
    const store = new SqliteChannelStore(options.store ?? join(this.dir, `${name}-${this.#stores.length}.db`));
    this.#stores.push(store);
    return PiecepayClient.create({
      signer,
      chainId: this.chain.chainId,
      adjudicator: this.chain.adjudicator,
      voucherApp: this.chain.voucherApp,
      ...this.chain.hubApps,
      store,
      ...SIM_TIMING,
      ...options.extra,
      log: (event, fields) => {
        if (event === "tx") this.#txs.push({ party: name, what: String(fields.what), hash: String(fields.hash) });
      },
    });
  }

  /** A watcher for `client`, started, stopped when the scenario ends. */
  watch(client: PiecepayClient, log?: (event: string, fields: Record<string, unknown>) => void): ChannelWatcher {
    const watcher = new ChannelWatcher(client, { pollingIntervalMs: 50, confirmations: 1, log });
    this.#watchers.push(watcher);
    watcher.start();
    return watcher;
  }

  /** Runs `fn` when the scenario ends (webtorrent clients, child processes). */
  cleanup(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }

  /** Records a transaction the scenario sends itself (not through the SDK); waits for it to be mined. */
  async record(party: string, what: string, send: () => Promise<ContractTransactionResponse>): Promise<string> {
    const tx = await send();
    this.#txs.push({ party, what, hash: tx.hash });
    try {
      await tx.wait();
    } catch {
      // a reverted transaction: recorded as such from its receipt
    }
    return tx.hash;
  }

  /**
   * Sends a transaction that may revert (a hostile attempt) with a fixed gas limit, so that it is mined and costs
   * its sender gas even when it reverts; records it. Returns whether it succeeded.
   */
  async force(party: Party, what: string, request: TransactionRequest, gasLimit = 500_000n): Promise<boolean> {
    const wallet = party.signer as unknown as Wallet;
    const raw = await wallet.signTransaction(await wallet.populateTransaction({ ...request, gasLimit }));
    const hash = keccak256(raw);
    this.#txs.push({ party: party.name, what, hash });
    try {
      await (await this.chain.provider.broadcastTransaction(raw)).wait();
    } catch {
      // reverted: the receipt says so
    }
    for (let i = 0; i < 100; i++) {
      const receipt = await this.chain.provider.getTransactionReceipt(hash);
      if (receipt) return receipt.status === 1;
      await this.chain.sleep(50);
    }
    throw new Error(`${what}: not mined`);
  }

  /** Records a transaction seen from outside the SDK log (e.g. sent by a child process). */
  recordHash(party: string, what: string, hash: string): void {
    this.#txs.push({ party, what, hash });
  }

  /** Adds figures computed from the finished report (e.g. gas per side). */
  summarize(fn: (report: ScenarioReport) => void): void {
    this.#summaries.push(fn);
  }

  /** How many transactions were recorded so far (to count those of one step). */
  get sent(): number {
    return this.#txs.length;
  }

  /** How many transactions were recorded so far for the party named `name`. */
  sentBy(name: string): number {
    return this.#txs.filter((t) => t.party === name).length;
  }

  note(text: string): void {
    this.story.push(text);
    this.onNote(`  ${text}`);
  }

  figure(name: string, value: bigint | number | string): void {
    this.figures[name] = String(value);
  }

  check(name: string, holds: boolean, detail: string, expected = true): void {
    this.checks.push({ name, holds, expected, detail });
  }

  track(channelId: string): void {
    this.channels.add(channelId.toLowerCase());
  }

  /** Opens a channel from `payer` to `payee` with `deposit` and waits until the payee sees it funded. */
  async open(payer: PiecepayClient, payee: PiecepayClient, deposit: bigint): Promise<string> {
    const channel = await payer.open(
      { payee: payee.address, deposit, challengeDuration: this.challengeDuration },
      (proposal) => payee.join(proposal),
    );
    await payee.waitForFunding(channel.id);
    this.track(channel.id);
    return channel.id;
  }

  /** Balances before: call once the parties exist, before their channels open. */
  async begin(): Promise<void> {
    const p = this.chain.provider;
    this.#before = {
      block: await p.getBlockNumber(),
      wallets: await Promise.all(this.parties.map((x) => p.getBalance(x.address))),
      shares: this.parties.map(() => 0n),
    };
  }

  /** The settlement starts (a party left, a challenge is registered) ... */
  async settling(): Promise<void> {
    this.#settle = { wallStart: Date.now(), chainStart: await this.chain.now() };
    if (this.#before) this.#before.shares = await Promise.all(this.parties.map((x) => this.share(x)));
  }

  /** ... and ends (the last payout is mined). */
  async settled(): Promise<void> {
    if (!this.#settle) await this.settling();
    const settle = this.#settle as unknown as { wallEnd?: number; chainEnd?: bigint };
    settle.wallEnd = Date.now();
    settle.chainEnd = await this.chain.now();
  }

  /** The share of the scenario's channels a party's own store says is its own (0 once withdrawn). */
  async share(party: Party): Promise<bigint> {
    let total = 0n;
    for (const id of this.channels) {
      const record = await party.client.store.getChannel(id);
      if (!record || record.phase === "withdrawn" || record.phase === "proposed") continue;
      if (record.ledger !== undefined) {
        // A hub ledger: our allocation in the latest state both signed, while the chain still holds the ledger.
        const latest = await party.client.store.getSupportedState(id);
        const held = await readEthHoldings(party.client.adjudicator, id);
        if (latest !== undefined && held > 0n)
          total += latest.variablePart.outcome[0].allocations[record.myIndex].amount;
        continue;
      }
      const paid = await party.client.paid(id);
      total += record.myIndex === 0 ? record.deposited - paid : paid;
    }
    return total;
  }

  /** Balances after, the common invariants, the report. Always releases what the scenario started. */
  async finish(meta: { id: string; name: string; title: string }, error?: unknown): Promise<ScenarioReport> {
    const shares = await Promise.all(this.parties.map((x) => this.share(x)));
    const durations = await this.#challengeDurations();
    await this.#release();
    const p = this.chain.provider;
    const before = this.#before ?? { block: 0, wallets: this.parties.map(() => 0n), shares: [] as bigint[] };
    const after = await Promise.all(this.parties.map((x) => p.getBalance(x.address)));
    const transactions = await this.#transactions();
    const gasOf = (name: string) => transactions.filter((t) => t.party === name).reduce((a, t) => a + t.cost, 0n);
    const parties = this.parties.map((x, i) => {
      const gas = gasOf(x.name);
      const change = after[i] - before.wallets[i];
      return {
        name: x.name,
        address: x.address,
        walletBefore: before.wallets[i],
        walletAfter: after[i],
        change,
        gas,
        net: change + gas,
        channelBefore: before.shares[i] ?? 0n,
        channelAfter: shares[i],
      };
    });
    const channels = await this.#channelRows(before.block, durations);
    const settle = this.#settle;
    const report: ScenarioReport = {
      ...meta,
      story: this.story,
      parties,
      channels,
      transactions,
      settle: {
        chainSeconds: settle?.chainEnd !== undefined ? Number(settle.chainEnd - settle.chainStart) : 0,
        wallSeconds: settle?.wallEnd !== undefined ? (settle.wallEnd - settle.wallStart) / 1000 : 0,
      },
      figures: this.figures,
      checks: this.checks,
      passed: false,
    };
    for (const fn of this.#summaries) fn(report);
    if (error !== undefined) report.error = error instanceof Error ? error.message : String(error);
    report.checks = [...commonChecks(report, this.entitled, this.honest), ...this.checks];
    report.passed = report.error === undefined && report.checks.every((c) => c.holds === c.expected);
    rmSync(this.dir, { recursive: true, force: true });
    return report;
  }

  async #release(): Promise<void> {
    for (const w of this.#watchers.splice(0)) await w.stop();
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // cleaning up what a failed scenario left: nothing more to do
      }
    }
    for (const s of this.#stores.splice(0)) s.close();
  }

  async #transactions(): Promise<TransactionRow[]> {
    const rows: TransactionRow[] = [];
    const seen = new Set<string>();
    for (const t of this.#txs) {
      if (seen.has(t.hash)) continue;
      seen.add(t.hash);
      const receipt: TransactionReceipt | null = await this.chain.provider.getTransactionReceipt(t.hash);
      if (!receipt) continue;
      rows.push({
        party: t.party,
        what: t.what,
        hash: t.hash,
        block: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
        cost: receipt.gasUsed * receipt.gasPrice,
        reverted: receipt.status !== 1,
      });
    }
    return rows.sort((a, b) => a.block - b.block);
  }

  /** Each channel's challenge duration, from the first party's store that holds the channel (read before release). */
  async #challengeDurations(): Promise<Map<string, bigint>> {
    const durations = new Map<string, bigint>();
    for (const id of this.channels) {
      for (const party of this.parties) {
        const record = await party.client.store.getChannel(id);
        if (record) {
          durations.set(id, record.fixedPart.challengeDuration);
          break;
        }
      }
    }
    return durations;
  }

  async #channelRows(fromBlock: number, durations: Map<string, bigint>): Promise<ScenarioReport["channels"]> {
    const rows: ScenarioReport["channels"] = [];
    const adjudicator = this.parties[0]?.client.adjudicator;
    if (!adjudicator) return rows;
    for (const id of this.channels) {
      // A cooperative close reports the ETH left in its Concluded event rather than in HoldingsUpdated.
      const updates = await adjudicator.queryFilter(adjudicator.filters.HoldingsUpdated(id), fromBlock + 1);
      const closes = await adjudicator.queryFilter(adjudicator.filters.Concluded(id), fromBlock + 1);
      const events = [
        ...updates.map((e) => ({ at: [e.blockNumber, e.index], held: e.args.held })),
        ...closes.map((e) => ({ at: [e.blockNumber, e.index], held: e.args.heldEth })),
      ]
        .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1])
        .map((e) => ({ args: { held: e.held } }));
      let held = 0n;
      let deposited = 0n;
      let paidOut = 0n;
      let payouts = 0;
      for (const e of events) {
        const next = e.args.held;
        if (next > held) deposited += next - held;
        else if (next < held) {
          paidOut += held - next;
          payouts++;
        }
        held = next;
      }
      // The simulations pay in ETH, read as a counterparty would (a committed channel's from its events).
      const now = await readEthHoldings(adjudicator, id);
      rows.push({
        id,
        challengeDuration: durations.get(id) ?? 0n,
        holdingsBefore: 0n,
        holdingsAfter: now,
        deposited,
        paidOut,
        payouts,
      });
    }
    return rows;
  }
}
