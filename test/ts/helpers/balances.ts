// Exact balance bookkeeping for tests: what an account spent on gas since a block, so that "who ends with what"
// can be asserted to the wei.
import type { Provider } from "ethers";
import { gasSpentSince as gasOfAccounts } from "../../../sdk/index.js";

/** Wei `account` spent on gas in the blocks after `fromBlock`. */
export async function gasSpentSince(provider: Provider, account: string, fromBlock: number): Promise<bigint> {
  const [spent] = await gasOfAccounts(provider, [account], fromBlock);
  return spent;
}
