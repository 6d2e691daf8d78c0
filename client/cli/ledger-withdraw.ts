// `piecepay withdraw` on a ledger channel with a hub (ADR 0021). With the hub (--hub URL): the cooperative close,
// the hub signs the final state and we conclude it, one transaction by us; the hub refuses while the ledger still
// guarantees a virtual channel. Without the hub (--force): the exit through the chain (exitLedger: the ledger and
// every virtual channel it guarantees are challenged together, so everything finalizes one challenge duration
// later; then each guarantee is reclaimed and the ledger paid out). What we were paid is read from the ledger's
// PaidOut events, as for a direct channel.
import { getAddress, type JsonRpcProvider } from "ethers";
import { challengeLedger, exitLedger, HubConnection, ledgerBalances } from "../../sdk/hub/index.js";
import type { AssetInfo, ChannelRecord, PiecepayClient } from "../../sdk/node.js";
import { explainError } from "./errors.js";
import { formatAmount, type Output, short } from "./output.js";
import type { WithdrawResult } from "./withdraw-result.js";

/** One connection to --hub for the whole run, opened on first use; `close()` ends it. */
export class HubLink {
  #connection: Promise<HubConnection> | undefined;

  constructor(readonly url: string) {}

  /** Connected and logged in as `client`'s account (every ledger of one run belongs to one account). */
  connection(client: PiecepayClient): Promise<HubConnection> {
    this.#connection ??= HubConnection.connect(client.context, this.url, { timeoutMs: 15_000 });
    return this.#connection;
  }

  close(): void {
    this.#connection?.then((c) => c.close()).catch(() => undefined);
  }
}

export interface LedgerWithdrawOptions {
  force: boolean;
  hub: HubLink | undefined;
  provider: JsonRpcProvider;
  out: Output;
  signal: AbortSignal;
  unit: AssetInfo | string;
}

/** Does what `withdraw` does for one ledger channel. */
export async function withdrawLedger(
  client: PiecepayClient,
  record: ChannelRecord,
  options: LedgerWithdrawOptions,
): Promise<WithdrawResult> {
  const base = { id: record.id, kind: "ledger" as const, role: "user" as const, asset: record.asset };
  const { context } = client;
  if (record.phase === "withdrawn") return { ...base, action: "nothing" };
  const latest = await context.store.getSupportedState(record.id);
  // A ledger the hub never countersigned holds nothing of ours (openLedger deposits only after it did).
  if (latest === undefined) return { ...base, action: "nothing" };
  const [, finalizesAt] = await context.adjudicator.statusOf(record.id);
  const now = BigInt((await options.provider.getBlock("latest"))?.timestamp ?? 0);
  const open = finalizesAt === 0n;

  if (open && options.hub !== undefined) {
    try {
      return await closeWithHub(client, record, options.hub);
    } catch (error) {
      const why = refusal(error, latest.variablePart.outcome, options.unit);
      if (!options.force) return { ...base, action: "failed", error: why };
      options.out.note(`${short(record.id)}: ${why}; exiting on chain instead (--force)`);
    }
  }
  if (open && !options.force) return { ...base, action: "open" };
  if (!open && finalizesAt > now && !options.force) {
    // Under challenge (by the hub, or by us earlier): answer it with our latest state if that is newer.
    const answered = await challengeLedger(context, record.id);
    return { ...base, action: answered === undefined ? "waiting" : "answered", finalizesAt };
  }
  // Forced, or finalized already: the exit (a finalized ledger's exit may still challenge the virtual channels it
  // guarantees and wait for them, within one challenge duration).
  return exit(client, record, options, base);
}

/** The cooperative close: the hub signs the final state (the latest one, made final), we conclude it on chain. */
async function closeWithHub(client: PiecepayClient, record: ChannelRecord, hub: HubLink): Promise<WithdrawResult> {
  const connection = await hub.connection(client);
  const ours = getAddress(record.fixedPart.participants[1]);
  if (connection.info.hub !== ours) {
    throw new Error(`--hub ${hub.url} is hub ${connection.info.hub}; this ledger's hub is ${ours}`);
  }
  if (connection.info.adjudicator !== getAddress(record.adjudicator)) {
    throw new Error(`--hub ${hub.url} serves adjudicator ${connection.info.adjudicator}, not this ledger's`);
  }
  await connection.settled(); // a proposal the hub pushed at login (a settlement) is answered first
  const receipt = await connection.withdraw(record.id);
  await client.context.store.setPhase(record.id, "withdrawn");
  const paid = await client.settlementIn(record.id, receipt);
  return {
    id: record.id,
    kind: "ledger",
    role: "user",
    asset: record.asset,
    action: "paid-out",
    via: "hub",
    paidToUs: paid.toUs,
    paidToPeer: paid.toPeer,
  };
}

/** exitLedger, with a note when everything is registered and the deadline is known; on an on-demand chain, a block. */
async function exit(
  client: PiecepayClient,
  record: ChannelRecord,
  options: LedgerWithdrawOptions,
  base: Pick<WithdrawResult, "id" | "kind" | "role" | "asset">,
): Promise<WithdrawResult> {
  const latest = await client.context.store.getSupportedState(record.id);
  const guarantees = latest === undefined ? 0 : ledgerBalances(latest.variablePart.outcome).guarantees.size;
  options.out.note(
    `${short(record.id)}: exiting the ledger on chain with the ${guarantees} virtual channel(s) it guarantees; ` +
      `this takes up to one challenge duration (${record.fixedPart.challengeDuration} s)`,
  );
  let deadline = 0n;
  const miner = setInterval(() => {
    void nudge(options.provider, deadline);
  }, 1_000);
  try {
    const { transactions } = await exitLedger(client.context, record.id, {
      signal: options.signal,
      onWaiting: (finalizesAt) => {
        if (finalizesAt <= deadline) return;
        deadline = finalizesAt;
        const at = new Date(Number(finalizesAt) * 1000).toISOString();
        options.out.note(
          `${short(record.id)}: the ledger and the virtual channels it guarantees are registered; they finalize at ${at}; waiting (Ctrl-C to stop waiting)`,
        );
      },
    });
    // What the ledger paid each side, from its PaidOut events (all of them: the exit may have paid in parts).
    const paid = await client.settlement(record.id);
    return {
      ...base,
      action: "paid-out",
      via: "exit",
      paidToUs: paid.toUs,
      paidToPeer: paid.toPeer,
      transactions: transactions.length,
    };
  } catch (error) {
    if ((error as { code?: unknown }).code === "EXIT_ABORTED")
      return { ...base, action: "waiting", finalizesAt: deadline };
    throw error;
  } finally {
    clearInterval(miner);
  }
}

/**
 * A chain that mines only on demand (anvil without --block-time, `npm run node`) has no block past a deadline until
 * a transaction comes: 3 s after it by our clock, ask for an empty block (a real chain refuses, harmlessly).
 */
async function nudge(provider: JsonRpcProvider, deadline: bigint): Promise<void> {
  if (deadline === 0n || Date.now() < Number(deadline) * 1000 + 3_000) return;
  try {
    const head = BigInt((await provider.getBlock("latest"))?.timestamp ?? 0);
    if (head < deadline) await provider.send("evm_mine", []);
  } catch {
    // not a development chain
  }
}

/** Why the hub did not close the ledger, in a line that says what to do. */
function refusal(error: unknown, outcome: Parameters<typeof ledgerBalances>[0], unit: AssetInfo | string): string {
  const said = explainError(error).message;
  const code = (error as { code?: unknown }).code;
  // The hub answered (HUB_REFUSED), or its final state still held a guarantee (GUARANTEES_LIVE, our own check).
  if (code === "HUB_REFUSED" || code === "GUARANTEES_LIVE") {
    const { guarantees } = ledgerBalances(outcome);
    if (guarantees.size > 0 || /guarantee/i.test(said)) {
      const locked = [...guarantees.values()].reduce((sum, amount) => sum + amount, 0n);
      return (
        `the hub will not close this ledger while it guarantees ${guarantees.size} virtual channel(s) ` +
        `(${formatAmount(locked, unit)} locked): close or settle them through the hub first, or exit on chain with ` +
        `--force (one challenge duration). The hub said: ${said}`
      );
    }
    return `the hub refused to close the ledger: ${said}`;
  }
  return `the hub did not close the ledger: ${said} (--force exits on chain without the hub)`;
}
