import { hexlify, randomBytes, ZeroAddress } from "ethers";
import { checksumAddress as getAddress } from "../address.js";
import { withChainChecked } from "../context/context.js";
import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";
import { signState } from "../signatures.js";
import { fundingState } from "../states.js";
import type { FixedPart, VariablePart } from "../types.js";
import { channelIdOf, newRecord, PAYEE } from "./internal/channels.js";
import { assertChallengeDuration, minChallengeDuration } from "./min-challenge-duration.js";
import type { ChainErrorType, ChannelErrorType } from "./types.js";

/** The payer's offer of a channel: sent to the payee, who answers with a `ChannelAcceptance`. */
export interface ChannelProposal {
  chainId: bigint;
  adjudicator: string;
  fixedPart: FixedPart;
  /** Turn 0: the whole deposit allocated back to the payer, nothing to the payee. */
  funding: VariablePart;
  payerSignature: string;
}

export interface ProposeParameters {
  /** The payee's participant: the key that signs its side of the channel. */
  payee: string;
  /** Where the channel pays the payee: its wallet's address (default: `payee`). */
  payeeDestination?: string;
  /** What the payer deposits, in wei of `asset`. */
  deposit: bigint;
  /** An ERC-20 token's address (default: ETH, the zero address). */
  asset?: string;
  /** Seconds a challenge runs before it finalizes (default: twice `minChallengeDuration`). */
  challengeDuration?: bigint;
  /** Default: 8 random bytes. */
  channelNonce?: bigint;
  /** Who the payee is to us (e.g. its peer id), kept in the store. */
  peer?: string;
}
export type ProposeReturnType = ChannelProposal;
export type ProposeErrorType =
  | PiecepayError<"CHALLENGE_DURATION_TOO_SHORT" | "INVALID_DEPOSIT" | "INVALID_PROPOSAL">
  | ChainErrorType
  | ChannelErrorType;

/**
 * The payer's first step: a channel to `payee` holding `deposit`, and its funding state signed by us. The funding
 * state pays the payer's share to our wallet and the payee's to `payeeDestination`, and every later state keeps
 * these destinations.
 * @throws PiecepayError CHALLENGE_DURATION_TOO_SHORT, INVALID_DEPOSIT, INVALID_PROPOSAL, WRONG_CHAIN
 * @example const proposal = await propose(context, { payee, payeeDestination: payeeWallet, deposit: parseEther("0.1") })
 */
export async function propose(context: PiecepayContext, params: ProposeParameters): Promise<ProposeReturnType> {
  const ctx = await withChainChecked(context);
  if (params.deposit <= 0n) throw new PiecepayError("INVALID_DEPOSIT", "a channel needs a deposit above 0");
  const challengeDuration = params.challengeDuration ?? minChallengeDuration(ctx) * 2n;
  assertChallengeDuration(ctx, challengeDuration);
  const fixedPart: FixedPart = {
    participants: [ctx.address, getAddress(params.payee)],
    channelNonce: params.channelNonce ?? BigInt(hexlify(randomBytes(8))),
    appDefinition: getAddress(ctx.voucherApp.target as string),
    challengeDuration,
  };
  const id = channelIdOf(ctx, fixedPart);
  const payeeDestination = getAddress(params.payeeDestination ?? params.payee);
  if (payeeDestination === ZeroAddress) {
    throw new PiecepayError("INVALID_PROPOSAL", "the payee's destination is the zero address: its money would burn");
  }
  const funding = fundingState(fixedPart, params.asset ?? ZeroAddress, params.deposit, {
    payer: ctx.walletAddress,
    payee: payeeDestination,
  });
  const payerSignature = await signState(ctx.signer, id, funding);
  await ctx.store.putChannel(newRecord(ctx, id, fixedPart, 0, funding, params.peer));
  ctx.log("channel-proposed", {
    channelId: id,
    payee: fixedPart.participants[PAYEE],
    payeeDestination,
    deposit: params.deposit,
  });
  return { chainId: ctx.chainId, adjudicator: ctx.adjudicator.target as string, fixedPart, funding, payerSignature };
}
