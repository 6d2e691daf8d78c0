import { Contract, type TransactionReceipt, ZeroAddress } from "ethers";
import { checksumAddress as getAddress } from "../address.js";
import { stateHash } from "../channel.js";
import { withChainChecked } from "../context/context.js";
import { assertCanPay, onOurChain, sendTransaction } from "../context/transactions.js";
import type { PiecepayContext } from "../context/types.js";
import { InsufficientFundsError, PiecepayError } from "../errors.js";
import { toSigned } from "../signatures.js";
import type { ChannelRecord } from "../store/types.js";
import { channelIdOf, min, PAYEE, PAYER, signerOf } from "./internal/channels.js";
import type { ChannelAcceptance } from "./join.js";
import type { ChannelProposal } from "./propose.js";
import type { ChannelErrorType, SendErrorType } from "./types.js";

const ERC20_ABI = [
  "function allowance(address owner, address spender) view returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
];

export interface FundParameters {
  proposal: ChannelProposal;
  acceptance: ChannelAcceptance;
}
export type FundReturnType = ChannelRecord;
export type FundErrorType =
  | PiecepayError<"INVALID_ACCEPTANCE" | "CHANNEL_NOT_OPEN">
  | InsufficientFundsError
  | SendErrorType
  | ChannelErrorType;

/**
 * The payer's last step of opening: checks the payee's countersignature, then deposits (approving an ERC-20
 * first) and waits for one confirmation. Refused by the user or the chain check, the channel stays proposed, with
 * nothing sent.
 * @throws PiecepayError INVALID_ACCEPTANCE, CHANNEL_NOT_OPEN, INSUFFICIENT_FUNDS, USER_REJECTED, WRONG_CHAIN;
 *   ContractRevertError (e.g. HOLDINGS_CHANGED)
 * @example const channel = await fund(context, { proposal, acceptance })
 */
export async function fund(context: PiecepayContext, params: FundParameters): Promise<FundReturnType> {
  const ctx = await withChainChecked(context);
  const { proposal, acceptance } = params;
  const id = channelIdOf(ctx, proposal.fixedPart);
  const record = await ctx.store.getChannel(id);
  if (!record || record.myIndex !== PAYER || id !== acceptance.channelId.toLowerCase()) {
    throw new PiecepayError("INVALID_ACCEPTANCE", "the acceptance is for no channel we proposed");
  }
  const payee = getAddress(proposal.fixedPart.participants[PAYEE]);
  if (signerOf(stateHash(id, proposal.funding), acceptance.payeeSignature) !== payee) {
    throw new PiecepayError("INVALID_ACCEPTANCE", "the funding state is not countersigned by the payee");
  }
  await ctx.store.putSupportedState(
    id,
    toSigned(
      proposal.funding,
      new Map([
        [PAYER, proposal.payerSignature],
        [PAYEE, acceptance.payeeSignature],
      ]),
    ),
  );
  const deposit = proposal.funding.outcome[0].allocations[PAYER].amount;
  const asset = record.asset;
  const { adjudicator } = ctx;
  const [held, [, finalizesAt]] = await Promise.all([adjudicator.holdings(asset, id), adjudicator.statusOf(id)]);
  if (finalizesAt !== 0n) {
    throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} is challenged or finalized: not depositing into it`);
  }
  if (asset !== ZeroAddress) await approveToken(ctx, asset, deposit);
  const value = asset === ZeroAddress ? deposit : 0n;
  await assertCanPay(ctx, "deposit", value, () => adjudicator.deposit.estimateGas(asset, id, held, deposit, { value }));
  // Written before the deposit is broadcast: whatever happens next (the process killed, the RPC gone, the
  // download finished first), the store knows a deposit may be on chain, and `recoverFunding` finds it.
  const inFlight: ChannelRecord = { ...record, phase: "funding", funding: { amount: deposit } };
  await ctx.store.putChannel(inFlight);
  // One confirmation: the deposit is ours, and a re-org that removes it costs us nothing (our vouchers then pay
  // out of nothing). The payee is the side that waits for depth before it serves without a bound.
  let receipt: TransactionReceipt;
  try {
    receipt = await sendTransaction(
      ctx,
      "deposit",
      () => adjudicator.deposit(asset, id, held, deposit, onOurChain(ctx, value)),
      {
        onSubmitted: (hash) => ctx.store.putChannel({ ...inFlight, funding: { amount: deposit, txHash: hash } }),
        confirmations: 1,
      },
    );
  } catch (error) {
    // Refused by the wallet's user, or stopped by the chain check before the wallet was asked: nothing reached
    // the chain, so the channel is as it was (proposed), not a deposit that may be on chain.
    if (error instanceof PiecepayError && (error.code === "USER_REJECTED" || error.code === "WRONG_CHAIN")) {
      await ctx.store.putChannel(record);
    }
    throw error;
  }
  // What this deposit credited (less than `deposit` for a token that takes a fee), from its own event: a
  // concurrent deposit by someone else does not count as ours. Never more than the funding state allocates.
  let after = held;
  for (const log of receipt.logs) {
    const parsed = adjudicator.interface.parseLog(log);
    if (parsed?.name === "HoldingsUpdated" && parsed.args.channelId.toLowerCase() === id) after = parsed.args.held;
  }
  const deposited = min(after - held, deposit);
  const funded: ChannelRecord = {
    ...record,
    deposited,
    phase: "open",
    funding: { amount: deposit, txHash: receipt.hash },
  };
  await ctx.store.putChannel(funded);
  ctx.log("channel-funded", { channelId: id, deposited });
  return funded;
}

/** Lets the adjudicator take `deposit` of token `asset` from our wallet, checking first that the wallet holds it. */
export async function approveToken(ctx: PiecepayContext, asset: string, deposit: bigint): Promise<void> {
  const token = new Contract(asset, ERC20_ABI, ctx.wallet);
  const spender = ctx.adjudicator.target;
  // Before the approve: a wallet short of the token fails here, with nothing sent.
  const tokens: bigint = await token.balanceOf(ctx.walletAddress);
  if (tokens < deposit) {
    throw new InsufficientFundsError(
      ctx.walletAddress,
      asset,
      tokens,
      deposit,
      `account ${ctx.walletAddress} holds ${tokens} of token ${asset}; the deposit needs ${deposit}`,
      "Fund the wallet with the token first.",
    );
  }
  if ((await token.allowance(ctx.walletAddress, spender)) >= deposit) return;
  // The approve's gas and the deposit's (which cannot be estimated before the approve: about 100,000).
  await assertCanPay(
    ctx,
    "approve and deposit",
    0n,
    async () => (await token.approve.estimateGas(spender, deposit)) + 100_000n,
  );
  await sendTransaction(ctx, "approve", () => token.approve(spender, deposit, onOurChain(ctx)));
}
