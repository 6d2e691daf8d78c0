import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { getBytes, hexlify } from "ethers";
import { checksumAddress as getAddress } from "./address.js";
import { PiecepayError } from "./errors.js";

// Fast signer recovery for hot paths (a seeder checks one voucher per piece for every peer). Everywhere,
// @noble/curves in pure JS; in Node, the Node entry point (sdk/node.ts, through native-recover.ts) installs
// libsecp256k1 from the `secp256k1` package's prebuilt N-API binary, an order of magnitude faster. This module
// imports nothing of Node, so that the universal entry point loads in a browser. Hashing stays on bytes throughout
// (no hex round trips, no checksummed addresses), which matters as much as the curve arithmetic at these rates.

/** Half the order of secp256k1: a signature with `s` above it is the malleable twin of a valid one. */
const HALF_N = getBytes("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

/** Recovers the uncompressed public key (65 bytes) from a 64-byte r‖s signature, its recovery id and the digest. */
export type Recover = (signature64: Uint8Array, recoveryId: number, digest: Uint8Array) => Uint8Array;

function nobleRecover(signature64: Uint8Array, recoveryId: number, digest: Uint8Array): Uint8Array {
  const recovered = new Uint8Array(65);
  recovered[0] = recoveryId;
  recovered.set(signature64, 1);
  return noble.Signature.fromBytes(recovered, "recovered").recoverPublicKey(digest).toBytes(false);
}

let native: Recover | undefined;
let recover: Recover = nobleRecover;

/**
 * Makes `fast` the native backend and selects it: what the Node entry point does on import. Not exported by an
 * entry point: the runtime chooses the backend, not the user.
 */
export function installNativeRecover(fast: Recover): void {
  native = fast;
  recover = fast;
}

/**
 * Which implementation `recoverPersonalSigner` uses: "native" (libsecp256k1, in Node once `piecepay/sdk/node` or
 * `piecepay/sdk` under Node's resolver is loaded) or "js" (@noble/curves, everywhere else).
 * @example if (signatureBackend() === "js") console.warn("slow signature checks")
 */
export function signatureBackend(): "native" | "js" {
  return recover === nobleRecover ? "js" : "native";
}

/**
 * Chooses the implementation (for benchmarks and tests).
 * @throws PiecepayError NATIVE_BACKEND_UNAVAILABLE for "native" where it is not installed (a browser, or a Node
 * process that loaded neither Node entry point, or where the binary could not load)
 * @example useSignatureBackend("js")
 */
export function useSignatureBackend(backend: "native" | "js"): void {
  if (backend === "native" && !native) {
    throw new PiecepayError(
      "NATIVE_BACKEND_UNAVAILABLE",
      "no native secp256k1 backend here: import piecepay/sdk/node in Node (a browser has none)",
    );
  }
  recover = backend === "native" ? (native as Recover) : nobleRecover;
}

const PREFIX = new TextEncoder().encode("\x19Ethereum Signed Message:\n32");
const message = new Uint8Array(PREFIX.length + 32);
message.set(PREFIX);

/**
 * The 20 bytes of the address whose key made `sig` (r‖s‖v) as an EIP-191 personal signature over `digest`, under
 * OpenZeppelin's ECDSA rules (65 bytes, `v` 27 or 28, low `s`); `undefined` otherwise or when no key recovers.
 */
export function recoverPersonalSignerBytes(digest: Uint8Array, sig: Uint8Array): Uint8Array | undefined {
  if (sig.length !== 65 || digest.length !== 32) return undefined;
  const v = sig[64];
  if (v !== 27 && v !== 28) return undefined;
  // s <= n/2, compared byte by byte (cheaper than building a bigint on every call)
  for (let i = 0; i < 32; i++) {
    if (sig[32 + i] !== HALF_N[i]) {
      if (sig[32 + i] > HALF_N[i]) return undefined;
      break;
    }
  }
  message.set(digest, PREFIX.length);
  try {
    const publicKey = recover(sig.subarray(0, 64), v - 27, keccak_256(message));
    return keccak_256(publicKey.subarray(1)).subarray(12);
  } catch {
    return undefined;
  }
}

/**
 * The address whose key made `signature` (65 bytes r‖s‖v) as an EIP-191 personal signature over the 32-byte
 * `digest`, with the same rules as OpenZeppelin's ECDSA on chain: `v` must be 27 or 28 and `s` in the lower half,
 * else `undefined`. Also `undefined` when the signature recovers no key.
 * @example recoverPersonalSigner(voucherHash(id, amount), voucher.signature) === payer
 */
export function recoverPersonalSigner(digest: string | Uint8Array, signature: string | Uint8Array): string | undefined {
  const address = recoverPersonalSignerBytes(getBytes(digest), getBytes(signature));
  return address && getAddress(hexlify(address));
}
