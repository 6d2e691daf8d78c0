// `get --hub URL` and `seed --hub URL`: log in to a hub and find or open our ledger channel with it (ADR 0021). A
// leecher's ledger holds its deposit (one transaction, once: later downloads reuse it while it has a free balance,
// and top it up when it has none); a seeder's holds the hub's capacity (the hub's transaction, none of ours; asked
// for again when what it earned drained it). Everything after is off chain.
import { getAddress } from "ethers";
import { HubConnection, ledgerBalances } from "../../sdk/hub/index.js";
import { type ChannelRecord, type PiecepayClient, PiecepayError } from "../../sdk/index.js";
import type { HubAccount } from "../session/hub-route.js";
import type { AmountUnit } from "./amounts.js";
import { CliError } from "./command.js";
import { explainError } from "./errors.js";
import { formatAmount, type Output } from "./output.js";

/** Logs in to the hub at `url` with our key; a hub on another chain or adjudicator is refused with its reason. */
export async function connectHub(client: PiecepayClient, url: string): Promise<HubConnection> {
  try {
    return await HubConnection.connect(client.context, url, { timeoutMs: 30_000 });
  } catch (error) {
    const { message, hint } = explainError(error);
    throw new CliError(`could not use hub ${url}: ${message}`, hint ?? "check --hub (what `piecepay hub` prints)");
  }
}

/**
 * `connectHub` for a leecher, which can pay every seeder directly instead: when the hub cannot be used (down, not
 * answering, on another chain) it says so on stderr and resolves to undefined.
 */
export async function connectHubOrDirect(
  client: PiecepayClient,
  url: string,
  out: Output,
): Promise<HubConnection | undefined> {
  try {
    return await connectHub(client, url);
  } catch (error) {
    out.note(`${(error as Error).message}; paying every seeder over a direct channel instead`);
    return undefined;
  }
}

/** Our open ledgers with `hub` in the store, as payer (`deposit`: we funded it) or payee (`capacity`: the hub did). */
async function openLedgers(
  connection: HubConnection,
  kind: "deposit" | "capacity",
  asset: string,
): Promise<ChannelRecord[]> {
  const { context, info } = connection;
  const hub = getAddress(info.hub);
  return (await context.store.listChannels()).filter(
    (r) =>
      r.ledger !== undefined &&
      r.phase === "open" &&
      r.myIndex === 0 &&
      r.chainId === context.chainId &&
      getAddress(r.fixedPart.participants[1]) === hub &&
      getAddress(r.asset) === getAddress(asset) &&
      (kind === "capacity") === r.ledger.hubDeposit > 0n,
  );
}

/**
 * The leecher's ledger with the hub: an open one of ours whose free balance pays at least `minimum`, or a new one
 * holding `deposit` (one transaction). Prints which.
 */
export async function leecherLedger(
  connection: HubConnection,
  params: { deposit: bigint; minimum: bigint; unit: AmountUnit; asset: string },
  out: Output,
): Promise<HubAccount> {
  const ledgers = await openLedgers(connection, "deposit", params.asset);
  for (const record of ledgers) {
    const { user } = await connection.balances(record.id);
    if (user < params.minimum) continue;
    out.note(`paying through hub ${connection.info.hub}: ledger ${record.id}, ${formatAmount(user, params.unit)} free`);
    return { connection, ledgerId: record.id };
  }
  if (ledgers.length > 0) {
    // An open ledger whose free balance is spent: topped up (one transaction) rather than a second ledger opened.
    const ledgerId = ledgers[0].id;
    out.note(
      `topping up ledger ${ledgerId} with hub ${connection.info.hub} by ${formatAmount(params.deposit, params.unit)}`,
    );
    try {
      await connection.topUpLedger(ledgerId, params.deposit);
    } catch (error) {
      const { message, hint } = explainError(error);
      throw new CliError(`could not top up ledger ${ledgerId}: ${message}`, hint);
    }
    return { connection, ledgerId };
  }
  out.note(`depositing ${formatAmount(params.deposit, params.unit)} into a ledger with hub ${connection.info.hub}`);
  const { ledgerId } = await openLedger(connection, { deposit: params.deposit, asset: params.asset });
  out.note(`paying through hub ${connection.info.hub}: ledger ${ledgerId}`);
  return { connection, ledgerId };
}

/**
 * The seeder's ledger with the hub: an open one whose hub side can still guarantee something, or a new one with
 * `capacity` (default: the most the hub gives) deposited by the hub. Prints which.
 */
export async function seederLedger(
  connection: HubConnection,
  params: { capacity?: bigint; unit: AmountUnit; asset: string },
  out: Output,
): Promise<HubAccount> {
  const capacity =
    params.capacity ?? connection.info.capacities[getAddress(params.asset)] ?? connection.info.maxCapacity;
  for (const record of await openLedgers(connection, "capacity", params.asset)) {
    const latest = await connection.context.store.getSupportedState(record.id);
    if (latest === undefined) continue;
    const { hub, guarantees } = ledgerBalances(latest.variablePart.outcome);
    const locked = [...guarantees.values()].reduce((a, b) => a + b, 0n);
    // What we earned drained the hub's side: it is topped up to `capacity` again (the hub's transaction).
    if (hub < capacity / 2n && hub + locked < capacity) {
      out.note(
        `asking hub ${connection.info.hub} for ${formatAmount(capacity - hub - locked, params.unit)} more capacity`,
      );
      try {
        await connection.requestCapacity(record.id, capacity - hub - locked);
      } catch (error) {
        out.note(`warning: no more capacity from the hub: ${explainError(error).message}`);
        if (hub === 0n) continue;
      }
    }
    out.note(`paid through hub ${connection.info.hub} too: ledger ${record.id}`);
    return { connection, ledgerId: record.id };
  }
  const { ledgerId } = await openLedger(connection, { capacity, asset: params.asset });
  out.note(
    `paid through hub ${connection.info.hub} too: ledger ${ledgerId}, ${formatAmount(capacity, params.unit)} of capacity from the hub`,
  );
  return { connection, ledgerId };
}

async function openLedger(connection: HubConnection, params: { deposit?: bigint; capacity?: bigint; asset: string }) {
  try {
    return await connection.openLedger(params);
  } catch (error) {
    const { message, hint } = explainError(error);
    const code = error instanceof PiecepayError ? ` (${error.code})` : "";
    throw new CliError(`could not open a ledger with hub ${connection.info.hub}${code}: ${message}`, hint);
  }
}
