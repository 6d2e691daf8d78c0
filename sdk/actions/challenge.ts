import type { TransactionReceipt } from "ethers";
import { stateHash } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import { assertCanPay, onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { signChallenge } from "../signatures.js";
import { type BestStateErrorType, bestState } from "./best-state.js";
import { channelOf } from "./internal/channels.js";
import { registrationIfChallenged } from "./registration.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

export interface ChallengeParameters {
  channelId: string;
}
export type ChallengeReturnType = TransactionReceipt;
export type ChallengeErrorType = BestStateErrorType | SendErrorType | ChannelErrorType;

/**
 * Registers our best state (`bestState`) on chain; it finalizes after the challenge duration unless answered.
 * @throws ContractRevertError (e.g. TURN_NUMBER_TOO_LOW, CHANNEL_FINALIZED); PiecepayError INSUFFICIENT_FUNDS
 * @example await challenge(context, { channelId })
 */
export async function challenge(context: PiecepayContext, params: ChallengeParameters): Promise<ChallengeReturnType> {
  const ctx = await withChainChecked(context);
  const record = await channelOf(ctx, params.channelId);
  const { proof, candidate } = await bestState(ctx, { channelId: record.id });
  const registration = await registrationIfChallenged(ctx, record.id);
  // The adjudicator takes the sender as the challenger; a wallet apart from the participant sends the
  // participant's signature of the challenge instead.
  const challengerSig =
    ctx.walletAddress === ctx.address
      ? "0x"
      : await signChallenge(ctx.signer, stateHash(record.id, candidate.variablePart));
  const { adjudicator } = ctx;
  await assertCanPay(ctx, "challenge", 0n, () =>
    adjudicator.challenge.estimateGas(record.fixedPart, proof, candidate, challengerSig, registration),
  );
  const receipt = await sendTransaction(ctx, "challenge", () =>
    adjudicator.challenge(record.fixedPart, proof, candidate, challengerSig, registration, onOurChain(ctx)),
  );
  await ctx.store.setPhase(record.id, "challenged");
  return receipt;
}
