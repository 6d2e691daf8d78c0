// Test files' contents: bytes that no compressor shortens, the same in every run for the same seed.
import { createHash } from "node:crypto";

/** `length` bytes: SHA-256 of `${seed} ${i}` for i = 0, 1, ..., cut to length. */
export function fileBytes(length: number, seed: string): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0, i = 0; at < length; at += 32, i++) {
    out.set(
      createHash("sha256")
        .update(`${seed} ${i}`)
        .digest()
        .subarray(0, Math.min(32, length - at)),
      at,
    );
  }
  return out;
}
