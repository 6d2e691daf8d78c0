// Helpers for the voucher payment app tests: a channel [payer = alice, payee = bob] funded by the payer with
// DEPOSIT wei, its funding state signed by both, and builders for the states the payee signs alone.
import { getBytes, hashMessage, parseEther, recoverAddress, Signature, ZeroAddress } from "ethers";
import {
  encodeVoucher,
  type SignedVariablePart,
  stateHash,
  toSigned,
  type VariablePart,
  voucherHash,
} from "../../../sdk/index.js";
import { deployFixture, ethState, type Signer, signed } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";

export const PAYER = 0;
export const PAYEE = 1;
export const DEPOSIT = parseEther("1");
/** Fixed channel nonce: the tests are deterministic (the shared fixture's default nonce is random). */
export const NONCE = 7n;
/** secp256k1 group order, to build the high-s twin of a signature. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The shared fixture plus a voucher channel funded by the payer, and its funding state (turn 1) signed by both. */
export async function fundedVoucherChannel() {
  const f = await deployFixture();
  const { alice, bob } = f;
  const { fixedPart, id } = f.channel({ channelNonce: NONCE });
  await f.adjudicator.connect(alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
  const funding = ethState(alice.address, bob.address, 1n, DEPOSIT, 0n);
  const fundingSigned = await signed(fixedPart, id, funding, [alice, bob]);
  return { ...f, fixedPart, id, funding, fundingSigned };
}

export type VoucherChannel = Awaited<ReturnType<typeof fundedVoucherChannel>>;

/** `vp` "signed" by participant `index` sending the transaction itself (an empty signature). */
export function sentByParticipant(vp: VariablePart, index: number): SignedVariablePart {
  return toSigned(vp, new Map([[index, "0x"]]));
}

/** `vp` with the given signed-by bitmask and signatures, as they are (for malformed cases). */
export function withSignatures(vp: VariablePart, signedBy: bigint, sigs: string[]): SignedVariablePart {
  return { variablePart: vp, signedBy, sigs };
}

/** appData carrying a voucher of `amount` with an arbitrary 65-byte `signature`. */
export function voucherData(amount: bigint, signature: string): string {
  return encodeVoucher({ amount, signature });
}

/** A voucher state whose outcome is given explicitly (to build outcomes the app must refuse). */
export function stateWith(
  base: VariablePart,
  turnNum: bigint,
  appData: string,
  allocations: { destination: string; amount: bigint }[],
  asset = base.outcome[0].asset,
): VariablePart {
  return { outcome: [{ asset, allocations }], appData, turnNum, isFinal: false };
}

/** The high-s twin of a valid signature: same signer under raw ecrecover, refused by a vetted ECDSA library. */
export function highS(signature: string): string {
  const sig = Signature.from(signature);
  const s = SECP256K1_N - BigInt(sig.s);
  const v = sig.v === 27 ? 28 : 27;
  return `0x${sig.r.slice(2)}${s.toString(16).padStart(64, "0")}${v.toString(16)}`;
}

/** The address a voucher signature recovers to when it is checked for `id` and `amount` (what the app reports). */
export function voucherSigner(id: string, amount: bigint, signature: string): string {
  return recoverAddress(hashMessage(getBytes(voucherHash(id, amount))), signature);
}

/** The address a state signature recovers to when it is checked against `vp` in channel `id`. */
export function stateSigner(id: string, vp: VariablePart, signature: string): string {
  return recoverAddress(hashMessage(getBytes(stateHash(id, vp))), signature);
}

/** Signs `vp` of channel `id` by one signer and returns just the signature. */
export async function stateSignature(signer: Signer, id: string, vp: VariablePart): Promise<string> {
  return signer.signMessage(getBytes(stateHash(id, vp)));
}

/** `who` challenges channel `c` with `candidate` on top of `proof`, presenting the registration the chain has. */
export async function challengeAs(
  c: VoucherChannel,
  who: Signer,
  proof: SignedVariablePart[],
  candidate: SignedVariablePart,
) {
  return c.adjudicator
    .connect(who)
    .challenge(c.fixedPart, proof, candidate, "0x", await registrationNow(c.adjudicator, c.fixedPart));
}

/** `who` checkpoints channel `c` with `candidate` on top of `proof`, presenting the registration the chain has. */
export async function checkpointAs(
  c: VoucherChannel,
  who: Signer,
  proof: SignedVariablePart[],
  candidate: SignedVariablePart,
) {
  return c.adjudicator
    .connect(who)
    .checkpoint(c.fixedPart, proof, candidate, await registrationNow(c.adjudicator, c.fixedPart));
}
