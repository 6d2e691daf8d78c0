// How a test page becomes a channel participant, as a web app does: its channels and its session key in IndexedDB,
// the injected wallet (ethers' BrowserProvider over `window.ethereum`) sending the transactions and being paid, the
// session key signing every state and voucher, so that no voucher asks the wallet anything.
import {
  IndexedDbChannelStore,
  PiecepayClient,
  type PiecepayClientOptions,
  sessionKey,
  walletFromEip1193,
} from "../../../../sdk/index.js";
import type { PageSettings } from "../anvil-contracts.js";

/**
 * The page's client on the chain and contracts of `settings`, its store the IndexedDB database `database`, its
 * wallet the injected wallet's account `account` (the node's development account of that index; default the first).
 */
export async function walletClient(
  settings: PageSettings,
  database: string,
  extra: Partial<PiecepayClientOptions> = {},
  account = 0,
): Promise<PiecepayClient> {
  const store = await IndexedDbChannelStore.open(database);
  // No cached block number: the tests move the node's clock between two calls.
  const wallet = await walletFromEip1193(window.ethereum, { cacheTimeout: -1, pollingInterval: 100, account });
  return PiecepayClient.create({
    signer: await sessionKey(store),
    wallet,
    chainId: BigInt(settings.chainId),
    adjudicator: settings.adjudicator,
    voucherApp: settings.voucherApp,
    store,
    ...extra,
  });
}
