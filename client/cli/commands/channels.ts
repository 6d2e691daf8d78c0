// `piecepay channels`: every channel in the data dir's stores (one per account), with what the store knows (role, phase, deposit,
// vouchers; for a hub's ledger and virtual channels, their balances: client/cli/hub-channels.ts) and, when --rpc is
// given and answers, what the chain holds.
import path from "node:path";
import { formatEther, formatUnits, type JsonRpcProvider, VoidSigner, ZeroAddress } from "ethers";
import {
  type AssetInfo,
  type ChannelRecord,
  describeAsset,
  type OnChainChannel,
  PiecepayClient,
  SqliteChannelStore,
} from "../../../sdk/node.js";
import type { Command } from "../command.js";
import { connect } from "../context.js";
import { explainError } from "../errors.js";
import { type LedgerRow, ledgerRow, type VirtualRow, virtualRow } from "../hub-channels.js";
import { assetName, short } from "../output.js";
import { storeFiles } from "../stores.js";

/** One direct channel as `channels --json` prints it (amounts in wei of `asset`, as decimal strings). */
export interface ChannelRow {
  kind: "direct";
  id: string;
  chainId: bigint;
  adjudicator: string;
  /** Our address in the channel. */
  account: string;
  /** The counterparty's address. */
  peer: string;
  /** The counterparty's label (a peer id, an address:port), when the store has one. */
  peerLabel?: string;
  role: "payer" | "payee";
  phase: ChannelRecord["phase"];
  asset: string;
  deposited: bigint;
  /** The largest voucher we signed (payer) or received (payee): a promise, not a payment. */
  vouchers: bigint;
  /** With --rpc, from the chain's payout events: what the channel paid the payee (payer's row). */
  paid?: bigint;
  /** With --rpc, from the chain's payout events: what the channel paid us (payee's row). */
  earned?: bigint;
  /** With --rpc: the chain's view, or why it could not be read. */
  onChain?: (OnChainChannel & { status: string; paidToUs: bigint; paidToPeer: bigint }) | { error: string };
}

export const channels: Command = {
  name: "channels",
  summary: "list our channels (direct, hub ledgers, virtual), with on-chain holdings when --rpc is given",
  usage: "channels [--rpc URL]",
  description: [
    "Lists every channel in the data dir (one store per account: <data-dir>/channels/<address>.db): its id, the",
    "counterparty, our account (a column when there are several), our role (payer or payee), its phase, the asset,",
    "the deposit, and the largest voucher signed (payer) or received (payee). With --rpc, also the chain's view of",
    "each channel on that chain: what it paid out (paid by us, earned by us: from the adjudicator's payout events,",
    "never from a voucher), its holdings and status (open, challenged until a time, finalized); the store's phase is",
    "brought in line with the chain (a channel the other side enforced, or one whose close a re-org removed). Needs",
    "no key.",
    "",
    "Channels through a hub are listed in two more tables, from the store: each ledger channel with a hub (the hub,",
    "our free balance and the hub's in the latest state both signed, what is locked in guarantees for virtual",
    "channels, the phase; with --rpc also the chain's view, as above), and each virtual channel (our role, payer or",
    "payee, the hub, the counterparty, the amount x it holds, the hub's fee in basis points, the largest voucher we",
    "sent or received, the phase). A virtual channel holds no funds of its own: its ledgers guarantee it.",
    "",
    'With --json, one object per channel and line (no line when there is none), each with a "kind": "direct",',
    '"ledger" or "virtual".',
  ].join("\n"),
  options: {},
  optionHelp: [],
  examples: [
    "piecepay channels",
    "piecepay channels --rpc http://127.0.0.1:8545",
    "piecepay channels --json | jq .id",
    "piecepay channels --json | jq 'select(.kind == \"ledger\") | .ourBalance'",
  ],

  async run({ globals, out }) {
    const files = storeFiles(globals.dataDir);
    if (files.length === 0) {
      out.line(`no channels (no store in ${path.join(globals.dataDir, "channels")})`);
      return;
    }
    const stores = files.map((file) => new SqliteChannelStore(file));
    let chain: { provider: JsonRpcProvider; chainId: bigint } | undefined;
    try {
      if (globals.rpc !== undefined) {
        try {
          chain = await connect(globals.rpc, (line) => out.note(line));
        } catch (error) {
          out.note(`warning: ${(error as Error).message}; listing without the chain's view`);
        }
      }
      const all: (ChannelRow | LedgerRow | VirtualRow)[] = [];
      for (const store of stores) all.push(...(await listChannels(store, chain)));
      for (const row of all) out.result({ ...row });
      if (all.length === 0) {
        out.line(`no channels in ${files.join(", ")}`);
        return;
      }
      const rows = all.filter((row): row is ChannelRow => row.kind === "direct");
      const ledgers = all.filter((row): row is LedgerRow => row.kind === "ledger");
      const virtuals = all.filter((row): row is VirtualRow => row.kind === "virtual");
      const withChain = chain !== undefined;
      // A token's amounts in its own decimals and symbol when the chain can say them; else its smallest unit.
      const units = chain === undefined ? new Map<string, AssetInfo>() : await tokenUnits(chain.provider, all);
      const amount = (value: bigint, asset: string) => formatIn(value, asset, units);
      // Several accounts keep their channels in one data dir: then say whose each one is.
      const manyAccounts = new Set(all.map((row) => row.account)).size > 1;
      if (rows.length > 0) {
        out.table(
          [
            "CHANNEL",
            ...(manyAccounts ? ["ACCOUNT"] : []),
            "PEER",
            "ROLE",
            "PHASE",
            "ASSET",
            "DEPOSITED",
            "VOUCHERS",
            ...(withChain ? ["PAID/EARNED ON CHAIN", "HELD", "ON CHAIN"] : []),
          ],
          rows.map((row) => [
            short(row.id),
            ...(manyAccounts ? [short(row.account)] : []),
            row.peerLabel ? `${short(row.peer)} (${row.peerLabel})` : short(row.peer),
            row.role,
            row.phase,
            units.get(row.asset.toLowerCase())?.symbol ?? assetName(row.asset),
            amount(row.deposited, row.asset),
            `${row.role === "payer" ? "signed" : "received"} ${amount(row.vouchers, row.asset)}`,
            ...(withChain ? chainCells(row, amount) : []),
          ]),
        );
      }
      const symbol = (asset: string) => units.get(asset.toLowerCase())?.symbol ?? assetName(asset);
      const maybe = (value: bigint | undefined, asset: string) => (value === undefined ? "-" : amount(value, asset));
      if (ledgers.length > 0) {
        if (rows.length > 0) out.line();
        out.line("Ledger channels with a hub:");
        out.table(
          [
            "LEDGER",
            ...(manyAccounts ? ["ACCOUNT"] : []),
            "HUB",
            "PHASE",
            "ASSET",
            "OURS",
            "HUB'S",
            "LOCKED",
            ...(withChain ? ["PAID TO US ON CHAIN", "HELD", "ON CHAIN"] : []),
          ],
          ledgers.map((row) => [
            short(row.id),
            ...(manyAccounts ? [short(row.account)] : []),
            short(row.hub),
            row.phase,
            symbol(row.asset),
            maybe(row.ourBalance, row.asset),
            maybe(row.hubBalance, row.asset),
            row.locked === undefined ? "-" : `${amount(row.locked, row.asset)} in ${row.guarantees ?? 0}`,
            ...(withChain ? ledgerChainCells(row, amount) : []),
          ]),
        );
      }
      if (virtuals.length > 0) {
        if (rows.length + ledgers.length > 0) out.line();
        out.line("Virtual channels through a hub (no funds of their own: their ledgers guarantee them):");
        out.table(
          [
            "VIRTUAL",
            ...(manyAccounts ? ["ACCOUNT"] : []),
            "ROLE",
            "HUB",
            "PEER",
            "PHASE",
            "ASSET",
            "AMOUNT",
            "FEE",
            "VOUCHERS",
          ],
          virtuals.map((row) => [
            short(row.id),
            ...(manyAccounts ? [short(row.account)] : []),
            row.role,
            short(row.hub),
            short(row.peer),
            row.phase,
            symbol(row.asset),
            amount(row.amount, row.asset),
            `${row.feeBps} bps`,
            `${row.role === "payer" ? "signed" : "received"} ${amount(row.vouchers, row.asset)}`,
          ]),
        );
      }
    } finally {
      for (const store of stores) await store.close();
      chain?.provider.destroy();
    }
  },
};

/** The store's channels, each with the chain's view when `chain` is the chain it lives on. */
async function listChannels(
  store: SqliteChannelStore,
  chain: { provider: JsonRpcProvider; chainId: bigint } | undefined,
): Promise<(ChannelRow | LedgerRow | VirtualRow)[]> {
  const clients = new Map<string, Promise<PiecepayClient>>();
  // A read-only client for the channel's own deployment: no key needed to read.
  const clientFor = (record: ChannelRecord, account: string, provider: JsonRpcProvider, chainId: bigint) => {
    const key = `${record.adjudicator}/${record.fixedPart.appDefinition}/${account}`;
    if (!clients.has(key)) {
      clients.set(
        key,
        PiecepayClient.create({
          signer: new VoidSigner(account, provider),
          chainId,
          adjudicator: record.adjudicator,
          voucherApp: record.fixedPart.appDefinition,
          store,
        }),
      );
    }
    return clients.get(key) as Promise<PiecepayClient>;
  };
  const rows: (ChannelRow | LedgerRow | VirtualRow)[] = [];
  for (const record of await store.listChannels()) {
    if (record.virtual !== undefined) {
      rows.push(await virtualRow(store, record));
      continue;
    }
    if (record.ledger !== undefined) {
      const row = await ledgerRow(store, record);
      if (chain !== undefined) row.onChain = await ledgerOnChain(record, chain, clientFor);
      rows.push(row);
      continue;
    }
    const role = record.myIndex === 0 ? "payer" : "payee";
    const account = record.fixedPart.participants[record.myIndex];
    const row: ChannelRow = {
      kind: "direct",
      id: record.id,
      chainId: record.chainId,
      adjudicator: record.adjudicator,
      account,
      peer: record.fixedPart.participants[1 - record.myIndex],
      ...(record.peer === undefined ? {} : { peerLabel: record.peer }),
      role,
      phase: record.phase,
      asset: record.asset,
      deposited: record.deposited,
      vouchers: (await store.getVoucher(role === "payer" ? "sent" : "received", record.id))?.amount ?? 0n,
    };
    if (chain !== undefined) {
      if (record.chainId !== chain.chainId) {
        row.onChain = { error: `the channel is on chain ${record.chainId}, the RPC on chain ${chain.chainId}` };
      } else {
        try {
          const client = await clientFor(record, account, chain.provider, chain.chainId);
          row.phase = await client.syncPhase(record.id);
          const onChain = await client.onChain(record.id);
          const { toUs, toPeer, txHashes } = await client.settlement(record.id);
          const status = statusText(onChain, txHashes.length > 0);
          row.onChain = { ...onChain, status, paidToUs: toUs, paidToPeer: toPeer };
          if (role === "payer") row.paid = toPeer;
          else row.earned = toUs;
        } catch (error) {
          row.onChain = { error: explainError(error).message };
        }
      }
    }
    rows.push(row);
  }
  return rows;
}

/**
 * A ledger's view on chain: its holdings, status and what its payouts sent us and the hub (PaidOut events). The
 * store's phase is left as it is: `withdraw` moves it, and a ledger's exit goes through its virtual channels too.
 */
async function ledgerOnChain(
  record: ChannelRecord,
  chain: { provider: JsonRpcProvider; chainId: bigint },
  clientFor: (
    record: ChannelRecord,
    account: string,
    provider: JsonRpcProvider,
    chainId: bigint,
  ) => Promise<PiecepayClient>,
): Promise<LedgerRow["onChain"]> {
  if (record.chainId !== chain.chainId) {
    return { error: `the ledger is on chain ${record.chainId}, the RPC on chain ${chain.chainId}` };
  }
  try {
    const account = record.fixedPart.participants[record.myIndex];
    const client = await clientFor(record, account, chain.provider, chain.chainId);
    const onChain = await client.onChain(record.id);
    const { toUs, toPeer, txHashes } = await client.settlement(record.id);
    return { ...onChain, status: statusText(onChain, txHashes.length > 0), paidToUs: toUs, paidToPeer: toPeer };
  } catch (error) {
    return { error: explainError(error).message };
  }
}

function ledgerChainCells(row: LedgerRow, amount: (value: bigint, asset: string) => string): string[] {
  if (row.onChain === undefined) return ["-", "-", "-"];
  if ("error" in row.onChain) return ["-", "-", row.onChain.error];
  return [amount(row.onChain.paidToUs, row.asset), amount(row.onChain.holdings, row.asset), row.onChain.status];
}

/** The channel's status on chain; "paid out" only when a payout event says something was paid. */
function statusText(onChain: OnChainChannel, paidOut: boolean): string {
  if (onChain.challenged) return `challenged until ${new Date(Number(onChain.finalizesAt) * 1000).toISOString()}`;
  if (onChain.finalized) {
    if (onChain.holdings !== 0n) return "finalized, not paid out";
    return paidOut ? "finalized, paid out" : "finalized, nothing paid out (nothing was held)";
  }
  return "open";
}

function chainCells(row: ChannelRow, amount: (value: bigint, asset: string) => string): string[] {
  if (row.onChain === undefined) return ["-", "-", "-"];
  if ("error" in row.onChain) return ["-", "-", row.onChain.error];
  const settled =
    row.role === "payer"
      ? `paid ${amount(row.paid ?? 0n, row.asset)}`
      : `earned ${amount(row.earned ?? 0n, row.asset)}`;
  return [settled, amount(row.onChain.holdings, row.asset), row.onChain.status];
}

/** Ether for ETH (the ASSET column names it); a token in its decimals when `units` knows it, else its smallest unit. */
function formatIn(value: bigint, asset: string, units: Map<string, AssetInfo>): string {
  if (asset.toLowerCase() === ZeroAddress) return formatEther(value);
  const unit = units.get(asset.toLowerCase());
  return unit === undefined ? value.toString() : formatUnits(value, unit.decimals);
}

/** The decimals and symbol of every token among `rows`, read from the chain; a token that does not answer is left out. */
async function tokenUnits(provider: JsonRpcProvider, rows: { asset: string }[]): Promise<Map<string, AssetInfo>> {
  const units = new Map<string, AssetInfo>();
  for (const asset of new Set(rows.map((row) => row.asset.toLowerCase()))) {
    if (asset === ZeroAddress) continue;
    try {
      units.set(asset, await describeAsset(provider, asset));
    } catch {
      // not a token we can describe: its amounts stay in its smallest unit
    }
  }
  return units;
}
