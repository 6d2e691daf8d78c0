// What the CLI prints for an error from the SDK, ethers or the RPC: one clear line, never a library's raw text (a
// raw transaction, a JSON-RPC payload, "could not coalesce error").
import { isError } from "ethers";
import { ContractRevertError, decodeContractError, PiecepayError } from "../../sdk/index.js";

/** What to tell the user about `error`, and what to do about it. */
export interface Explained {
  message: string;
  hint?: string;
}

export const FUND_HINT =
  "fund the account first; on a local chain (`piecepay chain`, anvil, hardhat node): `piecepay fund <address> --amount 10`";
const RPC_HINT = "check --rpc, or start a chain with `piecepay chain`";

/**
 * One line for `error`, whatever threw it: a PiecepayError's short message; for ethers' errors, what went wrong in
 * words (no funds, no RPC, a refused request) and never the transaction or payload they carry.
 * @example out.note(`warning: ${explainError(error).message}`)
 */
export function explainError(error: unknown): Explained {
  const explained = explainAny(error);
  return { ...explained, message: scrub(explained.message) };
}

function explainAny(error: unknown): Explained {
  if (error instanceof ContractRevertError) return { message: error.shortMessage };
  if (error instanceof PiecepayError) {
    const wrapped = error.cause === undefined ? undefined : explainEthers(error.cause);
    const hint = error.message.split("\n\n")[1];
    if (error.code === "INSUFFICIENT_FUNDS") return { message: error.shortMessage, hint: FUND_HINT };
    return { message: wrapped ? `${error.shortMessage}: ${wrapped.message}` : error.shortMessage, hint };
  }
  return explainEthers(error) ?? { message: firstLine(error) };
}

/** Node's and undici's codes for a connection that failed or broke (ethers passes them through unchanged). */
const CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_\w+)$/;

function explainEthers(error: unknown): Explained | undefined {
  if (isError(error, "INSUFFICIENT_FUNDS") || /insufficient funds/i.test(nested(error))) {
    return { message: "the account cannot pay this transaction and its gas", hint: FUND_HINT };
  }
  const code = (error as { code?: unknown; cause?: { code?: unknown } })?.code;
  const causeCode = (error as { cause?: { code?: unknown } })?.cause?.code;
  if (
    isError(error, "NETWORK_ERROR") ||
    isError(error, "TIMEOUT") ||
    CONNECTION_CODES.test(String(code)) ||
    CONNECTION_CODES.test(String(causeCode)) ||
    /ECONNREFUSED|ECONNRESET|fetch failed/.test(nested(error))
  ) {
    return { message: "the RPC did not answer", hint: RPC_HINT };
  }
  if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) {
    return { message: "another transaction of this account got in first (nonce); try again" };
  }
  if (isError(error, "UNKNOWN_ERROR") || isError(error, "SERVER_ERROR") || isError(error, "BAD_DATA")) {
    const inner = nested(error).split("\n")[0].slice(0, 160);
    return { message: inner ? `the RPC refused the request: ${inner}` : "the RPC refused the request", hint: RPC_HINT };
  }
  if (isError(error, "CALL_EXCEPTION")) {
    // A piecepay custom error decodes through the ABI into its name and arguments; another one stays unnamed.
    const decoded = decodeContractError(error);
    if (decoded instanceof ContractRevertError) return { message: decoded.shortMessage };
    return { message: `the contract refused the transaction (${error.shortMessage})` };
  }
  return undefined;
}

/**
 * An error that reached us only as text (e.g. the watcher's log fields, `String(error)`), in words: a known cause
 * named, anything raw scrubbed.
 * @example out.note(`watcher: ${explainText(String(fields.error))}`)
 */
export function explainText(text: string): string {
  if (/insufficient funds/i.test(text)) return "the account cannot pay this transaction and its gas";
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|fetch failed|socket hang up/.test(text)) return "the RPC did not answer";
  return scrub(text.replace(/^\w*Error: /, "").split("\n")[0]).slice(0, 300);
}

/**
 * The last guard: whatever an explanation quotes (an RPC's message, an error's first line) loses ethers' appended
 * `(key=..., ...)`, any JSON object, and hex longer than a 32-byte word (a raw transaction or calldata).
 */
function scrub(message: string): string {
  return message
    .replace(/could not coalesce error/gi, "an error the RPC sent")
    .replace(/\s*\((?:transaction|action|data|info|code|request|payload|error|reason)=.*$/s, "")
    .replace(/\{[^{}]*"[^{}]*\}/g, "{...}")
    .replace(/0x[0-9a-fA-F]{65,}/g, (hex) => `${hex.slice(0, 10)}…`);
}

/** The RPC's own message inside an ethers error (`error.error.message`, `info.error.message`), if any. */
function nested(error: unknown): string {
  const e = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } }; cause?: unknown };
  const text = e?.error?.message ?? e?.info?.error?.message;
  return typeof text === "string" ? text : "";
}

/** The first line of a message, without the `(transaction=..., info=..., code=..., version=...)` ethers appends. */
export function firstLine(error: unknown): string {
  const e = error as { shortMessage?: unknown; message?: unknown };
  const text = typeof e?.shortMessage === "string" ? e.shortMessage : String(e?.message ?? error);
  return text
    .split("\n")[0]
    .replace(/\s*\((?:transaction|action|data|info|code|request|payload|error|reason)=.*$/, "")
    .slice(0, 300);
}
