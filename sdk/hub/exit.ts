// Leaving a hub through the chain (ADR 0021, decision 8): whatever the hub does (vanishes, lies, refuses to sign),
// a user registers the latest ledger state both signed and its best state of every virtual channel that ledger
// guarantees, waits one challenge duration, reclaims each guarantee and pays the ledger out. Everything is read from
// the context's store (what HubConnection kept) and from the chain's events; nothing is asked of the hub.
//
// The existing dispute actions assume a two-party voucher channel (payer 0, payee 1). A ledger [user, hub] fits
// them (its states are all signed by both, so `challenge` and `checkpoint` register the latest one as they are); a
// virtual channel [payer, hub, payee] does not: its payee is participant 2 and its voucher state needs V0 signed by
// all three as proof, and its states live in the record's `virtual` info rather than as a supported state. So this
// file registers V's states itself, and reads what a channel still owes after a `reclaim` (which the existing
// registration finder, written before reclaims, cannot follow) by replaying its events.
import { type TransactionReceipt, ZeroHash } from "ethers";
import { challenge } from "../actions/challenge.js";
import { checkpoint } from "../actions/checkpoint.js";
import { isRevert, sleep } from "../actions/internal/channels.js";
import { registration } from "../actions/registration.js";
import { checksumAddress as getAddress } from "../address.js";
import { isExternalDestination, outcomeHash, stateHash } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import { onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { variablePartFromEvent } from "../events.js";
import { ledgerBalances } from "../ledger.js";
import { findRegistration, NO_REGISTRATION, type Registration, registrationOf } from "../registration.js";
import { signChallenge, signState, toSigned } from "../signatures.js";
import { fingerprint } from "../status.js";
import type { ChannelRecord } from "../store/types.js";
import type { Outcome, SignedVariablePart, VariablePart } from "../types.js";
import { checkVirtualVoucherSupported, virtualVoucherState } from "../virtual-voucher.js";

// A ledger's allocations are [user, hub, guarantee...]; a virtual channel's participants [payer, hub, payee].
const USER = 0;
const HUB = 1;
const FIRST_GUARANTEE = 2;
const PAYER = 0;
const PAYEE = 2;
const ALL_THREE = 0x7n;

/** What a finalized channel still owes, as `reclaim` and `transferAllAssets` take it (`Owed` in ChannelTypes.sol). */
export interface OwedOutcome {
  stateHash: string;
  outcome: Outcome;
  heldEth: bigint;
}

/** What `reclaimGuarantee` did: the transaction, what the ledger's user and hub gained, and what the ledger owes now. */
export interface ReclaimGuaranteeReturnType {
  receipt: TransactionReceipt;
  toUser: bigint;
  toHub: bigint;
  owed: OwedOutcome;
}

export interface ExitLedgerOptions {
  /** Stops waiting for the challenges to finalize (EXIT_ABORTED); what was sent stays on chain. */
  signal?: AbortSignal;
  /** Called once every challenge and answer is mined, with the time (chain seconds) the last channel finalizes. */
  onWaiting?: (finalizesAt: bigint) => void;
}

/** What `exitLedger` did: what the ledger paid us (from its PaidOut events), and every transaction it sent. */
export interface ExitLedgerReturnType {
  paid: bigint;
  transactions: TransactionReceipt[];
}

/** A channel's status on chain, with whether it is under challenge or finalized at the latest block. */
interface ChainStatus {
  turnNumRecord: bigint;
  finalizesAt: bigint;
  fingerprint: bigint;
  challenged: boolean;
  finalized: boolean;
}

/**
 * Registers the latest ledger state we and the hub both signed (`challenge`), or, while a challenge runs, answers
 * it with that state when it is newer than the registered one (`checkpoint`: a hub that registered a stale state
 * is overruled and the deadline stays). A final state both signed concludes the ledger instead. Resolves to the
 * transaction, or undefined when nothing was needed (finalized, or the registered state is already our latest).
 * @throws PiecepayError UNKNOWN_CHANNEL, NOT_A_LEDGER, NO_SUPPORTED_STATE; ContractRevertError
 * @example await challengeLedger(context, ledgerId)
 */
export async function challengeLedger(
  context: PiecepayContext,
  ledgerId: string,
): Promise<TransactionReceipt | undefined> {
  const ctx = await withChainChecked(context);
  const record = await ledgerOf(ctx, ledgerId);
  const status = await chainStatus(ctx, record.id);
  if (status.finalized) return undefined;
  const latest = await ctx.store.getSupportedState(record.id);
  if (latest === undefined) throw new PiecepayError("NO_SUPPORTED_STATE", `ledger ${record.id} has no state`);
  if (latest.variablePart.isFinal) {
    const registration = await registrationNow(ctx, record.id, status);
    const receipt = await sendTransaction(ctx, "ledger conclude", () =>
      ctx.adjudicator.conclude(record.fixedPart, latest, registration, onOurChain(ctx)),
    );
    await ctx.store.setPhase(record.id, "finalized");
    return receipt;
  }
  if (!status.challenged) return challenge(ctx, { channelId: record.id });
  if (latest.variablePart.turnNum <= status.turnNumRecord) return undefined;
  return checkpoint(ctx, { channelId: record.id });
}

/**
 * Puts our best state of a virtual channel on chain, or answers a challenge of it with something newer:
 * with V_F signed by all three, `conclude` (at any time, even during a challenge); otherwise the payee registers
 * its largest received voucher as a state on V0 (proof: V0 signed by all three; the candidate signed by the payee
 * alone, `virtualVoucherState`), a hub that settled with the payee (V_p) registers V_p, and the payer (or a hub
 * without V_p) registers V0 itself. During a challenge the voucher state answers by `respond` when V0 is
 * registered, by `checkpoint` otherwise, and only when it pays the payee more than what is registered.
 * Resolves to the transaction, or undefined when nothing was needed.
 * @throws PiecepayError UNKNOWN_CHANNEL, NOT_A_VIRTUAL, NOT_ENFORCEABLE (the app would refuse our state),
 * REGISTERED_STATE_UNKNOWN; ContractRevertError
 * @example await challengeVirtual(context, virtualId)
 */
export async function challengeVirtual(
  context: PiecepayContext,
  virtualId: string,
): Promise<TransactionReceipt | undefined> {
  const ctx = await withChainChecked(context);
  const record = await virtualOf(ctx, virtualId);
  const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
  const { fixedPart, id } = record;
  const status = await chainStatus(ctx, id);
  if (status.finalized) return undefined;
  const registeredState = status.challenged ? await registeredNow(ctx, id) : undefined;
  const registration = registeredState === undefined ? NO_REGISTRATION : registrationOf(id, registeredState);
  const final = info.final;
  if (final !== undefined && final.signedBy === ALL_THREE) {
    const receipt = await sendTransaction(ctx, "virtual conclude", () =>
      ctx.adjudicator.conclude(fixedPart, final, registration, onOurChain(ctx)),
    );
    await ctx.store.setPhase(id, "finalized");
    return receipt;
  }
  const registered = registeredState?.variablePart;
  const candidate = await voucherCandidate(ctx, record, status);
  let receipt: TransactionReceipt | undefined;
  if (candidate === undefined) {
    // V0 at turn 0 never beats a registered state; on an open channel it starts the clock.
    if (status.challenged) return undefined;
    receipt = await registerVirtual(ctx, record, [], info.v0);
  } else if (!status.challenged) {
    receipt = await registerVirtual(ctx, record, [info.v0], candidate);
  } else {
    const registeredPaid = registered?.outcome[0]?.allocations[PAYEE]?.amount ?? 0n;
    if (candidate.variablePart.outcome[0].allocations[PAYEE].amount <= registeredPaid) return undefined;
    const heldEth = registeredState?.heldEth ?? 0n;
    const isV0 = registered !== undefined && stateHash(id, registered) === stateHash(id, info.v0.variablePart);
    if (isV0 && candidate.variablePart.turnNum === 1n) {
      receipt = await sendTransaction(ctx, "virtual respond", () =>
        ctx.adjudicator.respond(fixedPart, id, registered, candidate, heldEth, onOurChain(ctx)),
      );
    } else {
      if (candidate.variablePart.turnNum <= status.turnNumRecord) return undefined;
      receipt = await sendTransaction(ctx, "virtual checkpoint", () =>
        ctx.adjudicator.checkpoint(fixedPart, [info.v0], candidate, registration, onOurChain(ctx)),
      );
    }
  }
  await ctx.store.setPhase(id, "challenged");
  return receipt;
}

/**
 * Once a ledger and a virtual channel it guarantees are both finalized, resolves the guarantee with `reclaim`: the
 * ledger's user gains what the virtual channel still owes it (its allocation as payer or payee), the hub the rest.
 * Both owed outcomes are read from the chain's events (ChallengeRegistered, Concluded, Reclaimed, PaidOut,
 * HoldingsUpdated: whatever registration, payout or reclaim happened before, by anyone). The ledger's new owed
 * outcome is returned; the chain keeps it (its Reclaimed event), so a later payout or reclaim rebuilds it from
 * there, and the store records the guarantee as settled on this side. Resolves to undefined when the guarantee was
 * reclaimed already.
 * @throws PiecepayError NOT_FINALIZED, GUARANTEE_NOT_FOUND, REGISTERED_STATE_UNKNOWN, UNKNOWN_CHANNEL, NOT_A_LEDGER,
 * NOT_A_VIRTUAL; ContractRevertError
 * @example const { toUser } = await reclaimGuarantee(context, ledgerId, virtualId)
 */
export async function reclaimGuarantee(
  context: PiecepayContext,
  ledgerId: string,
  virtualId: string,
): Promise<ReclaimGuaranteeReturnType | undefined> {
  const ctx = await withChainChecked(context);
  const ledger = await ledgerOf(ctx, ledgerId);
  const virtual = await virtualOf(ctx, virtualId);
  const [ledgerStatus, virtualStatus] = [await chainStatus(ctx, ledger.id), await chainStatus(ctx, virtual.id)];
  for (const [id, status] of [
    [ledger.id, ledgerStatus],
    [virtual.id, virtualStatus],
  ] as const) {
    if (!status.finalized) throw new PiecepayError("NOT_FINALIZED", `channel ${id} has not finalized yet`);
  }
  const ledgerOwed = await owedOutcome(ctx, ledger.id, await knownFinalStates(ctx, ledger));
  if (ledgerOwed === undefined) return undefined; // paid out in full: no guarantee left
  const allocations = ledgerOwed.outcome[0].allocations;
  const index = allocations.findIndex(
    (a, i) => i >= FIRST_GUARANTEE && a.destination.toLowerCase() === virtual.id.toLowerCase(),
  );
  if (index < 0)
    throw new PiecepayError("GUARANTEE_NOT_FOUND", `ledger ${ledger.id} owes no guarantee for ${virtualId}`);
  if (allocations[index].amount === 0n) return undefined;
  // A virtual channel that owes nothing (zero fingerprint) is not read by reclaim: any Owed will do.
  const virtualOwed =
    virtualStatus.fingerprint === 0n
      ? { stateHash: ZeroHash, outcome: [], heldEth: 0n }
      : await owedOutcome(ctx, virtual.id, await knownFinalStates(ctx, virtual));
  if (virtualOwed === undefined) {
    throw new PiecepayError("REGISTERED_STATE_UNKNOWN", `no known state of ${virtual.id} matches its fingerprint`);
  }
  const receipt = await sendTransaction(ctx, "reclaim", () =>
    ctx.adjudicator.reclaim(
      ledger.fixedPart,
      ledgerOwed,
      0n,
      BigInt(index),
      virtual.fixedPart,
      virtualOwed,
      onOurChain(ctx),
    ),
  );
  const event = receipt.logs
    .map((log) => (sameAddress(log.address, ctx.adjudicator.target as string) ? parseLog(ctx, log) : null))
    .find((parsed) => parsed?.name === "Reclaimed");
  if (event == null) throw new PiecepayError("REGISTERED_STATE_UNKNOWN", `no Reclaimed event in ${receipt.hash}`);
  const [toUser, toHub] = [event.args.toUser as bigint, event.args.toHub as bigint];
  const owed: OwedOutcome = {
    ...ledgerOwed,
    outcome: [
      {
        asset: ledgerOwed.outcome[0].asset,
        allocations: allocations.map((a, i) =>
          i === USER
            ? { ...a, amount: a.amount + toUser }
            : i === HUB
              ? { ...a, amount: a.amount + toHub }
              : i === index
                ? { ...a, amount: 0n }
                : a,
        ),
      },
    ],
  };
  const user = getAddress(ledger.fixedPart.participants[USER]);
  const side = getAddress(virtual.fixedPart.participants[PAYER]) === user ? "payer" : "payee";
  await ctx.store.updateChannel(virtual.id, (r) =>
    r.virtual === undefined
      ? undefined
      : { ...r, virtual: { ...r.virtual, settled: { ...r.virtual.settled, [side]: true } } },
  );
  ctx.log("reclaimed", { ledgerId: ledger.id, virtualId: virtual.id, toUser, toHub, hash: receipt.hash });
  return { receipt, toUser, toHub, owed };
}

/**
 * The whole exit of a ledger through the chain, for a user whose hub vanished or lies (or for the hub whose users
 * did): challenges the ledger with our latest state and every virtual channel it guarantees with our best state of
 * it, all together, so that everything finalizes one challenge duration after the first of these transactions
 * (plus the time to mine the rest; answers never move a channel's deadline, ADR 0005). While waiting it answers any
 * newer challenge with what we hold. Then it reclaims each guarantee and pays the ledger out
 * (`transferAllAssets` of the owed outcome, which pays the hub its share too), and resolves to what the ledger paid
 * us, read from its PaidOut events. A ledger with k live virtual channels costs 2 + 2k transactions (fewer when
 * another party registered a channel first). A guarantee for a virtual channel missing from our store cannot be
 * reclaimed (its fixed part is unknown) and stays owed, unpaid.
 * @throws PiecepayError EXIT_ABORTED (the signal), UNKNOWN_CHANNEL, NOT_A_LEDGER, and what challengeLedger,
 * challengeVirtual and reclaimGuarantee throw
 * @example const { paid } = await exitLedger(context, ledgerId, { onWaiting: (at) => console.log(`paid after ${at}`) })
 */
export async function exitLedger(
  context: PiecepayContext,
  ledgerId: string,
  options: ExitLedgerOptions = {},
): Promise<ExitLedgerReturnType> {
  const ctx = await withChainChecked(context);
  const record = await ledgerOf(ctx, ledgerId);
  const latest = await ctx.store.getSupportedState(record.id);
  if (latest === undefined) throw new PiecepayError("NO_SUPPORTED_STATE", `ledger ${record.id} has no state`);
  const transactions: TransactionReceipt[] = [];
  const sent = (receipt: TransactionReceipt | undefined) => {
    if (receipt !== undefined) transactions.push(receipt);
  };

  // 1. Every challenge together: the ledger, then each virtual channel our latest state guarantees.
  const virtuals = await knownVirtuals(ctx, [...ledgerBalances(latest.variablePart.outcome).guarantees.keys()]);
  sent(await challengeLedger(ctx, record.id));
  for (const v of virtuals) sent(await challengeVirtual(ctx, v));

  // 2. One challenge duration, answering whatever is registered meanwhile. Once the ledger is finalized, its owed
  // outcome may guarantee a channel our latest state had settled (a stale state registered and not answered in
  // time): that one is challenged then, and waited for too.
  await waitFinalized(ctx, record.id, virtuals, options, sent);
  const owed = await owedOutcome(ctx, record.id, await knownFinalStates(ctx, record));
  const guaranteed = owed === undefined ? [] : guaranteesOf(owed.outcome).map((g) => g.target);
  const late = (await knownVirtuals(ctx, guaranteed)).filter((v) => !virtuals.includes(v));
  if (late.length > 0) {
    for (const v of late) sent(await challengeVirtual(ctx, v));
    await waitFinalized(ctx, record.id, late, options, sent);
  }

  // 3. Reclaim each guarantee we can, then pay the ledger out.
  for (const v of await knownVirtuals(ctx, guaranteed)) {
    sent((await reclaimGuarantee(ctx, record.id, v))?.receipt);
  }
  const now = await owedOutcome(ctx, record.id, await knownFinalStates(ctx, record));
  const destination = latest.variablePart.outcome[0].allocations[record.myIndex].destination.toLowerCase();
  if (now?.outcome[0].allocations.some((a, i) => i < FIRST_GUARANTEE && a.amount > 0n)) {
    try {
      sent(
        await sendTransaction(ctx, "ledger transferAllAssets", () =>
          ctx.adjudicator.transferAllAssets(record.id, now.stateHash, now.outcome, now.heldEth, onOurChain(ctx)),
        ),
      );
    } catch (error) {
      // The hub's destination refuses ETH (a contract): pay our own allocation alone, by index.
      if (!isRevert(error) || now.outcome[0].allocations[record.myIndex].amount === 0n) throw error;
      sent(
        await sendTransaction(ctx, "ledger transfer", () =>
          ctx.adjudicator.transfer(
            0n,
            record.id,
            now.stateHash,
            now.outcome,
            now.heldEth,
            [BigInt(record.myIndex)],
            onOurChain(ctx),
          ),
        ),
      );
    }
  }
  await ctx.store.setPhase(record.id, "withdrawn");
  const events = await ctx.adjudicator.queryFilter(ctx.adjudicator.filters.PaidOut(record.id));
  const paid = events
    .filter((e) => e.args.destination.toLowerCase() === destination)
    .reduce((sum, e) => sum + e.args.amount, 0n);
  ctx.log("ledger-exited", { ledgerId: record.id, paid, transactions: transactions.length });
  return { paid, transactions };
}

// ------------------------------------------------------------------------------------------------------ helpers

/** Polls until the ledger and `virtuals` are finalized, answering any newer registration on them. */
async function waitFinalized(
  ctx: PiecepayContext,
  ledgerId: string,
  virtuals: string[],
  options: ExitLedgerOptions,
  sent: (receipt: TransactionReceipt | undefined) => void,
): Promise<void> {
  const ids = [ledgerId, ...virtuals];
  const seen = new Map<string, bigint>();
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw new PiecepayError("EXIT_ABORTED", `exit of ledger ${ledgerId} aborted`);
    const statuses = await Promise.all(ids.map((id) => chainStatus(ctx, id)));
    if (statuses.every((s) => s.finalized)) return;
    for (const [i, id] of ids.entries()) {
      const status = statuses[i];
      const before = seen.get(id);
      seen.set(id, status.turnNumRecord);
      // A registration since we last looked (or our first look): answer it if we hold something newer.
      if (status.finalized || before === status.turnNumRecord) continue;
      if (before !== undefined) sent(await (i === 0 ? challengeLedger(ctx, id) : challengeVirtual(ctx, id)));
    }
    if (!told) {
      told = true;
      options.onWaiting?.(statuses.reduce((max, s) => (s.finalizesAt > max ? s.finalizesAt : max), 0n));
    }
    await sleep(ctx.timing.pollingIntervalMs);
  }
}

async function ledgerOf(ctx: PiecepayContext, id: string): Promise<ChannelRecord> {
  const record = await ctx.store.getChannel(id.toLowerCase());
  if (record === undefined) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
  if (record.ledger === undefined) throw new PiecepayError("NOT_A_LEDGER", `channel ${id} is not a hub ledger`);
  return record;
}

async function virtualOf(ctx: PiecepayContext, id: string): Promise<ChannelRecord> {
  const record = await ctx.store.getChannel(id.toLowerCase());
  if (record === undefined) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
  if (record.virtual === undefined) throw new PiecepayError("NOT_A_VIRTUAL", `channel ${id} is not a virtual channel`);
  return record;
}

/** The ids among `targets` whose virtual channel our store knows (the others are logged and skipped). */
async function knownVirtuals(ctx: PiecepayContext, targets: string[]): Promise<string[]> {
  const known: string[] = [];
  for (const target of targets) {
    const record = await ctx.store.getChannel(target.toLowerCase());
    if (record?.virtual !== undefined) known.push(record.id);
    else ctx.log("exit-unknown-virtual", { virtualId: target });
  }
  return known;
}

/** The guarantees of a ledger outcome, by position. */
function guaranteesOf(outcome: Outcome): { target: string; index: number; amount: bigint }[] {
  return outcome[0].allocations.flatMap((a, index) =>
    index >= FIRST_GUARANTEE && !isExternalDestination(a.destination)
      ? [{ target: a.destination.toLowerCase(), index, amount: a.amount }]
      : [],
  );
}

async function chainStatus(ctx: PiecepayContext, id: string): Promise<ChainStatus> {
  const [turnNumRecord, finalizesAt, print] = await ctx.adjudicator.statusOf(id);
  const now = BigInt((await ctx.provider().getBlock("latest"))?.timestamp ?? 0);
  const finalized = finalizesAt !== 0n && finalizesAt <= now;
  return { turnNumRecord, finalizesAt, fingerprint: print, finalized, challenged: finalizesAt !== 0n && !finalized };
}

/** The registration argument now: none on an open channel, the one the events name during a challenge. */
async function registrationNow(ctx: PiecepayContext, id: string, status: ChainStatus): Promise<Registration> {
  if (!status.challenged) return NO_REGISTRATION;
  return registrationOf(id, await registeredNow(ctx, id));
}

/** The registration of a channel of ours under challenge (before any reclaim or payout, its events name it). */
function registeredNow(ctx: PiecepayContext, id: string) {
  return registration(ctx, { channelId: id });
}

/**
 * Our non-final state of V that pays the payee more than V0, if any: the payee's largest received voucher on V0
 * (at a turn the adjudicator accepts now), or the V_p a hub settled on. Checked against the app's rules first.
 */
async function voucherCandidate(
  ctx: PiecepayContext,
  record: ChannelRecord,
  status: ChainStatus,
): Promise<SignedVariablePart | undefined> {
  const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
  let candidate: SignedVariablePart | undefined;
  if (record.myIndex === PAYEE) {
    const voucher = await ctx.store.getVoucher("received", record.id);
    if (voucher !== undefined && voucher.amount > 0n) {
      const turnNum = status.challenged ? status.turnNumRecord + 1n : 1n;
      const state = virtualVoucherState(record.fixedPart, info.v0.variablePart, voucher, turnNum);
      candidate = toSigned(state, new Map([[PAYEE, await signState(ctx.signer, record.id, state)]]));
    } else {
      candidate = info.voucherState;
    }
  } else if (record.myIndex === HUB) {
    candidate = info.voucherState;
  }
  if (candidate === undefined) return undefined;
  try {
    checkVirtualVoucherSupported(record.fixedPart, record.id, [info.v0], candidate);
  } catch (error) {
    throw new PiecepayError("NOT_ENFORCEABLE", `the virtual voucher app would refuse our state of ${record.id}`, {
      cause: error,
    });
  }
  return candidate;
}

/** `challenge` of V on an open channel (the sender is the challenger, or signs for our participant). */
async function registerVirtual(
  ctx: PiecepayContext,
  record: ChannelRecord,
  proof: SignedVariablePart[],
  candidate: SignedVariablePart,
): Promise<TransactionReceipt> {
  const challengerSig =
    ctx.walletAddress === ctx.address
      ? "0x"
      : await signChallenge(ctx.signer, stateHash(record.id, candidate.variablePart));
  return sendTransaction(ctx, "virtual challenge", () =>
    ctx.adjudicator.challenge(record.fixedPart, proof, candidate, challengerSig, NO_REGISTRATION, onOurChain(ctx)),
  );
}

/** The final states we know of a channel (a concluded one's state is in no event): signed, or ours to sign. */
async function knownFinalStates(ctx: PiecepayContext, record: ChannelRecord): Promise<VariablePart[]> {
  const states = [...(record.finalStates ?? [])];
  const latest = await ctx.store.getSupportedState(record.id);
  if (latest?.variablePart.isFinal) states.push(latest.variablePart);
  if (record.virtual?.final !== undefined) states.push(record.virtual.final.variablePart);
  return states;
}

/**
 * What a finalized channel still owes, rebuilt from its events: the state its last ChallengeRegistered carries (or,
 * after a Concluded, whichever of `finals` matches), then every Reclaimed, PaidOut and HoldingsUpdated of ETH since,
 * in order; kept only when it matches the fingerprint on chain. Falls back to `findRegistration` (payouts alone).
 * Undefined when the channel owes and holds nothing (zero fingerprint) or no known state matches.
 */
async function owedOutcome(ctx: PiecepayContext, id: string, finals: VariablePart[]): Promise<OwedOutcome | undefined> {
  const a = ctx.adjudicator;
  const [, , onChainPrint] = await a.statusOf(id);
  if (onChainPrint === 0n) return undefined;
  const [registered, concluded, reclaimed, paid, holdings] = await Promise.all([
    a.queryFilter(a.filters.ChallengeRegistered(id)),
    a.queryFilter(a.filters.Concluded(id)),
    a.queryFilter(a.filters.Reclaimed(id)),
    a.queryFilter(a.filters.PaidOut(id)),
    a.queryFilter(a.filters.HoldingsUpdated(id, "0x0000000000000000000000000000000000000000")),
  ]);
  const at = (e: { blockNumber: number; index: number }) => e.blockNumber * 1_000_000 + e.index;
  const lastRegistered = registered.at(-1);
  const lastConcluded = concluded.at(-1);
  const start =
    lastConcluded !== undefined && (lastRegistered === undefined || at(lastConcluded) > at(lastRegistered))
      ? { at: at(lastConcluded), heldEth: lastConcluded.args.heldEth, states: finals }
      : lastRegistered !== undefined
        ? {
            at: at(lastRegistered),
            heldEth: lastRegistered.args.heldEth,
            states: [variablePartFromEvent(lastRegistered.args)],
          }
        : undefined;
  if (start !== undefined) {
    type Step = { at: number; apply: (o: Outcome, held: bigint) => bigint };
    const steps: Step[] = [
      ...reclaimed.map((e) => ({
        at: at(e),
        apply: (o: Outcome, held: bigint) => {
          const allocations = o[Number(e.args.assetIndex)].allocations;
          allocations[USER].amount += e.args.toUser;
          allocations[HUB].amount += e.args.toHub;
          allocations[Number(e.args.guaranteeIndex)].amount = 0n;
          return held;
        },
      })),
      ...paid.map((e) => ({
        at: at(e),
        apply: (o: Outcome, held: bigint) => {
          const exit = o.find((x) => sameAddress(x.asset, e.args.asset));
          const allocation = exit?.allocations.find(
            (x) => x.destination.toLowerCase() === e.args.destination.toLowerCase() && x.amount > 0n,
          );
          if (allocation !== undefined)
            allocation.amount -= e.args.amount < allocation.amount ? e.args.amount : allocation.amount;
          return held;
        },
      })),
      ...holdings.map((e) => ({ at: at(e), apply: (_o: Outcome, _held: bigint) => e.args.held })),
    ]
      .filter((s) => s.at > start.at)
      .sort((x, y) => x.at - y.at);
    for (const state of start.states) {
      const outcome: Outcome = state.outcome.map((exit) => ({
        asset: exit.asset,
        allocations: exit.allocations.map((x) => ({ destination: x.destination, amount: x.amount })),
      }));
      let heldEth = start.heldEth;
      for (const step of steps) heldEth = step.apply(outcome, heldEth);
      const owesNothing = outcome.every((exit) => exit.allocations.every((x) => x.amount === 0n));
      const hash = stateHash(id, state);
      if (fingerprint(hash, owesNothing ? ZeroHash : outcomeHash(outcome), heldEth) === onChainPrint) {
        return { stateHash: hash, outcome, heldEth };
      }
    }
  }
  const found = await findRegistration(a, id, finals);
  if (found === undefined || found.owed.length === 0) return undefined;
  return { stateHash: stateHash(id, found.variablePart), outcome: found.owed, heldEth: found.heldEth };
}

function parseLog(ctx: PiecepayContext, log: { topics: readonly string[]; data: string }) {
  try {
    return ctx.adjudicator.interface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null;
  }
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
