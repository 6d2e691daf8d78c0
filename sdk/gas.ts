import type { Provider } from "ethers";

/**
 * Wei each of `accounts` spent on gas in the blocks after `fromBlock` (up to the head): what a report needs to say
 * who ends with what, to the wei, once payouts and gas are both in the balances.
 * @example const [payerGas, payeeGas] = await gasSpentSince(provider, [payer, payee], startBlock)
 */
export async function gasSpentSince(provider: Provider, accounts: string[], fromBlock: number): Promise<bigint[]> {
  const wanted = accounts.map((a) => a.toLowerCase());
  const spent = accounts.map(() => 0n);
  const head = await provider.getBlockNumber();
  for (let n = fromBlock + 1; n <= head; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      const i = wanted.indexOf(tx.from.toLowerCase());
      if (i < 0) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (receipt) spent[i] += receipt.gasUsed * receipt.gasPrice;
    }
  }
  return spent;
}
