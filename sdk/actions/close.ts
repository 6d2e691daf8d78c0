import type { TransactionReceipt } from "ethers";
import { withChainChecked } from "../context/context.js";
import { assertCanPay, onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import type { PiecepayError } from "../errors.js";
import { signState, toSigned } from "../signatures.js";
import { isRevert } from "./internal/channels.js";
import { type CloseOffer, checkOffer } from "./internal/close-offer.js";
import { type PayoutErrorType, payout } from "./payout.js";
import { registrationIfChallenged } from "./registration.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

export interface CloseParameters {
  /** The other side's signature of the final state (from `offerClose`, or its `countersign`). */
  offer: CloseOffer;
  /** The least the payee accepts (default: all its vouchers promise): a payee paid ahead passes what it delivered. */
  minimum?: bigint;
}
export type CloseReturnType = TransactionReceipt;
export type CloseErrorType =
  | PiecepayError<"INVALID_CLOSE_OFFER" | "NO_SUPPORTED_STATE">
  | SendErrorType
  | PayoutErrorType
  | ChannelErrorType;

/**
 * Countersigns the other side's close offer, if it pays us at least what we are owed, and closes the channel:
 * one transaction concludes it and pays both sides. Checks first that our wallet can pay its gas. When the other
 * side cannot be paid (its account refuses ETH) or a challenge runs, concludes alone and then pays out.
 * @throws PiecepayError INVALID_CLOSE_OFFER, INSUFFICIENT_FUNDS (nothing sent: `countersign` and let the other
 *   side submit); ContractRevertError
 * @example const receipt = await close(context, { offer })
 */
export async function close(context: PiecepayContext, params: CloseParameters): Promise<CloseReturnType> {
  const ctx = await withChainChecked(context);
  const { offer } = params;
  const record = await checkOffer(ctx, offer, params);
  const other = 1 - record.myIndex;
  const signatures = new Map([
    [other, offer.signature],
    [record.myIndex, await signState(ctx.signer, record.id, offer.final)],
  ]);
  const concluded = toSigned(offer.final, signatures);
  const { adjudicator } = ctx;
  await assertCanPay(ctx, "close", 0n, () =>
    adjudicator.concludeAndTransferAllAssets.estimateGas(record.fixedPart, concluded),
  );
  try {
    const receipt = await sendTransaction(ctx, "concludeAndTransferAllAssets", () =>
      adjudicator.concludeAndTransferAllAssets(record.fixedPart, concluded, onOurChain(ctx)),
    );
    await ctx.store.setPhase(record.id, "withdrawn");
    return receipt;
  } catch (error) {
    // The other side cannot be paid (its account refuses ETH), or a challenge runs: conclude alone, then pay out
    // (our allocation alone if need be).
    if (!isRevert(error)) throw error;
    ctx.log("close-in-two-steps", { channelId: record.id, why: String(error) });
    const registration = await registrationIfChallenged(ctx, record.id);
    await sendTransaction(ctx, "conclude", () =>
      adjudicator.conclude(record.fixedPart, concluded, registration, onOurChain(ctx)),
    );
    return payout(ctx, { channelId: record.id });
  }
}
