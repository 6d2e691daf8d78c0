// Whether the chain behind an RPC is a local development chain, whose node holds funded, unlocked development
// accounts: what `piecepay fund` spends. Three facts must hold, each cheap to ask and none enough alone:
// - the chain id is a development one (31337: Hardhat and anvil; 1337: geth --dev, Ganache). A public chain
//   never uses them, but a local node can be started with any id (our own tests run anvil as Sepolia, 11155111);
// - the node says it is Hardhat's or anvil's (web3_clientVersion `HardhatNetwork/...`, `anvil/v...`);
// - it has accounts to send from (eth_accounts; a public RPC lists none).
import { CliError } from "./command.js";
import { rpcCall } from "./context.js";

/** Hardhat's and anvil's default chain id, and the one of geth --dev and Ganache. */
export const DEV_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];

/** The web3_clientVersion of the nodes we know to be development nodes. */
const DEV_CLIENT = /^(HardhatNetwork|anvil)\//i;

export interface DevChain {
  /** What the node calls itself, e.g. "anvil/v1.5.1". */
  clientVersion: string;
  /** The node's unlocked development accounts. */
  accounts: string[];
}

/**
 * Resolves when the chain at `url` is a local development chain; otherwise throws a CliError naming the fact that
 * failed, so that nothing is ever sent from a real chain's accounts.
 * @example const { accounts } = await assertDevChain(url, chainId)
 */
export async function assertDevChain(url: string, chainId: bigint): Promise<DevChain> {
  const refuse = (why: string) =>
    new CliError(
      `the chain at ${url} is not a local development chain: ${why}`,
      "`piecepay fund` only spends the test ETH of a local node (`piecepay chain`); on any other chain, send ETH " +
        "from a wallet of yours",
    );
  if (!DEV_CHAIN_IDS.includes(chainId)) {
    throw refuse(`its chain id is ${chainId} (a development chain has ${DEV_CHAIN_IDS.join(" or ")})`);
  }
  let clientVersion: string;
  try {
    clientVersion = await rpcCall<string>(url, "web3_clientVersion");
  } catch {
    throw refuse("it does not answer web3_clientVersion");
  }
  if (typeof clientVersion !== "string" || !DEV_CLIENT.test(clientVersion)) {
    throw refuse(`it runs ${JSON.stringify(clientVersion).slice(0, 80)}, not Hardhat's node or anvil`);
  }
  let accounts: string[];
  try {
    accounts = await rpcCall<string[]>(url, "eth_accounts");
  } catch {
    accounts = [];
  }
  if (!Array.isArray(accounts) || accounts.length === 0) throw refuse("its node holds no development accounts");
  return { clientVersion, accounts };
}
