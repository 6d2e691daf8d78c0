import { ZeroAddress } from "ethers";
import { checksumAddress as getAddress } from "../address.js";
import { isExternalDestination, stateHash, toDestination } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { signState, toSigned } from "../signatures.js";
import { fundingState } from "../states.js";
import { addressOf, channelIdOf, newRecord, PAYEE, PAYER, signerOf } from "./internal/channels.js";
import { assertChallengeDuration } from "./min-challenge-duration.js";
import type { ChannelProposal } from "./propose.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

/** The payee's countersignature of the funding state. */
export interface ChannelAcceptance {
  channelId: string;
  payeeSignature: string;
}

export interface JoinParameters {
  proposal: ChannelProposal;
  /** Who the payer is to us (e.g. its peer id), kept in the store. */
  peer?: string;
  /** The assets we accept payment in (default: ETH alone). */
  assets?: string[];
}
export type JoinReturnType = ChannelAcceptance;
export type JoinErrorType =
  | PiecepayError<"INVALID_PROPOSAL" | "CHALLENGE_DURATION_TOO_SHORT">
  | ChainErrorType
  | ChannelErrorType;

/**
 * The payee's answer to a proposal: checks it (our chain, our adjudicator and app, us as payee, a safe
 * challenge duration, a well-formed funding state signed by the payer, paying our share to our wallet and the
 * payer's to an external address) and countersigns the funding state.
 * @throws PiecepayError INVALID_PROPOSAL, CHALLENGE_DURATION_TOO_SHORT, WRONG_CHAIN
 * @example const acceptance = await join(context, { proposal })
 */
export async function join(context: PiecepayContext, params: JoinParameters): Promise<JoinReturnType> {
  const ctx = await withChainChecked(context);
  const { proposal } = params;
  const { fixedPart, funding } = proposal;
  const invalid = (why: string) => new PiecepayError("INVALID_PROPOSAL", `refused the channel proposal: ${why}`);
  if (proposal.chainId !== ctx.chainId) throw invalid(`it is for chain ${proposal.chainId}`);
  if (getAddress(proposal.adjudicator) !== getAddress(ctx.adjudicator.target as string)) {
    throw invalid("another adjudicator");
  }
  if (fixedPart.participants.length !== 2) throw invalid("a voucher channel has two participants");
  if (getAddress(fixedPart.participants[PAYEE]) !== ctx.address) throw invalid("we are not its payee");
  if (getAddress(fixedPart.appDefinition) !== getAddress(ctx.voucherApp.target as string)) throw invalid("another app");
  assertChallengeDuration(ctx, fixedPart.challengeDuration);
  const id = channelIdOf(ctx, fixedPart);
  const deposit = funding.outcome[0]?.allocations[PAYER]?.amount ?? 0n;
  // Our share must go to our wallet, or the channel would pay someone else for what we serve. The payer's may
  // go to any external address (its wallet); not to a channel (an internal destination) nor to the zero address.
  const [payerTo, payeeTo] = [PAYER, PAYEE].map((i) => String(funding.outcome[0]?.allocations[i]?.destination));
  if (payeeTo.toLowerCase() !== toDestination(ctx.walletAddress)) {
    throw invalid(`it pays the payee to ${payeeTo}, not to our wallet ${ctx.walletAddress}`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(payerTo) || !isExternalDestination(payerTo) || BigInt(payerTo) === 0n) {
    throw invalid(`it refunds the payer to ${payerTo}, not to an account`);
  }
  const expected = fundingState(fixedPart, funding.outcome[0]?.asset ?? ZeroAddress, deposit, {
    payer: addressOf(payerTo),
    payee: ctx.walletAddress,
  });
  if (deposit <= 0n || stateHash(id, funding) !== stateHash(id, expected)) throw invalid("a malformed funding state");
  const accepted = (params.assets ?? [ZeroAddress]).map((a) => getAddress(a));
  if (!accepted.includes(getAddress(expected.outcome[0].asset))) {
    throw invalid(`it pays in ${expected.outcome[0].asset}, not in an asset we accept (${accepted.join(", ")})`);
  }
  if (signerOf(stateHash(id, funding), proposal.payerSignature) !== getAddress(fixedPart.participants[PAYER])) {
    throw invalid("the funding state is not signed by the payer");
  }
  if (await ctx.store.getChannel(id)) throw invalid("we already have this channel");
  const payeeSignature = await signState(ctx.signer, id, funding);
  await ctx.store.putChannel(newRecord(ctx, id, fixedPart, PAYEE, expected, params.peer));
  await ctx.store.putSupportedState(
    id,
    toSigned(
      funding,
      new Map([
        [PAYER, proposal.payerSignature],
        [PAYEE, payeeSignature],
      ]),
    ),
  );
  ctx.log("channel-joined", { channelId: id, payer: fixedPart.participants[PAYER], deposit });
  return { channelId: id, payeeSignature };
}
