import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import type { PiecepayError } from "../errors.js";
import type { ChannelRecord } from "../store/types.js";
import { channelOf, min, PAYER } from "./internal/channels.js";
import { onChain } from "./on-chain.js";
import type { RegistrationErrorType } from "./registration.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

export interface RecoverFundingParameters {
  channelId: string;
}
export type RecoverFundingReturnType = ChannelRecord | undefined;
export type RecoverFundingErrorType =
  | ChainErrorType
  | ChannelErrorType
  | RegistrationErrorType
  | PiecepayError<"RPC_UNAVAILABLE">;

/**
 * The payer's look at a channel whose deposit it may have sent without seeing it confirmed (phase `funding`, or
 * `proposed` in a store written before that phase existed): reads the holdings on chain and, when they hold
 * anything and the funding state is signed by both, records the channel as open (or challenged, finalized) with
 * what it holds, at most the funding state's deposit. A channel whose deposit never reached the chain stays as it
 * was (`forgetUnfunded` can then delete it) and undefined is returned.
 * @throws PiecepayError UNKNOWN_CHANNEL, RPC_UNAVAILABLE, WRONG_CHAIN
 * @example const recovered = await recoverFunding(context, { channelId }) // then challenge, or close with the payee
 */
export async function recoverFunding(
  context: PiecepayContext,
  params: RecoverFundingParameters,
): Promise<RecoverFundingReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  if (record.phase !== "funding" && record.phase !== "proposed") return record;
  const funding = await ctx.store.getSupportedState(record.id);
  if (record.myIndex !== PAYER || !funding || funding.signedBy !== 3n) return undefined;
  const wanted = funding.variablePart.outcome[0].allocations[PAYER].amount;
  const [, finalizesAt] = await ctx.adjudicator.statusOf(record.id);
  const held =
    finalizesAt === 0n
      ? await ctx.adjudicator.holdings(record.asset, record.id)
      : (await onChain(ctx, { channelId: record.id })).holdings;
  if (held === 0n && finalizesAt === 0n) return undefined;
  const now = BigInt((await ctx.provider().getBlock("latest"))?.timestamp ?? 0);
  const phase = finalizesAt === 0n ? "open" : finalizesAt <= now ? "finalized" : "challenged";
  const recovered: ChannelRecord = { ...record, deposited: min(held, wanted), phase };
  await ctx.store.putChannel(recovered);
  ctx.log("channel-funding-recovered", { channelId: record.id, held, phase });
  return recovered;
}
