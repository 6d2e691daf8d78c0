import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import type { ChannelRecord } from "../store/types.js";
import { channelOf, PAYER, sleep } from "./internal/channels.js";
import type { ChannelErrorType } from "./types.js";

export interface FollowDepositParameters {
  channelId: string;
  /** Stops following (FUNDING_ABORTED). */
  signal?: AbortSignal;
}
export type FollowDepositReturnType = "final" | "disputed";
export type FollowDepositErrorType = PiecepayError<"DEPOSIT_REMOVED" | "FUNDING_ABORTED"> | ChannelErrorType;

/**
 * Follows a funded channel's deposit until it has the context's confirmations: resolves "final" then, or
 * "disputed" when the channel is challenged or concluded first (the watcher's to handle). Rejects with
 * DEPOSIT_REMOVED as soon as the newest block holds less than the deposit: a re-org took the deposit off the chain
 * (no payout can leave an open channel). Looks once per polling interval: two reads, for a bounded number of
 * blocks; a failed look (the RPC gone, another chain) is tried again at the next.
 * @throws PiecepayError DEPOSIT_REMOVED, FUNDING_ABORTED, UNKNOWN_CHANNEL
 * @example if ((await followDeposit(context, { channelId, signal })) === "final") serveWithoutBound()
 */
export async function followDeposit(
  context: PiecepayContext,
  params: FollowDepositParameters,
): Promise<FollowDepositReturnType> {
  const { channelId: id, signal } = params;
  const record = await channelOf(context, id);
  const wanted =
    (await context.store.getSupportedState(record.id))?.variablePart.outcome[0].allocations[PAYER].amount ?? 0n;
  for (;;) {
    if (signal?.aborted) throw new PiecepayError("FUNDING_ABORTED", `stopped following channel ${id}`);
    try {
      // Each look checks the chain: one call, but as many looks as the deposit takes to bury.
      await context.chain.assert();
      const head = await context.provider().getBlockNumber();
      const [latest, confirmed] = await Promise.all([
        openHoldings(context, record, "latest"),
        openHoldings(context, record, Math.max(0, head - context.confirmations + 1)),
      ]);
      if (latest === undefined) return "disputed";
      if (latest < wanted) {
        context.log("deposit-removed", { channelId: record.id, held: latest, wanted });
        throw new PiecepayError(
          "DEPOSIT_REMOVED",
          `channel ${record.id} holds ${latest} of the ${wanted} deposited: the deposit left the chain (a re-org)`,
        );
      }
      if (confirmed !== undefined && confirmed >= wanted) return "final";
    } catch (error) {
      if (error instanceof PiecepayError && error.code !== "RPC_UNAVAILABLE") throw error;
      context.log("deposit-follow-failed", { channelId: record.id, error: String(error) }); // next look tries again
    }
    await sleep(context.timing.pollingIntervalMs);
  }
}

/** An open channel's holdings as of `blockTag`, or undefined once it is challenged or concluded. */
async function openHoldings(
  context: PiecepayContext,
  record: ChannelRecord,
  blockTag: number | "latest",
): Promise<bigint | undefined> {
  const [, finalizesAt] = await context.adjudicator.statusOf(record.id, { blockTag });
  if (finalizesAt !== 0n) return undefined;
  return context.adjudicator.holdings(record.asset, record.id, { blockTag });
}
