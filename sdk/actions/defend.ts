import type { PiecepayContext } from "../context/types.js";
import { type AnswerErrorType, answer } from "./answer.js";
import { channelOf, owedTo } from "./internal/channels.js";
import { type OnChainErrorType, onChain } from "./on-chain.js";
import { type PayoutErrorType, payoutInLock } from "./payout.js";
import { registration } from "./registration.js";

export interface DefendParameters {
  channelId: string;
  /**
   * Whether to pay out a finalized channel (default true). With false, a finalized channel is only marked so and
   * waits for `payout`: the owner decides when to spend that gas (the web app's "withdraw by themselves" switch).
   */
  payOut?: boolean;
}
export type DefendReturnType = "answered" | "paid-out" | undefined;
export type DefendErrorType = AnswerErrorType | PayoutErrorType | OnChainErrorType;

/**
 * Looks at a channel on chain and does what protects us: answers a standing challenge if we can do better, pays
 * out once it finalized (unless `payOut` is false). What the watcher and `redeem` run for each channel. Takes the
 * channel's lock.
 * @returns "answered", "paid-out", or undefined when nothing was needed
 * @example await defend(context, { channelId })
 */
export function defend(context: PiecepayContext, params: DefendParameters): Promise<DefendReturnType> {
  return context.locks.exclusive(params.channelId, () =>
    defendInLock(context, params.channelId, params.payOut ?? true),
  );
}

/** `defend` for a caller that holds the channel's lock. */
export async function defendInLock(context: PiecepayContext, id: string, payOut = true): Promise<DefendReturnType> {
  const record = await channelOf(context, id);
  if (record.phase === "withdrawn" || record.phase === "proposed" || record.phase === "funding") return undefined;
  // A hub's ledger or virtual channel: defended by `defendHubChannel` (piecepay/sdk/hub), never by the 2-party rules.
  if (record.ledger !== undefined || record.virtual !== undefined) return undefined;
  const status = await onChain(context, { channelId: record.id });
  if (status.challenged) {
    if (record.phase !== "challenged") await context.store.setPhase(record.id, "challenged");
    const registered = (await registration(context, { channelId: record.id })).variablePart;
    return (await answer(context, { channelId: record.id, challenged: registered })) ? "answered" : undefined;
  }
  if (!status.finalized) return undefined;
  if (!payOut) {
    if (record.phase !== "finalized") await context.store.setPhase(record.id, "finalized");
    return undefined;
  }
  // Nothing held, or nothing owed to us (ETH left over beyond the outcome stays in the channel; what is still
  // owed to the other side is theirs to pay out): nothing to do.
  const { owed } = await registration(context, { channelId: record.id });
  if (status.holdings !== 0n && owed.length !== 0 && owedTo(owed, record.myIndex) === 0n) {
    // Nothing owed to us: pay the other side out as a courtesy, once; if it cannot be paid, that is its to solve.
    let paidOut = true;
    try {
      await payoutInLock(context, record.id);
    } catch (error) {
      context.log("payout-failed", { channelId: record.id, error: String(error) });
      paidOut = false;
    }
    await context.store.setPhase(record.id, "withdrawn");
    return paidOut ? "paid-out" : undefined;
  }
  if (status.holdings === 0n || owed.length === 0) {
    await context.store.setPhase(record.id, "withdrawn");
    return undefined;
  }
  if (record.phase !== "finalized") await context.store.setPhase(record.id, "finalized");
  await payoutInLock(context, record.id);
  return "paid-out";
}
