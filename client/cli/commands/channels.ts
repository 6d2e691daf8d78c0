// `piecepay channels`: every channel in the data dir's stores (one per account), with what the store knows (role, phase, deposit,
// vouchers) and, when --rpc is given and answers, what the chain holds.
import path from "node:path";
import { formatEther, type JsonRpcProvider, VoidSigner, ZeroAddress } from "ethers";
import { type ChannelRecord, type OnChainChannel, PiecepayClient, SqliteChannelStore } from "../../../sdk/index.js";
import type { Command } from "../command.js";
import { connect } from "../context.js";
import { explainError } from "../errors.js";
import { assetName, short } from "../output.js";
import { storeFiles } from "../stores.js";

/** One channel as `channels --json` prints it (amounts in wei of `asset`, as decimal strings). */
export interface ChannelRow {
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
  /** The largest voucher we signed (payer). */
  paid: bigint;
  /** The largest voucher we received (payee). */
  earned: bigint;
  /** With --rpc: the chain's view, or why it could not be read. */
  onChain?: (OnChainChannel & { status: string }) | { error: string };
}

export const channels: Command = {
  name: "channels",
  summary: "list our channels, with on-chain holdings when --rpc is given",
  usage: "channels [--rpc URL]",
  description: [
    "Lists every channel in the data dir (one store per account: <data-dir>/channels/<address>.db): its id, the",
    "counterparty, our account (a column when there are several), our role (payer or payee), its phase, the asset,",
    "the deposit, and what the vouchers say was paid (payer) or earned (payee). With --rpc,",
    "also the chain's view of each channel on that chain: holdings and status (open, challenged until a time,",
    "finalized). Needs no key. With --json, one object per channel and line (no line when there is none).",
  ].join("\n"),
  options: {},
  optionHelp: [],
  examples: ["piecepay channels", "piecepay channels --rpc http://127.0.0.1:8545", "piecepay channels --json | jq .id"],

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
      const rows: ChannelRow[] = [];
      for (const store of stores) rows.push(...(await listChannels(store, chain)));
      for (const row of rows) out.result({ ...row });
      if (rows.length === 0) {
        out.line(`no channels in ${files.join(", ")}`);
        return;
      }
      const withChain = chain !== undefined;
      // Several accounts keep their channels in one data dir: then say whose each one is.
      const manyAccounts = new Set(rows.map((row) => row.account)).size > 1;
      out.table(
        [
          "CHANNEL",
          ...(manyAccounts ? ["ACCOUNT"] : []),
          "PEER",
          "ROLE",
          "PHASE",
          "ASSET",
          "DEPOSITED",
          "PAID/EARNED",
          ...(withChain ? ["HELD", "ON CHAIN"] : []),
        ],
        rows.map((row) => [
          short(row.id),
          ...(manyAccounts ? [short(row.account)] : []),
          row.peerLabel ? `${short(row.peer)} (${row.peerLabel})` : short(row.peer),
          row.role,
          row.phase,
          assetName(row.asset),
          amount(row.deposited, row.asset),
          `${row.role === "payer" ? "paid" : "earned"} ${amount(row.role === "payer" ? row.paid : row.earned, row.asset)}`,
          ...(withChain ? chainCells(row) : []),
        ]),
      );
    } finally {
      for (const store of stores) store.close();
      chain?.provider.destroy();
    }
  },
};

/** The store's channels, each with the chain's view when `chain` is the chain it lives on. */
async function listChannels(
  store: SqliteChannelStore,
  chain: { provider: JsonRpcProvider; chainId: bigint } | undefined,
): Promise<ChannelRow[]> {
  const clients = new Map<string, Promise<PiecepayClient>>();
  const rows: ChannelRow[] = [];
  for (const record of store.listChannels()) {
    const role = record.myIndex === 0 ? "payer" : "payee";
    const account = record.fixedPart.participants[record.myIndex];
    const row: ChannelRow = {
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
      paid: store.getVoucher("sent", record.id)?.amount ?? 0n,
      earned: store.getVoucher("received", record.id)?.amount ?? 0n,
    };
    if (chain !== undefined) {
      if (record.chainId !== chain.chainId) {
        row.onChain = { error: `the channel is on chain ${record.chainId}, the RPC on chain ${chain.chainId}` };
      } else {
        try {
          // A read-only client for the channel's own deployment: no key needed to read.
          const key = `${record.adjudicator}/${record.fixedPart.appDefinition}/${account}`;
          if (!clients.has(key)) {
            clients.set(
              key,
              PiecepayClient.create({
                signer: new VoidSigner(account, chain.provider),
                chainId: chain.chainId,
                adjudicator: record.adjudicator,
                voucherApp: record.fixedPart.appDefinition,
                store,
              }),
            );
          }
          const client = await (clients.get(key) as Promise<PiecepayClient>);
          const onChain = await client.onChain(record.id);
          row.onChain = { ...onChain, status: statusText(onChain) };
        } catch (error) {
          row.onChain = { error: explainError(error).message };
        }
      }
    }
    rows.push(row);
  }
  return rows;
}

function statusText(onChain: OnChainChannel): string {
  if (onChain.challenged) return `challenged until ${new Date(Number(onChain.finalizesAt) * 1000).toISOString()}`;
  if (onChain.finalized) return onChain.holdings === 0n ? "finalized, paid out" : "finalized, not paid out";
  return "open";
}

function chainCells(row: ChannelRow): string[] {
  if (row.onChain === undefined) return ["-", "-"];
  if ("error" in row.onChain) return ["-", row.onChain.error];
  return [amount(row.onChain.holdings, row.asset), row.onChain.status];
}

/** Ether for ETH (the ASSET column names it), the smallest unit for a token. */
function amount(value: bigint, asset: string): string {
  return asset.toLowerCase() === ZeroAddress ? formatEther(value) : value.toString();
}
