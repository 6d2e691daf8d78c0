import { ZeroAddress } from "ethers";
import type { PiecepayContext } from "../context/types.js";
import { registrationOf } from "../registration.js";
import { channelOf } from "./internal/channels.js";
import { type RegistrationErrorType, registration } from "./registration.js";
import type { ChannelErrorType } from "./types.js";

/** A channel's state on chain. */
export interface OnChainChannel {
  holdings: bigint;
  turnNumRecord: bigint;
  finalizesAt: bigint;
  finalized: boolean;
  /** Whether a challenge is registered and not yet final. */
  challenged: boolean;
}

export interface OnChainParameters {
  channelId: string;
}
export type OnChainReturnType = OnChainChannel;
/** The RPC's own error passes through when a read fails. */
export type OnChainErrorType = ChannelErrorType | RegistrationErrorType;

/**
 * Reads a channel's holdings and status on chain.
 * @example const { finalized, holdings } = await onChain(context, { channelId })
 */
export async function onChain(context: PiecepayContext, params: OnChainParameters): Promise<OnChainReturnType> {
  const record = await channelOf(context, params.channelId);
  const [turnNumRecord, finalizesAt, onChainFingerprint] = await context.adjudicator.statusOf(record.id);
  const now = BigInt((await context.provider().getBlock("latest"))?.timestamp ?? 0);
  const finalized = finalizesAt !== 0n && finalizesAt <= now;
  // The ETH of a channel under challenge or finalized is committed in its fingerprint: read it with the
  // registration that the events name.
  const committed = record.asset === ZeroAddress && onChainFingerprint !== 0n;
  return {
    holdings: committed
      ? await context.adjudicator.ethHoldings(
          record.id,
          registrationOf(record.id, await registration(context, { channelId: record.id })),
        )
      : await context.adjudicator.holdings(record.asset, record.id),
    turnNumRecord,
    finalizesAt,
    finalized,
    challenged: finalizesAt !== 0n && !finalized,
  };
}
