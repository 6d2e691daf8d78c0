import { getBytes, type Signer } from "ethers";
import { challengeHash, stateHash } from "./channel.js";
import { PiecepayError } from "./errors.js";
import type { FixedPart, SignedVariablePart, VariablePart } from "./types.js";

/**
 * Signs a state of channel `id` (EIP-191 personal signature over its state hash).
 * @example const sig = await signState(signer, id, variablePart)
 */
export async function signState(signer: Signer, id: string, variablePart: VariablePart): Promise<string> {
  return keySigner?.(signer, id, variablePart) ?? signer.signMessage(getBytes(stateHash(id, variablePart)));
}

/** Signs a state with a signer's own key when it can (a wallet holding one), else answers undefined. */
export type StateKeySigner = (signer: Signer, id: string, variablePart: VariablePart) => string | undefined;

let keySigner: StateKeySigner | undefined;

/**
 * Has `signState` sign through `sign` first: the Node entry point installs libsecp256k1 on import (state-signer.ts),
 * held byte for byte equal to ethers' Wallet in its tests. Signers it answers undefined for sign as before.
 * @example installStateKeySigner(signStateWithKey)
 */
export function installStateKeySigner(sign: StateKeySigner | undefined): void {
  keySigner = sign;
}

/**
 * Signs a challenge so that another account may send it for the signer.
 * @example await signChallenge(signer, stateHash(id, vp))
 */
export async function signChallenge(signer: Signer, hashOfState: string): Promise<string> {
  return signer.signMessage(getBytes(challengeHash(hashOfState)));
}

/**
 * Collects signatures into a SignedVariablePart: `signatures` maps participant index to its signature
 * ("0x" lets the participant who sends the transaction count as signing).
 * @example toSigned(vp, new Map([[0, sigA], [1, sigB]]))
 */
export function toSigned(variablePart: VariablePart, signatures: Map<number, string>): SignedVariablePart {
  const indices = [...signatures.keys()].sort((a, b) => a - b);
  let signedBy = 0n;
  for (const i of indices) signedBy |= 1n << BigInt(i);
  return { variablePart, signedBy, sigs: indices.map((i) => signatures.get(i) as string) };
}

/**
 * Signs a state by each of `signers` (matched to participants by address) and collects the signatures.
 * @example await signByAll(fixedPart, id, vp, [alice, bob])
 */
export async function signBy(
  fixedPart: FixedPart,
  id: string,
  variablePart: VariablePart,
  signers: Signer[],
): Promise<SignedVariablePart> {
  const signatures = new Map<number, string>();
  for (const signer of signers) {
    const address = (await signer.getAddress()).toLowerCase();
    const index = fixedPart.participants.findIndex((p) => p.toLowerCase() === address);
    if (index < 0) throw new PiecepayError("NOT_A_PARTICIPANT", `${address} is not a participant`);
    signatures.set(index, await signState(signer, id, variablePart));
  }
  return toSigned(variablePart, signatures);
}
