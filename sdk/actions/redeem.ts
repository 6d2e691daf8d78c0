import type { TransactionReceipt } from "ethers";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { type ChallengeErrorType, challenge } from "./challenge.js";
import { type DefendErrorType, defendInLock } from "./defend.js";
import { channelOf, sleep } from "./internal/channels.js";
import { onChain } from "./on-chain.js";
import { type PayoutErrorType, payout } from "./payout.js";

export interface RedeemParameters {
  channelId: string;
  /** Waits until the chain's clock passes `finalizesAt` (default: a poll every polling interval); a test moves time. */
  waitFor?: (finalizesAt: bigint) => Promise<void>;
}
export type RedeemReturnType = TransactionReceipt;
export type RedeemErrorType = PiecepayError<"NOTHING_HELD"> | ChallengeErrorType | DefendErrorType | PayoutErrorType;

/**
 * The payee alone enforces its largest voucher: challenge with it, keep defending it (a later voucher is
 * registered in its place) until it finalizes, one challenge duration after the first challenge, and pay out.
 * Each step checks the chain as it starts: the wait between them may be long.
 * @throws PiecepayError NOTHING_HELD (the channel holds nothing on chain); ContractRevertError
 * @example await redeem(context, { channelId })
 */
export async function redeem(context: PiecepayContext, params: RedeemParameters): Promise<RedeemReturnType> {
  const record = await channelOf(context, params.channelId);
  // Each step holds the channel's lock, so that our own watcher, defending the same channel, never acts on a
  // registration that this step is replacing (it used to log FingerprintMismatch against our own challenge).
  await context.locks.exclusive(record.id, async () => {
    const status = await onChain(context, { channelId: record.id });
    if (status.challenged) return defendInLock(context, record.id);
    // A channel holding nothing (its deposit left the chain in a re-org, or never came): a challenge would cost
    // gas and pay nothing.
    if (!status.finalized && status.holdings === 0n) {
      throw new PiecepayError("NOTHING_HELD", `channel ${record.id} holds nothing on chain: nothing to enforce`);
    }
    if (!status.finalized) await challenge(context, { channelId: record.id });
  });
  for (;;) {
    const finalizesAt = await context.locks.exclusive(record.id, async () => {
      const status = await onChain(context, { channelId: record.id });
      if (status.finalized) return undefined;
      // Under ADR 0005 a challenged channel never reopens; should one be open anyway, register again.
      if (!status.challenged) await challenge(context, { channelId: record.id });
      else await defendInLock(context, record.id);
      return (await onChain(context, { channelId: record.id })).finalizesAt;
    });
    if (finalizesAt === undefined) break;
    if (params.waitFor) await params.waitFor(finalizesAt);
    else await sleep(context.timing.pollingIntervalMs);
  }
  return payout(context, { channelId: record.id });
}
