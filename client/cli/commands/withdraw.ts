// `piecepay withdraw`: pays out our finalized channels; with --force, first registers our best state on chain
// (the payee's largest voucher, the payer's latest state both signed), defends it until it finalizes, then pays out.
// Ledger channels with a hub go through client/cli/ledger-withdraw.ts (closed with the hub, or exited on chain).
import { type JsonRpcProvider, type Wallet, ZeroAddress } from "ethers";
import {
  type AssetInfo,
  type ChannelRecord,
  describeAsset,
  PiecepayClient,
  type SqliteChannelStore,
} from "../../../sdk/node.js";
import { CliError, type Command } from "../command.js";
import { connect, loadSigner, openStore, rpcUrl } from "../context.js";
import { explainError } from "../errors.js";
import { HubLink, withdrawLedger } from "../ledger-withdraw.js";
import { formatAmount, type Output, short } from "../output.js";
import type { WithdrawResult } from "../withdraw-result.js";

export type { WithdrawResult };

export const withdraw: Command = {
  name: "withdraw",
  summary: "pay out our finalized channels; --force challenges open ones first and waits; --hub closes hub ledgers",
  usage: "withdraw [--channel ID] [--force] [--hub URL] (--keystore PATH | --key HEX) [--rpc URL]",
  description: [
    "For each of our channels in <data-dir>/channels/<address>.db on the chain at --rpc (or only --channel ID, a full id",
    "or an unambiguous prefix): answers a standing challenge when we hold a better state, and pays out a",
    "finalized channel to both sides (one transaction; anyone may send it). It prints what each payout sent us,",
    "read from the payout's events on chain (a payout that finds nothing held prints 0).",
    "",
    "--force is for a counterparty that is gone or hostile: on a channel still open it registers our best state (a",
    "payee its largest voucher, a payer the latest state both signed), keeps it defended until it finalizes, then",
    "pays out. A dispute has one deadline, set by its first challenge: nothing the other side sends moves it, so",
    "this takes at most the channel's challenge duration (minutes with the SDK's defaults).",
    "A cooperative close is cheaper and instant: use it when the counterparty is online.",
    "",
    "A deposit we sent and never saw confirmed (the process was killed, the RPC went away, or the download",
    "finished first) is found on chain: the channel is recorded as open, and --force pays it back (the funding",
    "state both signed is our best state).",
    "",
    "Ledger channels with a hub (ADR 0021): --hub URL closes each with the hub: it signs the final state, we",
    "conclude it on chain (one transaction) and both sides are paid. The hub refuses while the ledger still",
    "guarantees a virtual channel: close or settle those through the hub first, or exit with --force. --force",
    "exits a ledger without the hub (vanished, stalling or lying): it registers the latest ledger state both signed",
    "and our best state of every virtual channel the ledger guarantees (a payee its largest voucher), all at once,",
    "so that everything finalizes one challenge duration later; then it reclaims each guarantee and pays the ledger",
    "out. With --hub and --force, the hub is tried first. A ledger the chain already finalized (the hub challenged",
    "it) is exited without --force. Virtual channels hold no funds of their own and are not withdrawn alone: their",
    "ledger's exit covers them. Each paid-out line says what the ledger's payout events sent us and the hub.",
  ].join("\n"),
  options: {
    channel: { type: "string" },
    force: { type: "boolean" },
    hub: { type: "string" },
  },
  optionHelp: [
    ["--channel ID", "only this channel (its id or a unique prefix)"],
    ["--force", "challenge open channels (a hub ledger with its virtual channels), wait until final, then pay out"],
    ["--hub URL", "close our ledger channels with this hub (ws://HOST:PORT): one transaction each"],
  ],
  examples: [
    "PIECEPAY_PASSWORD=... piecepay withdraw --keystore key.json",
    "piecepay withdraw --keystore key.json --channel 0x3f2a --force",
    "piecepay withdraw --keystore key.json --hub ws://127.0.0.1:8600",
    "piecepay withdraw --keystore key.json --channel 0x9c1e --force   # a ledger whose hub is gone",
    "piecepay withdraw --keystore key.json --rpc https://sepolia.example --json",
  ],

  async run({ globals, values, out, signal }) {
    const wallet = await loadSigner(globals); // before any traffic: a wrong password fails first
    const { provider, chainId } = await connect(rpcUrl(globals), (line) => out.note(line));
    const store = await openStore(globals, wallet.address);
    try {
      const mine = (await store.listChannels()).filter(
        (r) => r.chainId === chainId && r.fixedPart.participants[r.myIndex] === wallet.address,
      );
      const selected = select(mine, values.channel as string | undefined);
      if (selected.length === 0) {
        out.line(`no channels of ${wallet.address} on chain ${chainId} in ${store.path}`);
        return;
      }
      const clients = new Map<string, Promise<PiecepayClient>>();
      // A token's amounts in its decimals and symbol, read once per token (ETH needs no look).
      const units = new Map<string, Promise<AssetInfo | string>>();
      const unitOf = (asset: string) => {
        if (!units.has(asset)) {
          // ETH keeps formatAmount's own ETH format; a token that does not answer is named by its address.
          const isEth = asset.toLowerCase() === ZeroAddress;
          units.set(asset, isEth ? Promise.resolve(asset) : describeAsset(provider, asset).catch(() => asset));
        }
        return units.get(asset) as Promise<AssetInfo | string>;
      };
      const hub = typeof values.hub === "string" ? new HubLink(values.hub) : undefined;
      let failed = 0;
      for (const record of selected) {
        if (signal.aborted) break;
        const key = `${record.adjudicator}/${record.fixedPart.appDefinition}`;
        if (!clients.has(key) && record.virtual === undefined)
          clients.set(key, clientFor(wallet, provider, chainId, record, store, globals.confirmations));
        let result: WithdrawResult;
        try {
          const unit = await unitOf(record.asset);
          const force = values.force === true;
          if (record.virtual !== undefined) result = covered(record);
          else {
            const client = await (clients.get(key) as Promise<PiecepayClient>);
            result =
              record.ledger !== undefined
                ? await withdrawLedger(client, record, { force, hub, provider, out, signal, unit })
                : await settle(client, record, { force, provider, out, signal, unit });
          }
        } catch (error) {
          result = { ...base(record), action: "failed", error: explainError(error).message };
        }
        if (result.action === "failed") failed++;
        out.result({ ...result }, describe(result, await unitOf(record.asset)));
      }
      hub?.close();
      if (signal.aborted) {
        throw new CliError("interrupted", "a challenge we sent stays registered: run `piecepay withdraw` again later", {
          exitCode: 130,
        });
      }
      if (failed > 0)
        throw new CliError(`${failed} channel(s) failed`, "see the lines above; PIECEPAY_DEBUG=1 for more");
    } finally {
      await store.close();
      provider.destroy();
    }
  },
};

function select(records: ChannelRecord[], wanted: string | undefined): ChannelRecord[] {
  if (wanted === undefined) return records;
  const prefix = wanted.toLowerCase();
  const matches = records.filter((r) => r.id.startsWith(prefix));
  if (matches.length === 0) {
    throw new CliError(`no channel of ours starts with ${wanted} on this chain`, "`piecepay channels` lists them");
  }
  if (matches.length > 1) {
    throw new CliError(`${matches.length} channels start with ${wanted}`, "give more of the id");
  }
  return matches;
}

function clientFor(
  wallet: Wallet,
  provider: JsonRpcProvider,
  chainId: bigint,
  record: ChannelRecord,
  store: SqliteChannelStore,
  confirmations: number | undefined,
): Promise<PiecepayClient> {
  return PiecepayClient.create({
    signer: wallet.connect(provider),
    chainId,
    adjudicator: record.adjudicator,
    voucherApp: record.fixedPart.appDefinition,
    store,
    pollingIntervalMs: 2_000,
    ...(confirmations === undefined ? {} : { confirmations }),
  });
}

function base(record: ChannelRecord): Pick<WithdrawResult, "id" | "kind" | "role" | "asset"> {
  if (record.ledger !== undefined) return { id: record.id, kind: "ledger", role: "user", asset: record.asset };
  const role = record.myIndex === 0 ? "payer" : "payee";
  if (record.virtual !== undefined) return { id: record.id, kind: "virtual", role, asset: record.asset };
  return { id: record.id, role, asset: record.asset };
}

/** A virtual channel holds nothing on chain: its ledger's exit registers and reclaims it. */
function covered(record: ChannelRecord): WithdrawResult {
  const info = record.virtual as NonNullable<ChannelRecord["virtual"]>;
  const side = record.myIndex === 0 ? "payer" : "payee";
  const ledger = side === "payer" ? info.payerLedger : info.payeeLedger;
  const done = info.settled[side] || record.phase === "finalized" || record.phase === "withdrawn";
  return { ...base(record), action: done ? "nothing" : "covered", ledger };
}

/** Does what `withdraw` does for one channel. */
async function settle(
  client: PiecepayClient,
  record: ChannelRecord,
  options: { force: boolean; provider: JsonRpcProvider; out: Output; signal: AbortSignal; unit: AssetInfo | string },
): Promise<WithdrawResult> {
  const id = record.id;
  if (record.phase === "proposed" || record.phase === "funding") {
    // A deposit we may have sent without seeing it confirmed (the process killed, the RPC gone, the download done
    // first): the chain says whether it is there. A payee's unfunded proposal holds nothing of ours.
    const recovered = record.myIndex === 0 ? await client.recoverFunding(id) : undefined;
    if (!recovered) return { ...base(record), action: "nothing" };
    options.out.note(
      `${short(id)}: our deposit of ${formatAmount(recovered.deposited, options.unit)} is on chain (the store had not seen it confirmed)`,
    );
  }
  let onChain = await client.onChain(id);
  if (options.force && !onChain.finalized) {
    let noted = 0n;
    // Said as soon as the chain has the challenge, even if its deadline passed by the time we look again.
    const noteDeadline = (finalizesAt: bigint) => {
      if (finalizesAt === 0n || finalizesAt === noted) return;
      noted = finalizesAt;
      const at = new Date(Number(noted) * 1000).toISOString();
      options.out.note(`${short(id)}: challenge registered, finalizes at ${at}; waiting (Ctrl-C to stop waiting)`);
    };
    if (!onChain.challenged) {
      await client.challenge(id);
      noteDeadline((await client.onChain(id)).finalizesAt);
    } else await client.defend(id);
    for (;;) {
      onChain = await client.onChain(id);
      if (onChain.finalized || options.signal.aborted) break;
      if (!onChain.challenged) {
        await client.challenge(id); // a challenged channel never reopens (ADR 0005); if one did, register again
        continue;
      }
      noteDeadline(onChain.finalizesAt);
      // The channel may finalize between our look and this step, which then pays it out: report that payout.
      if ((await client.defend(id)) === "paid-out") {
        const paid = await client.settlement(id);
        return { ...base(record), action: "paid-out", paidToUs: paid.toUs, paidToPeer: paid.toPeer };
      }
      await waitFor(onChain.finalizesAt, options.provider, options.signal);
    }
  }
  if (onChain.challenged) {
    const answered = await client.defend(id);
    return { ...base(record), action: answered ? "answered" : "waiting", finalizesAt: onChain.finalizesAt };
  }
  if (!onChain.finalized) return { ...base(record), action: "open" };
  if (onChain.holdings === 0n) {
    await client.defend(id); // records that it is withdrawn
    return { ...base(record), action: "nothing" };
  }
  // What the payout sent each side: the outcome still owed before it, less what the chain still owes after it (the
  // payout pays our allocation alone when the other side refuses its part).
  const { owed } = await client.registration(id);
  if (owed.length === 0) {
    await client.defend(id); // records that it is withdrawn
    return { ...base(record), action: "nothing" };
  }
  // What the payout sent each side, from the chain's payout events: the events of its own transaction.
  const receipt = await client.payout(id);
  const paid = await client.settlementIn(id, receipt);
  return { ...base(record), action: "paid-out", paidToUs: paid.toUs, paidToPeer: paid.toPeer };
}

/**
 * Sleeps until the chain's clock (its latest block's timestamp) reaches `finalizesAt`, looking again at least every
 * 5 s: the adjudicator judges by block time, which may differ from ours. A chain that mines on an interval, like a
 * testnet or `piecepay chain`, gets there on its own. A node that mines only on demand (`npm run node`, anvil without
 * --block-time) has no block past `finalizesAt` until some transaction comes: when our clock is 3 s past it and the
 * chain still has no such block, we ask for an empty one (evm_mine; a real chain refuses it, harmlessly).
 */
async function waitFor(finalizesAt: bigint, provider: JsonRpcProvider, signal: AbortSignal): Promise<void> {
  const chainNow = BigInt((await provider.getBlock("latest"))?.timestamp ?? 0);
  if (chainNow >= finalizesAt) return;
  await sleep(Math.min(Math.max(Number(finalizesAt - chainNow) * 1000, 250), 5_000), signal);
  const head = BigInt((await provider.getBlock("latest"))?.timestamp ?? 0);
  if (head < finalizesAt && Date.now() >= Number(finalizesAt) * 1000 + 3_000) {
    await provider.send("evm_mine", []).catch(() => undefined);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One line for people; amounts in `unit` (a token's decimals and symbol), or by the asset's address. */
function describe(result: WithdrawResult, unit: AssetInfo | string = result.asset): string {
  const head = `${short(result.id)}  ${result.kind === "ledger" ? "ledger" : result.role}  `;
  switch (result.action) {
    case "paid-out": {
      const peer = result.kind === "ledger" ? "the hub" : "the peer";
      const how =
        result.via === "hub"
          ? " (closed with the hub)"
          : result.via === "exit"
            ? ` (exited on chain: ${result.transactions ?? 0} transaction(s))`
            : "";
      return `${head}paid out: ${formatAmount(result.paidToUs ?? 0n, unit)} to us, ${formatAmount(result.paidToPeer ?? 0n, unit)} to ${peer}${how}`;
    }
    case "covered":
      return `${head}virtual channel: no funds of its own; \`withdraw --force --channel ${short(result.ledger ?? "")}\` on its ledger covers it`;
    case "answered":
      return `${head}answered a challenge with our better state; run withdraw again once it finalizes`;
    case "waiting": {
      const at = Number(result.finalizesAt ?? 0n) * 1000;
      // Finalized is the chain's judgement, by its latest block's time: on a chain that mines only on demand, that
      // can lag behind ours.
      const lag =
        Date.now() >= at
          ? " (that time has passed here, but the chain has no block since: it finalizes with the chain's next block)"
          : "";
      return `${head}challenged until ${new Date(at).toISOString()}; run withdraw again after that${lag}`;
    }
    case "open":
      return result.kind === "ledger"
        ? `${head}open: close it with the hub (\`piecepay withdraw --hub URL\`), or exit on chain (\`piecepay withdraw --force\`)`
        : `${head}open: nothing to pay out (close it with the peer, or \`piecepay withdraw --force\`)`;
    case "nothing":
      return `${head}nothing to pay out`;
    case "failed":
      return `${head}failed: ${result.error}`;
  }
}
