// The one error the wire codec throws: a peer's bytes that are not a message of ours, or a value of ours that
// cannot be encoded. A session that catches it from a decode emits 'warning' and drops the peer.
import { PiecepayError } from "../../sdk/index.js";

/**
 * Codes of `WireError`:
 * - `MALFORMED`: wrong length, a field out of range, invalid UTF-8, bad bencode; or, when encoding, a value that
 *   does not fit its field;
 * - `TOO_LONG`: longer than the cap, rejected before any parsing;
 * - `UNKNOWN_TYPE`: a message type id we do not know;
 * - `UNSUPPORTED_VERSION`: a protocol version other than ours.
 */
export type WireErrorCode = "MALFORMED" | "TOO_LONG" | "UNKNOWN_TYPE" | "UNSUPPORTED_VERSION";

/**
 * Bytes from a peer that are not a valid paid-extension message or handshake (or a value of ours that cannot be
 * encoded). The codec throws nothing else.
 * @example try { decodeMessage(buf) } catch (e) { if (e instanceof WireError) { wire.emit("warning", e); wire.destroy() } else throw e }
 */
export class WireError extends PiecepayError<WireErrorCode> {
  override readonly name = "WireError";

  constructor(code: WireErrorCode, shortMessage: string, options: { cause?: unknown } = {}) {
    super(code, shortMessage, options);
  }
}
