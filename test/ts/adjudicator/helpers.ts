// Helpers for the adjudicator unit tests: a 2-party ETH channel [alice, bob] funded by alice with DEPOSIT wei,
// builders for its states, and tools to break signatures in the ways docs/security.md row 1 lists.
import { concat, dataSlice, parseEther, Signature, ZeroAddress } from "ethers";
import {
  fingerprint,
  outcomeHash,
  type SignedVariablePart,
  stateHash,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { TestToken__factory } from "../../../typechain-types/index.js";
import { DURATION, deployFixture, ethState, networkHelpers, type Signer, signed } from "../helpers/fixtures.js";
import { committedEthFor, registrationNow } from "../helpers/registration.js";
import { highS } from "../voucher/helpers.js";

export { highS };

/** What alice deposits into the channel. */
export const DEPOSIT = parseEther("1");
/** Fixed channel nonce: the tests are deterministic (the shared fixture's default nonce is random). */
export const NONCE = 1n;
export const MIN_DURATION = 10n;
export const MAX_DURATION = 365n * 24n * 3600n;
export const MAX_UINT48 = 2n ** 48n - 1n;
export const ALICE = 0;
export const BOB = 1;

/** The shared fixture, a plain ERC-20, and channel [alice, bob] (nonce NONCE) holding DEPOSIT wei from alice. */
export async function fundedFixture() {
  const f = await deployFixture();
  const { alice, bob } = f;
  const { fixedPart, id } = f.channel({ channelNonce: NONCE });
  await f.adjudicator.connect(alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
  const token = await new TestToken__factory(f.deployer).deploy();
  await token.mint(alice.address, 1_000_000n);
  /** A state of this channel paying alice `aliceGets` and bob `bobGets` wei. */
  const state = (turnNum: bigint, aliceGets: bigint, bobGets: bigint, opts: { isFinal?: boolean } = {}) =>
    ethState(alice.address, bob.address, turnNum, aliceGets, bobGets, opts);
  /** `vp` of this channel signed by alice and bob. */
  const byBoth = (vp: VariablePart) => signed(fixedPart, id, vp, [alice, bob]);
  return { ...f, fixedPart, id, token, state, byBoth };
}

export type Funded = Awaited<ReturnType<typeof fundedFixture>>;

/** `vp` with the given signed-by bitmask and signatures, as they are (for malformed cases). */
export function withSignatures(vp: VariablePart, signedBy: bigint, sigs: string[]): SignedVariablePart {
  return { variablePart: vp, signedBy, sigs };
}

/** `vp` "signed" by participant `index` sending the transaction itself (an empty signature). */
export function sentByParticipant(vp: VariablePart, index: number): SignedVariablePart {
  return toSigned(vp, new Map([[index, "0x"]]));
}

/** Replaces signature `position` (in `sigs` order) of `svp` by `sig`. */
export function replaceSig(svp: SignedVariablePart, position: number, sig: string): SignedVariablePart {
  const sigs = [...svp.sigs];
  sigs[position] = sig;
  return { ...svp, sigs };
}

/** The signature with its last byte (v) set to `v`. */
export function withV(signature: string, v: number): string {
  return concat([dataSlice(signature, 0, 64), new Uint8Array([v])]);
}

/** A 65-byte signature with r = 0: ecrecover returns address 0 for it. */
export const ZERO_RECOVERING = concat([new Uint8Array(32), new Uint8Array(31), new Uint8Array([1, 27])]);

/** The EIP-2098 compact (64-byte) form of a signature: same signer, but not 65 bytes. */
export function compact(signature: string): string {
  return Signature.from(signature).compactSerialized;
}

/**
 * The fingerprint the adjudicator stores for `vp` registered in channel `id` with its whole outcome owed and
 * `heldEth` committed (DEPOSIT unless a test funds the channel otherwise).
 */
export function fingerprintOf(id: string, vp: VariablePart, heldEth: bigint = DEPOSIT): bigint {
  return fingerprint(stateHash(id, vp), outcomeHash(vp.outcome), heldEth);
}

/** Pays out the registered outcome of `vp` with transferAllAssets, sent by `caller`. */
export async function payOut(c: Funded, vp: VariablePart, caller: Signer) {
  return c.adjudicator
    .connect(caller)
    .transferAllAssets(
      c.id,
      stateHash(c.id, vp),
      vp.outcome,
      await committedEthFor(c.adjudicator, c.id, stateHash(c.id, vp), vp.outcome),
    );
}

/** Alice challenges with `vp` signed by both; resolves to the challenge's finalizesAt. */
export async function challengeWith(c: Funded, vp: VariablePart, sender: Signer = c.alice): Promise<bigint> {
  await c.adjudicator
    .connect(sender)
    .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
  const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
  return finalizesAt;
}

/** Alice challenges with `vp` signed by both and the challenge duration runs out: `vp` is final. */
export async function finalizeWith(c: Funded, vp: VariablePart): Promise<void> {
  await challengeWith(c, vp);
  await networkHelpers.time.increase(DURATION);
}

/**
 * The `withArgs` matchers for the registered state in `ChallengeRegistered` (turnNum, outcome, appData): equal to
 * `vp`'s field by field. Spread them between finalizesAt and heldEth. The event has no isFinal: a registered state
 * is never final.
 */
export function sameVariablePart(vp: VariablePart) {
  const plain = toPlain(vp);
  return [
    vp.turnNum,
    (got: unknown) =>
      json(toPlain({ ...plain, outcome: got as VariablePart["outcome"] }).outcome) === json(plain.outcome),
    vp.appData,
  ] as const;
}

/** JSON with bigints as decimal strings. */
function json(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** An ethers Result (or a plain object) with the shape of a VariablePart, as plain data with bigint amounts. */
export function toPlain(value: unknown): VariablePart {
  const v = value as VariablePart;
  return {
    outcome: v.outcome.map((exit) => ({
      asset: exit.asset,
      allocations: exit.allocations.map((a) => ({ destination: a.destination.toLowerCase(), amount: a.amount })),
    })),
    appData: v.appData,
    turnNum: v.turnNum,
    isFinal: v.isFinal,
  };
}
