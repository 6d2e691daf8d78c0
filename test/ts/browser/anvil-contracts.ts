// The chain side of the browser tests: anvil's development accounts as keys held in Node, and the contracts deployed
// on the test's anvil, with what a page is configured with to reach them.
import { HDNodeWallet, type JsonRpcProvider, Wallet } from "ethers";
import { type Adjudicator, Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";

const PHRASE = "test test test test test test test test test test test junk";

/** What a page is configured with: the chain and the contracts, nothing about any channel. */
export interface PageSettings {
  chainId: string;
  adjudicator: string;
  voucherApp: string;
}

/** anvil's development account `i`, as a key held in Node (a page's wallet is account 0, held by the node). */
export function anvilAccount(provider: JsonRpcProvider, i: number): Wallet {
  return new Wallet(HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey, provider);
}

/** Deploys the adjudicator and the voucher app from account 9: the adjudicator, and the settings of a page. */
export async function deployForPages(
  provider: JsonRpcProvider,
  chainId: bigint,
): Promise<{ adjudicator: Adjudicator; settings: PageSettings }> {
  const deployer = anvilAccount(provider, 9);
  const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment();
  const app = await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment();
  const settings = {
    chainId: String(chainId),
    adjudicator: await adjudicator.getAddress(),
    voucherApp: await app.getAddress(),
  };
  return { adjudicator, settings };
}
