import type { ContractTransactionResponse } from "ethers";

/**
 * Transactions of one context are submitted one at a time (each waits for the previous to reach the node): two
 * submitted at once from one account would both read the same pending nonce. Confirmations are awaited in
 * parallel.
 */
export class TransactionQueue {
  #tail: Promise<unknown> = Promise.resolve();

  submit(send: () => Promise<ContractTransactionResponse>): Promise<ContractTransactionResponse> {
    const submitted = this.#tail.then(() => send());
    this.#tail = submitted.catch(() => undefined);
    return submitted;
  }
}
