// Shared fixtures for the contract tests: a deployed adjudicator and apps on Hardhat's in-process EVM, two
// participants with ETH, and helpers that build and sign states through the SDK's mirror of the Solidity.
import { parseEther, ZeroAddress } from "ethers";
import { network } from "hardhat";
import {
  type ChannelStore,
  channelId,
  encodeVoucher,
  type FixedPart,
  PiecepayClient,
  type PiecepayClientOptions,
  type SignedVariablePart,
  signBy,
  signVoucher,
  toDestination,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import {
  Adjudicator__factory,
  EncodingHarness__factory,
  VoucherPaymentApp__factory,
} from "../../../typechain-types/index.js";

export const connection = await network.getOrCreate();
export const { ethers, networkHelpers } = connection;
export type Signer = Awaited<ReturnType<typeof ethers.getSigners>>[number];

export const ONE = parseEther("1");
export const DURATION = 3600n;

/** Deploys the adjudicator, the voucher app and the encoding harness. Use through `networkHelpers.loadFixture`. */
export async function deployFixture() {
  const [deployer, alice, bob, carol, eve] = await ethers.getSigners();
  const adjudicator = await new Adjudicator__factory(deployer).deploy();
  const app = await new VoucherPaymentApp__factory(deployer).deploy();
  const harness = await new EncodingHarness__factory(deployer).deploy();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const adjudicatorAddress = await adjudicator.getAddress();
  const appAddress = await app.getAddress();

  /** A fresh 2-party channel [alice, bob] (alice pays, bob is paid, in the voucher app). */
  function channel(overrides: Partial<FixedPart> = {}): { fixedPart: FixedPart; id: string } {
    const fixedPart: FixedPart = {
      participants: [alice.address, bob.address],
      channelNonce: BigInt(Math.floor(Math.random() * 2 ** 48)),
      appDefinition: appAddress,
      challengeDuration: DURATION,
      ...overrides,
    };
    return { fixedPart, id: channelId(chainId, adjudicatorAddress, fixedPart) };
  }

  return {
    adjudicator,
    app,
    harness,
    chainId,
    adjudicatorAddress,
    appAddress,
    deployer,
    alice,
    bob,
    carol,
    eve,
    channel,
  };
}

/** A two-allocation ETH state [alice, bob]. */
export function ethState(
  alice: string,
  bob: string,
  turnNum: bigint,
  aliceGets: bigint,
  bobGets: bigint,
  opts: { isFinal?: boolean; appData?: string; asset?: string } = {},
): VariablePart {
  return {
    outcome: [
      {
        asset: opts.asset ?? ZeroAddress,
        allocations: [
          { destination: toDestination(alice), amount: aliceGets },
          { destination: toDestination(bob), amount: bobGets },
        ],
      },
    ],
    appData: opts.appData ?? "0x",
    turnNum,
    isFinal: opts.isFinal ?? false,
  };
}

/** Signs `vp` by every signer given (matched to participant index by address). */
export async function signed(
  fixedPart: FixedPart,
  id: string,
  vp: VariablePart,
  signers: Signer[],
): Promise<SignedVariablePart> {
  return signBy(fixedPart, id, vp, signers);
}

/** Marks participant `index` as signing by sending the transaction itself (an empty signature). */
export function sentBy(svp: SignedVariablePart, index: number): SignedVariablePart {
  const sigs = new Map<number, string>();
  let k = 0;
  for (let i = 0; i < 256; i++) {
    if ((svp.signedBy >> BigInt(i)) & 1n) sigs.set(i, svp.sigs[k++]);
  }
  sigs.set(index, "0x");
  return toSigned(svp.variablePart, sigs);
}

/** A voucher state on top of `base` ([payer, payee] outcome): moves `amount - base voucher amount` to the payee. */
export async function voucherState(
  payer: Signer,
  id: string,
  base: VariablePart,
  turnNum: bigint,
  amount: bigint,
  previousAmount = 0n,
): Promise<VariablePart> {
  const voucher = await signVoucher(payer, id, amount);
  const [payerAlloc, payeeAlloc] = base.outcome[0].allocations;
  const delta = amount - previousAmount;
  return {
    outcome: [
      {
        asset: base.outcome[0].asset,
        allocations: [
          { destination: payerAlloc.destination, amount: payerAlloc.amount - delta },
          { destination: payeeAlloc.destination, amount: payeeAlloc.amount + delta },
        ],
      },
    ],
    appData: encodeVoucher(voucher),
    turnNum,
    isFinal: false,
  };
}

/** SDK timings for an automining chain: answers are mined in the block they are sent, so short margins are safe. */
export const FAST = { pollingIntervalMs: 20, blockTimeSeconds: 1, safetyMarginSeconds: 5, confirmations: 1 };

/**
 * An SDK client for `signer` on the fixture's chain, keeping its channels in `store`.
 * @example const payer = await sdkClient(f, f.alice, new SqliteChannelStore(path))
 */
export function sdkClient(
  f: Pick<Awaited<ReturnType<typeof deployFixture>>, "chainId" | "adjudicatorAddress" | "appAddress">,
  signer: Signer,
  store: ChannelStore,
  extra: Partial<PiecepayClientOptions> = {},
): Promise<PiecepayClient> {
  return PiecepayClient.create({
    signer,
    chainId: f.chainId,
    adjudicator: f.adjudicatorAddress,
    voucherApp: f.appAddress,
    store,
    ...FAST,
    ...extra,
  });
}
