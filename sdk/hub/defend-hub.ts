// The watcher's defence of hub channels (ADR 0021, decision 9): a ledger or a virtual channel of ours that someone
// challenged is answered with our best state, and a challenged ledger starts its virtual channels too, so that all
// of them finalize within the one challenge duration the ledger's challenge started (decision 8's bound). Paying a
// finalized ledger out (reclaims first) is `exitLedger`'s, which the owner runs: the watcher never sends a payout
// that would leave a guarantee unreclaimed.

import { onChain } from "../actions/on-chain.js";
import type { PiecepayContext } from "../context/types.js";
import { ledgerBalances } from "../ledger.js";
import type { ChannelRecord } from "../store/types.js";
import { challengeLedger, challengeVirtual } from "./exit.js";

/**
 * Defends one hub channel of ours: "answered" when it sent something.
 * @example const done = await defendHubChannel(context, record)
 */
export async function defendHubChannel(
  context: PiecepayContext,
  record: ChannelRecord,
): Promise<"answered" | undefined> {
  const status = await onChain(context, { channelId: record.id });
  if (!status.challenged) return undefined;
  if (record.phase !== "challenged") await context.store.setPhase(record.id, "challenged");
  if (record.virtual !== undefined) return (await challengeVirtual(context, record.id)) ? "answered" : undefined;
  let answered = (await challengeLedger(context, record.id)) !== undefined;
  // The ledger will finalize: every virtual channel it guarantees must finalize by then too, or its guarantee waits.
  const latest = await context.store.getSupportedState(record.id);
  const targets = latest === undefined ? [] : [...ledgerBalances(latest.variablePart.outcome).guarantees.keys()];
  for (const target of targets) {
    const v = await context.store.getChannel(target);
    if (v?.virtual === undefined) continue;
    const vStatus = await onChain(context, { channelId: target });
    if (vStatus.finalized) continue;
    if ((await challengeVirtual(context, target)) !== undefined) answered = true;
  }
  return answered ? "answered" : undefined;
}
