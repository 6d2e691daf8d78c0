import { createRequire } from "node:module";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { getAddress, getBytes, keccak256 } from "ethers";

// Fast signer recovery for hot paths (a seeder checks one voucher per piece for every peer). In Node, libsecp256k1
// through the `secp256k1` package's prebuilt N-API binary recovers about 17,000 signatures/s on one core here;
// where it cannot load (a browser, an exotic platform), @noble/curves does the same in pure JS, about 800/s.

/** Half the order of secp256k1: a signature with `s` above it is the malleable twin of a valid one. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

type Recover = (signature64: Uint8Array, recoveryId: number, digest: Uint8Array) => Uint8Array;

function loadNative(): Recover | undefined {
  try {
    const native = createRequire(import.meta.url)("secp256k1/bindings") as {
      ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
    };
    return (sig, recid, digest) => native.ecdsaRecover(sig, recid, digest, false);
  } catch {
    return undefined;
  }
}

function nobleRecover(signature64: Uint8Array, recoveryId: number, digest: Uint8Array): Uint8Array {
  const recovered = new Uint8Array(65);
  recovered[0] = recoveryId;
  recovered.set(signature64, 1);
  return noble.Signature.fromBytes(recovered, "recovered").recoverPublicKey(digest).toBytes(false);
}

const native = loadNative();
let recover: Recover = native ?? nobleRecover;

/**
 * Which implementation `recoverSigner` uses: "native" (libsecp256k1) or "js" (@noble/curves).
 * @example if (signatureBackend() === "js") console.warn("slow signature checks")
 */
export function signatureBackend(): "native" | "js" {
  return recover === nobleRecover ? "js" : "native";
}

/**
 * Chooses the implementation (for benchmarks and tests); "native" throws where it cannot load.
 * @example useSignatureBackend("js")
 */
export function useSignatureBackend(backend: "native" | "js"): void {
  if (backend === "native" && !native) throw new Error("the native secp256k1 binding could not load here");
  recover = backend === "native" ? (native as Recover) : nobleRecover;
}

const PREFIX = new TextEncoder().encode("\x19Ethereum Signed Message:\n32");

/**
 * The address whose key made `signature` (65 bytes r‖s‖v) as an EIP-191 personal signature over the 32-byte
 * `digest`, with the same rules as OpenZeppelin's ECDSA on chain: `v` must be 27 or 28 and `s` in the lower half,
 * else `undefined`. Also `undefined` when the signature recovers no key.
 * @example recoverPersonalSigner(voucherHash(id, amount), voucher.signature) === payer
 */
export function recoverPersonalSigner(digest: string | Uint8Array, signature: string | Uint8Array): string | undefined {
  const sig = getBytes(signature);
  const hash = getBytes(digest);
  if (sig.length !== 65 || hash.length !== 32) return undefined;
  const v = sig[64];
  if (v !== 27 && v !== 28) return undefined;
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]);
  if (s > HALF_N) return undefined;
  const message = new Uint8Array(PREFIX.length + 32);
  message.set(PREFIX);
  message.set(hash, PREFIX.length);
  try {
    const publicKey = recover(sig.subarray(0, 64), v - 27, getBytes(keccak256(message)));
    return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`);
  } catch {
    return undefined;
  }
}
