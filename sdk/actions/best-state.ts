import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { signState, toSigned } from "../signatures.js";
import { voucherState } from "../states.js";
import type { SignedVariablePart } from "../types.js";
import { voucherStateSupportError } from "../voucher-app.js";
import { channelOf, PAYEE, supportedState } from "./internal/channels.js";
import { type OnChainErrorType, onChain } from "./on-chain.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

export interface BestStateParameters {
  channelId: string;
}
export type BestStateReturnType = { proof: SignedVariablePart[]; candidate: SignedVariablePart };
export type BestStateErrorType =
  | PiecepayError<"NOT_ENFORCEABLE" | "NO_SUPPORTED_STATE">
  | OnChainErrorType
  | ChainErrorType
  | ChannelErrorType;

/**
 * The strongest state we can put on chain for this channel, at a turn number the adjudicator accepts now: for
 * the payee, a state it signs carrying its largest voucher on top of the funding state; otherwise the latest
 * state both signed.
 * @throws PiecepayError NOT_ENFORCEABLE (the voucher app would refuse it), NO_SUPPORTED_STATE, WRONG_CHAIN
 * @example const { proof, candidate } = await bestState(context, { channelId })
 */
export async function bestState(context: PiecepayContext, params: BestStateParameters): Promise<BestStateReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const base = await supportedState(ctx, record);
  const voucher = await ctx.store.getVoucher("received", record.id);
  if (record.myIndex !== PAYEE || !voucher) return { proof: [], candidate: base };
  // challenge() needs a turn number at least the record, and above it while a challenge runs.
  const { turnNumRecord, challenged } = await onChain(ctx, { channelId: record.id });
  const floor = challenged ? turnNumRecord + 1n : turnNumRecord;
  const turnNum = floor > base.variablePart.turnNum ? floor : base.variablePart.turnNum + 1n;
  const vp = voucherState(base.variablePart, voucher, turnNum);
  const signature = await signState(ctx.signer, record.id, vp);
  const candidate = toSigned(vp, new Map([[PAYEE, signature]]));
  // The app's own rules, checked before spending gas: a store holding a final state as its base, or a voucher
  // that does not fit it, fails here with the app's error name instead of in a reverted transaction.
  const refused = voucherStateSupportError(record.fixedPart, record.id, [base], candidate);
  if (refused) {
    throw new PiecepayError("NOT_ENFORCEABLE", `the voucher app would refuse our state: ${refused}`);
  }
  return { proof: [base], candidate };
}
