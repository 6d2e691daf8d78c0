// Exact balance bookkeeping for tests: what an account spent on gas since a block, so that "who ends with what"
// can be asserted to the wei.
import type { Provider } from "ethers";

/** Wei `account` spent on gas in the blocks after `fromBlock`. */
export async function gasSpentSince(provider: Provider, account: string, fromBlock: number): Promise<bigint> {
  let spent = 0n;
  const head = await provider.getBlockNumber();
  for (let n = fromBlock + 1; n <= head; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== account.toLowerCase()) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (receipt) spent += receipt.gasUsed * receipt.gasPrice;
    }
  }
  return spent;
}
