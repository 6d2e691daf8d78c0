// ethers' getAddress, memoized: it hashes an address (keccak-256) to checksum it on every call, and the SDK checks
// the same few addresses (participants, the adjudicator, the asset) in every state it builds or reads. In a hub's
// profile these calls were a tenth of its CPU time per virtual channel.
import { getAddress as checksum } from "ethers";

/** Checksummed spellings by input; bounded, so that a process that sees many addresses keeps a few thousand. */
const spellings = new Map<string, string>();

/**
 * The checksummed address, as ethers' getAddress answers (and throws for what is not an address; nothing is kept).
 * @example checksumAddress("0x8ba1f109551bd432803012645ac136ddd64dba72") // "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
 */
export function checksumAddress(address: string): string {
  let spelled = spellings.get(address);
  if (spelled === undefined) {
    spelled = checksum(address);
    if (spellings.size >= 10_000) spellings.clear();
    spellings.set(address, spelled);
  }
  return spelled;
}
