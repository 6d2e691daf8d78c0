// What every action runs against: the accounts, the contracts, the store, the timing and the log, plus the state
// that the calls through one context share (the chain check's verdict, the per-channel locks, the transaction
// queue, the funding poll). `PiecepayClient` is one of these bound to methods; apps that want only some actions
// import them from `piecepay/sdk/actions` and pass a context.
import type { Provider } from "ethers";
import {
  Adjudicator__factory,
  type ILedgerApp,
  ILedgerApp__factory,
  type IVirtualVoucherApp,
  IVirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../../typechain-types/index.js";
import { checksumAddress as getAddress } from "../address.js";
import { defaultConfirmations } from "../confirmations.js";
import { PiecepayError } from "../errors.js";
import { FundingPoller } from "../funding.js";
import { rejectionError } from "../wallet.js";
import { ChainGuard } from "./chain-guard.js";
import { fundingChain } from "./funding-chain.js";
import { ChannelLocks } from "./locks.js";
import { TransactionQueue } from "./transaction-queue.js";
import type { PiecepayContext, PiecepayContextOptions, PiecepayTiming } from "./types.js";

/**
 * A context after checking the chain id (the wallet's) and that the contracts are deployed there: the adjudicator,
 * the voucher app, and the hub's ledger and virtual apps when their addresses are given.
 * @throws PiecepayError WRONG_CHAIN (a `WrongChainError`), NO_PROVIDER, NOT_DEPLOYED, RPC_UNAVAILABLE or USER_REJECTED
 * @example const context = await createPiecepayContext({ signer, chainId: 31337n, adjudicator, voucherApp, store })
 */
export async function createPiecepayContext(options: PiecepayContextOptions): Promise<PiecepayContext> {
  let walletAddress: string;
  try {
    walletAddress = getAddress(await (options.wallet ?? options.signer).getAddress());
  } catch (error) {
    throw rejectionError(error, "the connection") ?? error;
  }
  const context = contextOf(options, getAddress(await options.signer.getAddress()), walletAddress);
  await context.chain.assert();
  const provider = context.provider();
  const contracts: [string, string | undefined][] = [
    ["adjudicator", options.adjudicator],
    ["voucher app", options.voucherApp],
    ["ledger app", options.ledgerApp],
    ["virtual voucher app", options.virtualApp],
  ];
  for (const [name, address] of contracts) {
    if (address === undefined) continue;
    if ((await provider.getCode(address)) === "0x") {
      throw new PiecepayError("NOT_DEPLOYED", `no ${name} at ${address} on chain ${options.chainId}`, {
        details:
          "Deploy the contracts (`npm run deploy:localhost` against your node, or `piecepay chain` for a local chain " +
          "with them) or pass the addresses from deployments/<chainId>.json.",
      });
    }
  }
  return context;
}

function contextOf(options: PiecepayContextOptions, address: string, walletAddress: string): PiecepayContext {
  const wallet = options.wallet ?? options.signer;
  const confirmations = options.confirmations ?? defaultConfirmations(options.chainId);
  if (!Number.isInteger(confirmations) || confirmations < 1) {
    throw new PiecepayError("INVALID_CONFIRMATIONS", "confirmations must be a whole number of at least 1");
  }
  const timing: PiecepayTiming = {
    pollingIntervalMs: options.pollingIntervalMs ?? 4000,
    blockTimeSeconds: options.blockTimeSeconds ?? 12,
    chainCheckIntervalMs: options.chainCheckIntervalMs ?? 30_000,
    safetyMarginSeconds: options.safetyMarginSeconds ?? 60,
  };
  const what = options.wallet ? "wallet" : "signer";
  const provider = (): Provider => {
    if (!wallet.provider) throw new PiecepayError("NO_PROVIDER", `the ${what} is not connected to a provider`);
    return wallet.provider;
  };
  const log = (event: string, fields: Record<string, unknown>) => options.log?.(event, { account: address, ...fields });
  const context: PiecepayContext = {
    signer: options.signer,
    wallet,
    hasWallet: options.wallet !== undefined,
    address,
    walletAddress,
    chainId: options.chainId,
    confirmations,
    adjudicator: Adjudicator__factory.connect(options.adjudicator, wallet),
    voucherApp: VoucherPaymentApp__factory.connect(options.voucherApp, wallet),
    ledgerApp: options.ledgerApp === undefined ? undefined : ILedgerApp__factory.connect(options.ledgerApp, wallet),
    virtualApp:
      options.virtualApp === undefined ? undefined : IVirtualVoucherApp__factory.connect(options.virtualApp, wallet),
    store: options.store,
    timing,
    log,
    provider,
    chain: new ChainGuard(provider, options.chainId, options.wallet ? "wallet" : "RPC", timing.chainCheckIntervalMs),
    locks: new ChannelLocks(),
    transactions: new TransactionQueue(),
    // The poll's looks run through the finished context (they are called only once a channel waits).
    funding: new FundingPoller(
      fundingChain(() => context),
      timing.pollingIntervalMs,
    ),
  };
  return context;
}

/**
 * The hub's two apps of `context`, which the hub's actions need and the others do not.
 * @throws PiecepayError NOT_DEPLOYED when the context was made without `ledgerApp` or `virtualApp`
 * @example const { ledgerApp, virtualApp } = hubApps(context) // then ledgerApp.target as a ledger's appDefinition
 */
export function hubApps(context: PiecepayContext): { ledgerApp: ILedgerApp; virtualApp: IVirtualVoucherApp } {
  const { ledgerApp, virtualApp } = context;
  if (ledgerApp !== undefined && virtualApp !== undefined) return { ledgerApp, virtualApp };
  const missing = [ledgerApp === undefined ? "ledgerApp" : [], virtualApp === undefined ? "virtualApp" : []].flat();
  throw new PiecepayError("NOT_DEPLOYED", `the hub needs ${missing.join(" and ")}, which this context was not given`, {
    details:
      "Pass the addresses of LedgerApp and VirtualVoucherApp from deployments/<chainId>.json; a record without them " +
      "predates the hub's apps: deploy them with `npm run deploy:localhost` (or `npm run deploy -- --network NAME`), " +
      "or start a local chain with `piecepay chain`.",
  });
}

/**
 * Checks the chain once for a whole action: returns `context` marked as checked, so that the actions and
 * transactions it runs do not ask again.
 * @throws PiecepayError WRONG_CHAIN, RPC_UNAVAILABLE, NO_PROVIDER
 * @example const checked = await withChainChecked(context) // then bestState(checked, ...), challenge(checked, ...)
 */
export async function withChainChecked(context: PiecepayContext): Promise<PiecepayContext> {
  if (context.chainChecked) return context;
  await context.chain.assert();
  return { ...context, chainChecked: true };
}

export type { PiecepayContext, PiecepayContextOptions, PiecepayTiming } from "./types.js";
