import type { TransactionReceipt } from "ethers";
import { withChainChecked } from "../context/context.js";
import { onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { signState, toSigned } from "../signatures.js";
import { voucherState } from "../states.js";
import type { VariablePart } from "../types.js";
import { channelOf, PAYEE, supportedState } from "./internal/channels.js";
import { type RegistrationErrorType, registration } from "./registration.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

export interface RespondParameters {
  channelId: string;
  /** The registered state (from `ChallengeRegistered`, e.g. through `variablePartFromEvent`). */
  challenged: VariablePart;
}
export type RespondReturnType = TransactionReceipt;
export type RespondErrorType =
  | PiecepayError<"NOTHING_TO_ANSWER_WITH" | "NO_SUPPORTED_STATE">
  | RegistrationErrorType
  | SendErrorType
  | ChannelErrorType;

/**
 * The payee answers a challenge of the funding state with its single next move, a state carrying its largest
 * voucher (`respond`): that state becomes the registered one and the deadline stays (a challenged channel never
 * reopens, ADR 0005).
 * @throws PiecepayError NOTHING_TO_ANSWER_WITH; ContractRevertError (e.g. TURN_NUMBER_NOT_NEXT)
 * @example await respond(context, { channelId, challenged: variablePartFromEvent(event.args) })
 */
export async function respond(context: PiecepayContext, params: RespondParameters): Promise<RespondReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const voucher = await ctx.store.getVoucher("received", record.id);
  if (record.myIndex !== PAYEE || !voucher) {
    throw new PiecepayError("NOTHING_TO_ANSWER_WITH", `we hold no voucher of channel ${record.id} to respond with`);
  }
  const { challenged } = params;
  const next = voucherState((await supportedState(ctx, record)).variablePart, voucher, challenged.turnNum + 1n);
  const signature = await signState(ctx.signer, record.id, next);
  // `respond` hashes the challenged state itself: of the registration it takes only the ETH committed with it.
  const { heldEth } = await registration(ctx, { channelId: record.id });
  const response = toSigned(next, new Map([[PAYEE, signature]]));
  return sendTransaction(ctx, "respond", () =>
    ctx.adjudicator.respond(record.fixedPart, record.id, challenged, response, heldEth, onOurChain(ctx)),
  );
}
