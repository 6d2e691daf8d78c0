// `piecepay withdraw`: pays out our finalized channels; with --force, first registers our best state on chain
// (the payee's largest voucher, the payer's latest state both signed), defends it until it finalizes, then pays out.
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
import { formatAmount, type Output, short } from "../output.js";

/** What `withdraw` did for one channel (one --json line). */
export interface WithdrawResult {
  id: string;
  role: "payer" | "payee";
  /** paid-out, answered (a challenge), waiting (a challenge runs), open, nothing (already paid out), failed. */
  action: "paid-out" | "answered" | "waiting" | "open" | "nothing" | "failed";
  asset: string;
  /** With paid-out: what the payout sent us, and the counterparty. */
  paidToUs?: bigint;
  paidToPeer?: bigint;
  /** With waiting: when the challenge finalizes (unix seconds). */
  finalizesAt?: bigint;
  error?: string;
}

export const withdraw: Command = {
  name: "withdraw",
  summary: "pay out our finalized channels; --force challenges open ones first and waits",
  usage: "withdraw [--channel ID] [--force] (--keystore PATH | --key HEX) [--rpc URL]",
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
  ].join("\n"),
  options: {
    channel: { type: "string" },
    force: { type: "boolean" },
  },
  optionHelp: [
    ["--channel ID", "only this channel (its id or a unique prefix)"],
    ["--force", "challenge channels that are still open, wait until they finalize, then pay out"],
  ],
  examples: [
    "PIECEPAY_PASSWORD=... piecepay withdraw --keystore key.json",
    "piecepay withdraw --keystore key.json --channel 0x3f2a --force",
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
      let failed = 0;
      for (const record of selected) {
        if (signal.aborted) break;
        const key = `${record.adjudicator}/${record.fixedPart.appDefinition}`;
        if (!clients.has(key))
          clients.set(key, clientFor(wallet, provider, chainId, record, store, globals.confirmations));
        let result: WithdrawResult;
        try {
          const client = await (clients.get(key) as Promise<PiecepayClient>);
          const unit = await unitOf(record.asset);
          result = await settle(client, record, { force: values.force === true, provider, out, signal, unit });
        } catch (error) {
          result = { ...base(record), action: "failed", error: explainError(error).message };
          failed++;
        }
        out.result({ ...result }, describe(result, await unitOf(record.asset)));
      }
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

function base(record: ChannelRecord): Pick<WithdrawResult, "id" | "role" | "asset"> {
  return { id: record.id, role: record.myIndex === 0 ? "payer" : "payee", asset: record.asset };
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
  const head = `${short(result.id)}  ${result.role}  `;
  switch (result.action) {
    case "paid-out":
      return `${head}paid out: ${formatAmount(result.paidToUs ?? 0n, unit)} to us, ${formatAmount(result.paidToPeer ?? 0n, unit)} to the peer`;
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
      return `${head}open: nothing to pay out (close it with the peer, or \`piecepay withdraw --force\`)`;
    case "nothing":
      return `${head}nothing to pay out`;
    case "failed":
      return `${head}failed: ${result.error}`;
  }
}
