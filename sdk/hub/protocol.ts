// The hub's API: JSON-RPC 2.0 over one WebSocket per user (ADR 0021, decision 9). Amounts travel as decimal strings
// and bytes as 0x-hex, so that any language can speak it; `encodeHubJson` and `decodeHubJson` keep bigints exact.
import { PiecepayError } from "../errors.js";

/**
 * The version of the hub API this SDK speaks; `info` reports the hub's, and a client refuses another.
 * @example if (info.api !== HUB_API_VERSION) throw new Error("hub speaks another version")
 */
export const HUB_API_VERSION = 1;

/**
 * Why a hub refused a request: the `data.reason` of a JSON-RPC error. The first five are the transport's own (a
 * message that is not JSON, not a request, a method the hub lacks, parameters it cannot read, too many requests);
 * the rest are the hub's verdicts on a request it understood.
 * @example if (e instanceof HubError && e.reason === "RATE_LIMITED") await sleep(1_000)
 */
export const HUB_ERROR_REASONS = [
  "PARSE_ERROR",
  "INVALID_REQUEST",
  "METHOD_NOT_FOUND",
  "INVALID_PARAMS",
  "RATE_LIMITED",
  "NOT_LOGGED_IN",
  "BAD_LOGIN",
  "UNKNOWN_LEDGER",
  "UNKNOWN_VIRTUAL",
  "NOT_YOURS",
  "WRONG_CHAIN",
  "BAD_FIXED_PART",
  "BAD_STATE",
  "BAD_SIGNATURE",
  "NOT_FUNDED",
  "INSUFFICIENT_BALANCE",
  "INSUFFICIENT_CAPACITY",
  "BUSY",
  "REFUSED",
  "INTERNAL",
] as const;
export type HubErrorReason = (typeof HUB_ERROR_REASONS)[number];

/** JSON-RPC 2.0's own codes for the transport errors; every other refusal is -32000 with its reason. */
const JSON_RPC_CODES: Partial<Record<HubErrorReason, number>> = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
};

/**
 * A refusal from a hub (or, on the hub's side, one to send): `reason` to branch on, a sentence for people.
 * @example try { await hub.call("ledger.latest", { ledgerId }) } catch (e) { if (e instanceof HubError && e.reason === "UNKNOWN_LEDGER") openLedger() }
 */
export class HubError extends PiecepayError<"HUB_REFUSED"> {
  override readonly name = "HubError";

  constructor(
    readonly reason: HubErrorReason,
    readonly detail: string,
  ) {
    super("HUB_REFUSED", `hub refused (${reason}): ${detail}`);
  }

  /** The JSON-RPC error object for this refusal. */
  toJsonRpc(): { code: number; message: string; data: { reason: HubErrorReason } } {
    return { code: JSON_RPC_CODES[this.reason] ?? -32000, message: this.detail, data: { reason: this.reason } };
  }
}

/**
 * JSON with bigints as decimal strings tagged by the caller's schema: every bigint becomes a string of digits.
 * @example socket.send(encodeHubJson({ jsonrpc: "2.0", id: 1, method: "info", params: {} }))
 */
export function encodeHubJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
}

/**
 * Reads a field of a hub message: throws INVALID_PARAMS naming the field when it is missing or of another shape.
 * @example const amount = readField(params, "amount", "uint")
 */
export function readField(params: unknown, field: string, kind: "uint"): bigint;
export function readField(params: unknown, field: string, kind: "hex32" | "address" | "hex" | "string"): string;
export function readField(
  params: unknown,
  field: string,
  kind: "uint" | "hex32" | "address" | "hex" | "string",
): unknown {
  if (params === null || typeof params !== "object") throw new HubError("INVALID_PARAMS", "params must be an object");
  const value = (params as Record<string, unknown>)[field];
  const bad = (what: string) => new HubError("INVALID_PARAMS", `${field} must be ${what}`);
  switch (kind) {
    case "uint": {
      if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(value)) throw bad("a decimal string");
      const n = BigInt(value);
      if (n >= 1n << 256n) throw bad("below 2^256");
      return n;
    }
    case "hex32":
      if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw bad("32 bytes of 0x-hex");
      return value.toLowerCase();
    case "address":
      if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw bad("an address");
      return value;
    case "hex":
      if (typeof value !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw bad("0x-hex bytes");
      return value.toLowerCase();
    case "string":
      if (typeof value !== "string") throw bad("a string");
      return value;
  }
}
