import type { PiecepayContext } from "../context/types.js";
import type { ChainErrorType } from "./types.js";

export interface CanPayGasParameters {
  /** Gas units of the transaction (default: a cooperative close's, with a margin: 150,000). */
  gas?: bigint;
}
export type CanPayGasReturnType = boolean;
/** The RPC's own error passes through when a read fails. */
export type CanPayGasErrorType = ChainErrorType;

/**
 * Whether our wallet holds the gas of a transaction of about `gas` units at the current fee. A side without it
 * countersigns instead of submitting.
 * @example if (!(await canPayGas(context))) send(await countersign(context, { offer }))
 */
export async function canPayGas(
  context: PiecepayContext,
  params: CanPayGasParameters = {},
): Promise<CanPayGasReturnType> {
  const provider = context.provider();
  const [balance, feeData] = await Promise.all([provider.getBalance(context.walletAddress), provider.getFeeData()]);
  return balance >= (params.gas ?? 150_000n) * (feeData.maxFeePerGas ?? feeData.gasPrice ?? 0n);
}
