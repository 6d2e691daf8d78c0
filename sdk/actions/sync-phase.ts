import type { PiecepayContext } from "../context/types.js";
import type { ChannelRecord } from "../store/types.js";
import { channelOf } from "./internal/channels.js";
import { type OnChainErrorType, onChain } from "./on-chain.js";
import { registration } from "./registration.js";

export interface SyncPhaseParameters {
  channelId: string;
}
export type SyncPhaseReturnType = ChannelRecord["phase"];
export type SyncPhaseErrorType = OnChainErrorType;

/**
 * Brings the store's phase of a channel in line with the chain: a channel the other side challenged, concluded or
 * paid out while we were away (a seeder that enforced our vouchers) no longer shows "open" or "closing"; one whose
 * close a re-org removed is open again. Returns the phase now stored. Takes the channel's lock.
 * @example await syncPhase(context, { channelId }) // "withdrawn" once the seeder's enforcement paid both sides
 */
export function syncPhase(context: PiecepayContext, params: SyncPhaseParameters): Promise<SyncPhaseReturnType> {
  return context.locks.exclusive(params.channelId, async () => {
    const record = await channelOf(context, params.channelId);
    if (record.phase === "proposed" || record.phase === "funding") return record.phase;
    const status = await onChain(context, { channelId: record.id });
    let phase: ChannelRecord["phase"] = record.phase;
    if (status.challenged) phase = "challenged";
    else if (status.finalized) {
      // Nothing held, or nothing owed under the registration we can find: nothing left to pay out.
      const registered =
        status.holdings === 0n
          ? undefined
          : await registration(context, { channelId: record.id }).catch(() => undefined);
      phase = status.holdings === 0n || registered?.owed.length === 0 ? "withdrawn" : "finalized";
    } else if (record.phase === "withdrawn" || record.phase === "finalized" || record.phase === "challenged") {
      phase = "open"; // the chain says open: what ended it is no longer on the chain
    }
    if (phase !== record.phase) {
      await context.store.setPhase(record.id, phase);
      context.log("phase-synced", { channelId: record.id, from: record.phase, to: phase });
    }
    return phase;
  });
}
