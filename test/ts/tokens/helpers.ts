// Helpers for the ERC-20 tests: the shared fixture plus one of each test token, minted to alice and bob, and
// builders for token deposits and final states signed by both (a cooperative close, where the app has no say).
import { type FixedPart, type Outcome, type SignedVariablePart, stateHash, toDestination } from "../../../sdk/index.js";
import {
  FalseReturningToken__factory,
  FeeOnTransferToken__factory,
  NoReturnToken__factory,
  RebasingToken__factory,
  SenderFeeToken__factory,
  SwitchableFalseToken__factory,
  TestToken__factory,
} from "../../../typechain-types/index.js";
import { deployFixture, type Signer, signed } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";

/** What every participant starts with, in each token. */
export const MINTED = 1_000_000n;

/** The shared fixture and one of each test token, MINTED to alice and to bob. */
export async function tokensFixture() {
  const f = await deployFixture();
  const { deployer, alice, bob } = f;
  const tokens = {
    plain: await new TestToken__factory(deployer).deploy(),
    noReturn: await new NoReturnToken__factory(deployer).deploy(),
    falseReturning: await new FalseReturningToken__factory(deployer).deploy(),
    switchable: await new SwitchableFalseToken__factory(deployer).deploy(),
    fee: await new FeeOnTransferToken__factory(deployer).deploy(),
    rebasing: await new RebasingToken__factory(deployer).deploy(),
    senderFee: await new SenderFeeToken__factory(deployer).deploy(),
  };
  for (const token of Object.values(tokens)) {
    await token.mint(alice.address, MINTED);
    await token.mint(bob.address, MINTED);
  }
  /** Channels [alice, bob] with fixed nonces, so that the tests are deterministic. */
  const channels = [1n, 2n, 3n].map((channelNonce) => f.channel({ channelNonce }));
  return { ...f, ...tokens, channels };
}

export type TokensContext = Awaited<ReturnType<typeof tokensFixture>>;

/** Any of the test tokens, as far as these helpers use it. */
export interface Token {
  getAddress(): Promise<string>;
  balanceOf(account: string): Promise<bigint>;
  connect(runner: Signer): {
    approve(spender: string, amount: bigint): Promise<unknown>;
  };
}

/** `from` approves the adjudicator and deposits `amount` into `id`, reading the holdings for expectedHeld. */
export async function depositToken(c: TokensContext, token: Token, from: Signer, id: string, amount: bigint) {
  await token.connect(from).approve(c.adjudicatorAddress, amount);
  const asset = await token.getAddress();
  const held = await c.adjudicator.holdings(asset, id);
  return c.adjudicator.connect(from).deposit(asset, id, held, amount);
}

/** An outcome of one asset paying `amounts` to external addresses or channel ids (32-byte hex) in order. */
export function exit(asset: string, payees: [string, bigint][]): Outcome[number] {
  return {
    asset,
    allocations: payees.map(([to, amount]) => ({
      destination: to.length === 42 ? toDestination(to) : to,
      amount,
    })),
  };
}

/** A final state with `outcome`, signed by alice and bob. */
export async function finalState(
  c: TokensContext,
  channel: { fixedPart: FixedPart; id: string },
  outcome: Outcome,
  turnNum = 10n,
): Promise<SignedVariablePart> {
  return signed(channel.fixedPart, channel.id, { outcome, appData: "0x", turnNum, isFinal: true }, [c.alice, c.bob]);
}

/** Concludes `channel` with a final `outcome` (no payout yet); returns the state hash to pay it out with. */
export async function concludeWith(
  c: TokensContext,
  channel: { fixedPart: FixedPart; id: string },
  outcome: Outcome,
): Promise<string> {
  const candidate = await finalState(c, channel, outcome);
  await c.adjudicator
    .connect(c.alice)
    .conclude(channel.fixedPart, candidate, await registrationNow(c.adjudicator, channel.fixedPart));
  return stateHash(channel.id, candidate.variablePart);
}

/** The sum of the channels' holdings of `asset`. */
export async function totalHeld(c: TokensContext, asset: string, ids: string[]): Promise<bigint> {
  let total = 0n;
  for (const id of ids) total += await c.adjudicator.holdings(asset, id);
  return total;
}
