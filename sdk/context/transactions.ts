// How actions send transactions: one at a time per context, pinned to the context's chain, checked against the
// wallet's balance first, and every failure turned into a PiecepayError with a code where one applies.
import { type ContractTransactionResponse, formatEther, type TransactionReceipt, ZeroAddress } from "ethers";
import { decodeContractError } from "../contract-errors.js";
import { InsufficientFundsError, PiecepayError } from "../errors.js";
import { rejectionError } from "../wallet.js";
import { withChainChecked } from "./context.js";
import type { PiecepayContext } from "./types.js";

/**
 * Overrides that pin a transaction to the context's chain: the chain was checked when the action started, and a
 * wallet whose user switched networks since refuses to sign for a chain id it is not on.
 */
export function onOurChain(context: PiecepayContext, value?: bigint): { chainId: bigint; value?: bigint } {
  return value === undefined ? { chainId: context.chainId } : { chainId: context.chainId, value };
}

/**
 * Sends one transaction and waits for `confirmations` (default: the context's). `onSubmitted` runs with its hash
 * once the node has it, before any confirmation.
 * @throws PiecepayError WRONG_CHAIN, USER_REJECTED, TX_DROPPED; ContractRevertError; the RPC's error otherwise
 */
export async function sendTransaction(
  context: PiecepayContext,
  what: string,
  send: () => Promise<ContractTransactionResponse>,
  options: { onSubmitted?: (hash: string) => Promise<void>; confirmations?: number } = {},
): Promise<TransactionReceipt> {
  await withChainChecked(context);
  try {
    const tx = await context.transactions.submit(send);
    await options.onSubmitted?.(tx.hash);
    const receipt = await tx.wait(options.confirmations ?? context.confirmations);
    if (!receipt) throw new PiecepayError("TX_DROPPED", `the ${what} transaction was dropped`);
    context.log("tx", { what, hash: receipt.hash, gasUsed: receipt.gasUsed, block: receipt.blockNumber });
    return receipt;
  } catch (error) {
    const known = rejectionError(error, `the ${what} transaction`) ?? decodeContractError(error);
    if (known instanceof PiecepayError) throw known;
    // Not a refusal nor a revert: a wallet moved to another chain since the action's check refuses the pinned
    // chain id in its own words. Look again, so that the caller learns WRONG_CHAIN with both ids.
    const moved = await context.chain.assert().then(
      () => undefined,
      (check: unknown) => (check instanceof PiecepayError && check.code === "WRONG_CHAIN" ? check : undefined),
    );
    throw moved ?? known;
  }
}

/**
 * Before a transaction: our wallet must hold `value` plus its gas (estimated, at the current fee), or the send
 * fails at once with INSUFFICIENT_FUNDS saying how much is held and needed, instead of an RPC error later.
 * @throws InsufficientFundsError; PiecepayError RPC_UNAVAILABLE
 */
export async function assertCanPay(
  context: PiecepayContext,
  what: string,
  value: bigint,
  estimate: () => Promise<bigint>,
): Promise<void> {
  const provider = context.provider();
  // The three reads at once: a deposit's first piece waits for them (each a round trip, from a page often through a
  // wallet). The estimate fails for lack of funds or a call that would revert: then the fallback below.
  const estimated = estimate().catch(() => undefined);
  let balance: bigint;
  let fee: bigint;
  try {
    const [held, feeData] = await Promise.all([provider.getBalance(context.walletAddress), provider.getFeeData()]);
    balance = held;
    fee = feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n;
  } catch (error) {
    throw new PiecepayError("RPC_UNAVAILABLE", "the RPC did not tell our balance", { cause: error });
  }
  // About twice a deposit's gas, when the node cannot estimate: it refuses for lack of funds, or the call would
  // revert (the send then reverts with the contract's reason, or takes its own fallback, e.g. a close in two steps).
  const gas = (balance > value ? await estimated : undefined) ?? 100_000n;
  const needed = value + gas * fee;
  if (balance < needed) {
    const account = context.walletAddress;
    throw new InsufficientFundsError(
      account,
      ZeroAddress,
      balance,
      needed,
      `account ${account} holds ${ether(balance)} ETH; the ${what} needs ${ether(needed)} ETH (${ether(value)} ETH plus about ${ether(gas * fee)} ETH of gas)`,
      "Fund the account first (on a local chain, send it ETH from one of the node's funded accounts).",
    );
  }
}

/** Wei as ETH, without a trailing ".0": 0 ETH, 1.5 ETH. */
function ether(wei: bigint): string {
  return formatEther(wei).replace(/\.0$/, "");
}
