// Reading channel data out of hub messages. Every field is checked for its shape before anything uses it, and a
// message that does not fit is refused with INVALID_PARAMS naming the field: a hub (or a user) never acts on a
// value it could not read exactly. Writing needs nothing special: `encodeHubJson` turns bigints into decimal strings.
import { checksumAddress as getAddress } from "../address.js";
import type { Allocation, FixedPart, Outcome, SignedVariablePart, VariablePart } from "../types.js";
import { HubError, readField } from "./protocol.js";

/** Caps that keep a message's parsing cheap; a ledger with more guarantees than this is refused. */
const MAX_PARTICIPANTS = 3;
const MAX_ASSETS = 1;
const MAX_ALLOCATIONS = 64;
const MAX_APP_DATA_BYTES = 97;

function field(params: unknown, name: string): unknown {
  if (params === null || typeof params !== "object") throw new HubError("INVALID_PARAMS", "params must be an object");
  return (params as Record<string, unknown>)[name];
}

function list(value: unknown, name: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) {
    throw new HubError("INVALID_PARAMS", `${name} must be a list of at most ${max}`);
  }
  return value;
}

/**
 * A fixed part from a hub message.
 * @example const fixedPart = readFixedPart(params, "fixedPart")
 */
export function readFixedPart(params: unknown, name: string): FixedPart {
  const value = field(params, name);
  const participants = list(field(value, "participants"), `${name}.participants`, MAX_PARTICIPANTS).map((p) =>
    getAddress(readField({ p }, "p", "address").toLowerCase()),
  );
  return {
    participants,
    channelNonce: uint(value, "channelNonce", 64),
    appDefinition: getAddress(readField(value, "appDefinition", "address").toLowerCase()),
    challengeDuration: uint(value, "challengeDuration", 48),
  };
}

/**
 * A variable part from a hub message.
 * @example const state = readVariablePart(params, "state")
 */
export function readVariablePart(params: unknown, name: string): VariablePart {
  const value = field(params, name);
  const outcome = readOutcome(value, "outcome");
  const appData = readField(value, "appData", "hex");
  if ((appData.length - 2) / 2 > MAX_APP_DATA_BYTES) {
    throw new HubError("INVALID_PARAMS", `${name}.appData is over ${MAX_APP_DATA_BYTES} bytes`);
  }
  const isFinal = field(value, "isFinal");
  if (typeof isFinal !== "boolean") throw new HubError("INVALID_PARAMS", `${name}.isFinal must be a boolean`);
  return { outcome, appData, turnNum: uint(value, "turnNum", 48), isFinal };
}

/**
 * An outcome (one asset) from a hub message.
 * @example const outcome = readOutcome(params, "virtualOutcome")
 */
export function readOutcome(params: unknown, name: string): Outcome {
  return list(field(params, name), name, MAX_ASSETS).map((exit) => ({
    asset: getAddress(readField(exit, "asset", "address").toLowerCase()),
    allocations: list(field(exit, "allocations"), `${name}.allocations`, MAX_ALLOCATIONS).map(
      (allocation): Allocation => ({
        destination: readField(allocation, "destination", "hex32"),
        amount: readField(allocation, "amount", "uint"),
      }),
    ),
  }));
}

/**
 * A 65-byte signature from a hub message.
 * @example const signature = readSignature(params, "signature")
 */
export function readSignature(params: unknown, name: string): string {
  const signature = readField(params, name, "hex");
  if (signature.length !== 132) throw new HubError("INVALID_PARAMS", `${name} must be a 65-byte signature`);
  return signature;
}

/**
 * A signed variable part (`{variablePart, signedBy, sigs}`) from a hub message.
 * @example const candidate = readSignedVariablePart(params, "candidate")
 */
export function readSignedVariablePart(params: unknown, name: string): SignedVariablePart {
  const value = field(params, name);
  const sigs = list(field(value, "sigs"), `${name}.sigs`, MAX_PARTICIPANTS).map((_, i) =>
    readSignature(field(value, "sigs"), String(i)),
  );
  return { variablePart: readVariablePart(value, "variablePart"), signedBy: uint(value, "signedBy", 8), sigs };
}

function uint(value: unknown, name: string, bits: number): bigint {
  const n = readField(value, name, "uint");
  if (n >= 1n << BigInt(bits)) throw new HubError("INVALID_PARAMS", `${name} must fit ${bits} bits`);
  return n;
}
