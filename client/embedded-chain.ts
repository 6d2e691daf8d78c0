// The embedded chain of `piecepay demo` and `piecepay simulate`: Hardhat's in-process EVM, new at each run, with the
// adjudicator, the voucher app and the hub's two apps (ledger, virtual voucher) deployed from its first development
// account, as scripts/deploy.ts deploys them. This is the one module of client/ that loads Hardhat and the TypeChain
// factories: a throwaway chain *is* Hardhat, and deploying needs the contracts' bytecode, which the SDK does not
// carry. The import-boundary test (test/ts/sdk/import-boundaries.test.ts) allows it by name, and only behind
// `await import(...)`, so that no other command, and nothing a library user imports, loads Hardhat. See
// docs/adr/0009-sdk-entry-points-and-import-boundaries.md.

import type { Provider, Signer } from "ethers";
import { network } from "hardhat";
import {
  Adjudicator__factory,
  LedgerApp__factory,
  SixDecimalToken__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../typechain-types/index.js";

/** A development account of the embedded chain: funded with test ETH, its key held by Hardhat. */
export type DevAccount = Signer & { readonly address: string };

export interface EmbeddedChain {
  provider: Provider;
  chainId: bigint;
  adjudicator: string;
  voucherApp: string;
  /** The hub's ledger app (ADR 0021): the app of ledger channels [user, hub]. */
  ledgerApp: string;
  /** The hub's virtual voucher app (ADR 0021): the app of virtual channels [payer, hub, payee]. */
  virtualApp: string;
  /** Hardhat's funded development accounts; the first deployed the contracts. */
  accounts: DevAccount[];
  /** A raw JSON-RPC request to the EVM (evm_increaseTime, evm_mine, or anything a child process forwards). */
  request(method: string, params: unknown[]): Promise<unknown>;
  /**
   * Deploys the 6-decimal test token (contracts/test/SixDecimalToken.sol, "USD6") from the first account and mints
   * `amount` to `holder`: the embedded chain is new at each run, so no existing token could be named.
   */
  deployTestToken(holder: string, amount: bigint): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a new in-process EVM and deploys the contracts.
 * @example const chain = await startEmbeddedChain(); try { ... } finally { await chain.close() }
 */
export async function startEmbeddedChain(): Promise<EmbeddedChain> {
  const connection = await network.create();
  const { ethers } = connection;
  try {
    const accounts = await ethers.getSigners();
    const [deployer] = accounts;
    const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
    const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
    const ledgerApp = await (await new LedgerApp__factory(deployer).deploy()).getAddress();
    const virtualApp = await (await new VirtualVoucherApp__factory(deployer).deploy()).getAddress();
    const chainId = (await ethers.provider.getNetwork()).chainId;
    return {
      provider: ethers.provider,
      chainId,
      adjudicator,
      voucherApp,
      ledgerApp,
      virtualApp,
      accounts,
      request: (method, params) => connection.provider.request({ method, params }),
      async deployTestToken(holder, amount) {
        const token = await (await new SixDecimalToken__factory(deployer).deploy()).waitForDeployment();
        await (await token.mint(holder, amount)).wait();
        return token.getAddress();
      },
      close: () => connection.close(),
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
