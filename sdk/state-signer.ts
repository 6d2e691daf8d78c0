// Node only: state hashes and state signatures for a server that makes thousands a second (the hub), the same bytes
// as stateHash (channel.ts) and signState (signatures.ts), without their cost. stateHash goes through ethers' ABI
// coder (objects, checksummed addresses and hex strings at every level); here the encoding of the one shape a state
// has is written out on bytes and hashed with @noble/hashes. signState goes through ethers' Wallet (@noble/curves in
// pure JS, plus hex round trips); here a Wallet's key signs the EIP-191 digest with libsecp256k1 (the `secp256k1`
// package's prebuilt binary, which the SDK already verifies with), or @noble/curves where the binary cannot load.
// Both are proven equal to the originals over random states and keys (test/ts/sdk/state-signer.test.ts), and the
// ABI coder stays the reference: anything outside the encoder's plain cases is handed to it.
import { createRequire } from "node:module";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BaseWallet, getAddress, type Signer } from "ethers";
import { abiChannelId, abiStateHash, installStateEncoders } from "./channel.js";
import { installStateKeySigner, signState } from "./signatures.js";
import type { FixedPart, VariablePart } from "./types.js";

const TURN_NUM_LIMIT = 1n << 48n;
const UINT256_LIMIT = 1n << 256n;
const HEX_BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;
const UINT64_LIMIT = 1n << 64n;
// An address the ABI coder (ethers' getAddress) takes with no checksum to check: all lowercase or all uppercase hex.
const PLAIN_ADDRESS = /^0x(?:[0-9a-f]{40}|[0-9A-F]{40})$/;
/** Mixed-case addresses whose checksum was found right (a server sees the same few again and again); bounded. */
const checksummed = new Set<string>();

/** Whether the ABI coder takes `address` as an address: plain hex, or mixed case with a right checksum. */
function isAddress(address: unknown): address is string {
  if (typeof address !== "string") return false;
  if (PLAIN_ADDRESS.test(address) || checksummed.has(address)) return true;
  try {
    if (getAddress(address) !== address) return false; // an ICAP address or a missing 0x: the coder's business
  } catch {
    return false;
  }
  if (checksummed.size >= 10_000) checksummed.clear();
  checksummed.add(address);
  return true;
}

/** Writes the hex digits of `hex` (after "0x", checked by the caller) into `out` at `at`. */
function putHex(out: Uint8Array, at: number, hex: string): void {
  // Buffer's decoder, not parseInt per byte: that was the encoder's largest cost in the hub's profile.
  out.set(Buffer.from(hex.slice(2), "hex"), at);
}

/** Writes `value` (0 <= value < 2^256) as a 32-byte big-endian word at `at`. */
function putUint(out: Uint8Array, at: number, value: bigint): void {
  let v = value;
  for (let j = at + 31; v > 0n; j--) {
    out[j] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function putSmall(out: Uint8Array, at: number, value: number): void {
  for (let j = at + 31, v = value; v > 0; j--, v = Math.floor(v / 256)) out[j] = v % 256;
}

/**
 * keccak256 of `abi.encode(SingleAssetExit[])`, or undefined when the outcome is not in the encoder's plain cases
 * (an address with a wrong checksum, a malformed field, an amount out of range): the ABI coder then decides.
 * Layout: offset 0x20; length n; n offsets of the exits (from after the length); each exit: asset, 0x40, length m,
 * m × (destination, amount).
 */
function outcomeHashBytes(outcome: VariablePart["outcome"]): Uint8Array | undefined {
  let words = 2 + outcome.length;
  for (const exit of outcome) words += 3 + 2 * exit.allocations.length;
  const out = new Uint8Array(32 * words);
  putSmall(out, 0, 32);
  putSmall(out, 32, outcome.length);
  let tail = 32 * outcome.length; // the next exit's offset, from the start of the offsets
  for (const [i, exit] of outcome.entries()) {
    putSmall(out, 64 + 32 * i, tail);
    const at = 64 + tail;
    if (!isAddress(exit.asset)) return undefined;
    putHex(out, at + 12, exit.asset);
    putSmall(out, at + 32, 64);
    putSmall(out, at + 64, exit.allocations.length);
    for (const [k, allocation] of exit.allocations.entries()) {
      const { destination, amount } = allocation;
      if (typeof destination !== "string" || !HEX_BYTES32.test(destination)) return undefined;
      if (typeof amount !== "bigint" || amount < 0n || amount >= UINT256_LIMIT) return undefined;
      putHex(out, at + 96 + 64 * k, destination);
      putUint(out, at + 128 + 64 * k, amount);
    }
    tail += 32 * (3 + 2 * exit.allocations.length);
  }
  return keccak_256(out);
}

/** keccak-256 of empty bytes: most states' appData (a ledger's, a virtual channel's), hashed once. */
const EMPTY_HASH = keccak_256(new Uint8Array(0));

function appDataHash(appData: string): Uint8Array {
  if (appData === "0x") return EMPTY_HASH;
  const bytes = new Uint8Array((appData.length - 2) / 2);
  putHex(bytes, 0, appData);
  return keccak_256(bytes);
}

/**
 * The 32 bytes of `stateHash(id, variablePart)`, computed on bytes (see the module's comment); for what is not a
 * plain state it returns what stateHash returns, and throws what it throws.
 * @example stateHashBytes(id, { outcome, appData: "0x", turnNum: 3n, isFinal: false })
 */
export function stateHashBytes(id: string, variablePart: VariablePart): Uint8Array {
  const { turnNum, isFinal, appData, outcome } = variablePart;
  const outcomeHash =
    typeof id === "string" &&
    HEX_BYTES32.test(id) &&
    typeof turnNum === "bigint" &&
    turnNum >= 0n &&
    turnNum < TURN_NUM_LIMIT &&
    typeof isFinal === "boolean" &&
    typeof appData === "string" &&
    HEX_BYTES.test(appData) &&
    Array.isArray(outcome)
      ? outcomeHashBytes(outcome)
      : undefined;
  if (outcomeHash === undefined) return hexToBytes(abiStateHash(id, variablePart));

  const out = new Uint8Array(160);
  putHex(out, 0, id);
  putUint(out, 32, turnNum);
  out[95] = isFinal ? 1 : 0;
  out.set(appDataHash(appData), 96);
  out.set(outcomeHash, 128);
  return keccak_256(out);
}

/**
 * `stateHash(id, variablePart)` (0x-prefixed lowercase hex), the same value several times faster.
 * @example fastStateHash(id, variablePart) === stateHash(id, variablePart)
 */
export function fastStateHash(id: string, variablePart: VariablePart): string {
  return bytesToHex(stateHashBytes(id, variablePart));
}

/**
 * `channelId(chainId, adjudicator, fixedPart)`, the same value on bytes: `abi.encode(uint256 chainId, address
 * adjudicator, address[] participants, uint64 channelNonce, address appDefinition, uint48 challengeDuration)`,
 * hashed; what is not plain goes to channelId (and its errors).
 * @example fastChannelId(31337n, adjudicator, fixedPart) === channelId(31337n, adjudicator, fixedPart)
 */
export function fastChannelId(chainId: bigint, adjudicator: string, fixedPart: FixedPart): string {
  const { participants, channelNonce, appDefinition, challengeDuration } = fixedPart;
  if (
    typeof chainId !== "bigint" ||
    chainId < 0n ||
    chainId >= UINT256_LIMIT ||
    !isAddress(adjudicator) ||
    !Array.isArray(participants) ||
    !participants.every(isAddress) ||
    typeof channelNonce !== "bigint" ||
    channelNonce < 0n ||
    channelNonce >= UINT64_LIMIT ||
    !isAddress(appDefinition) ||
    typeof challengeDuration !== "bigint" ||
    challengeDuration < 0n ||
    challengeDuration >= TURN_NUM_LIMIT
  ) {
    return abiChannelId(chainId, adjudicator, fixedPart);
  }
  const out = new Uint8Array(32 * (7 + participants.length));
  putUint(out, 0, chainId);
  putHex(out, 32 + 12, adjudicator);
  putSmall(out, 64, 6 * 32);
  putUint(out, 96, channelNonce);
  putHex(out, 128 + 12, appDefinition);
  putUint(out, 160, challengeDuration);
  putSmall(out, 192, participants.length);
  for (const [i, participant] of participants.entries()) putHex(out, 224 + 32 * i + 12, participant);
  return bytesToHex(keccak_256(out));
}

// ------------------------------------------------------------------------------------------------ signing

interface Binding {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

function loadBinding(): Binding | undefined {
  try {
    return createRequire(import.meta.url)("secp256k1/bindings") as Binding;
  } catch {
    return undefined;
  }
}

const binding = loadBinding();

/** Signs a 32-byte digest: r‖s (low s, RFC 6979 nonce, as ethers and libsecp256k1 both do) and the recovery id. */
type SignDigest = (digest: Uint8Array, key: Uint8Array) => { rs: Uint8Array; recid: number };

const nativeSign: SignDigest | undefined =
  binding &&
  ((digest, key) => {
    const { signature, recid } = binding.ecdsaSign(digest, key);
    return { rs: signature, recid };
  });

const nobleSign: SignDigest = (digest, key) => {
  const recovered = noble.sign(digest, key, { prehash: false, format: "recovered" });
  return { rs: recovered.subarray(1), recid: recovered[0] };
};

let signDigest: SignDigest = nativeSign ?? nobleSign;

/**
 * Which implementation `fastSignState` signs with: "native" (libsecp256k1) or "js" (@noble/curves); for tests and
 * benchmarks. "native" throws where the binary did not load.
 * @example useStateSignerBackend("js")
 */
export function useStateSignerBackend(backend: "native" | "js"): void {
  if (backend === "native" && nativeSign === undefined) throw new Error("libsecp256k1 did not load here");
  signDigest = backend === "native" ? (nativeSign as SignDigest) : nobleSign;
}

const PREFIX = new TextEncoder().encode("\x19Ethereum Signed Message:\n32");
/** Each wallet's key as bytes, read once (the wallet keeps it; this only spares the hex decoding). */
const keys = new WeakMap<BaseWallet, Uint8Array>();

/**
 * `signState(signer, id, variablePart)`, the same signature: a Wallet's key signs here, on bytes; any other signer
 * (a browser wallet, a remote signer) signs as signState has it do.
 * @example const signature = await fastSignState(wallet, id, variablePart)
 */
export async function fastSignState(signer: Signer, id: string, variablePart: VariablePart): Promise<string> {
  return signStateWithKey(signer, id, variablePart) ?? signState(signer, id, variablePart);
}

/** A Wallet's signature on a state, made here on bytes; undefined for any other signer. */
export function signStateWithKey(signer: Signer, id: string, variablePart: VariablePart): string | undefined {
  if (!(signer instanceof BaseWallet)) return undefined;
  let key = keys.get(signer);
  if (key === undefined) {
    key = hexToBytes(signer.signingKey.privateKey);
    keys.set(signer, key);
  }
  const message = new Uint8Array(PREFIX.length + 32);
  message.set(PREFIX);
  message.set(stateHashBytes(id, variablePart), PREFIX.length);
  const { rs, recid } = signDigest(keccak_256(message), key);
  const signature = new Uint8Array(65);
  signature.set(rs);
  signature[64] = 27 + recid;
  return bytesToHex(signature);
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array((hex.length - 2) / 2);
  putHex(out, 0, hex);
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString("hex")}`;
}

// On import (the Node entry point imports this module): every channelId, stateHash and signState of the SDK, not
// only a server's, goes through the encoders and the signer above. A payer or payee checks and signs several states
// per virtual channel; through ethers that cost its process more CPU than the hub spent (bench:hub).
installStateEncoders({ channelId: fastChannelId, stateHash: fastStateHash });
installStateKeySigner(signStateWithKey);
