import { AbiCoder, keccak256, ZeroHash } from "ethers";

const MASK_48 = (1n << 48n) - 1n;
const MASK_160 = (1n << 160n) - 1n;

/** A channel's unpacked on-chain status. */
export interface ChannelStatus {
  turnNumRecord: bigint;
  finalizesAt: bigint;
  fingerprint: bigint;
}

/**
 * Packs a status as the adjudicator stores it: turnNumRecord (48) | finalizesAt (48) | fingerprint (160).
 * @example packStatus({ turnNumRecord: 2n, finalizesAt: 0n, fingerprint: 0n })
 */
export function packStatus(status: ChannelStatus): bigint {
  return (
    ((status.turnNumRecord & MASK_48) << 208n) |
    ((status.finalizesAt & MASK_48) << 160n) |
    (status.fingerprint & MASK_160)
  );
}

/**
 * Unpacks a stored status word.
 * @example unpackStatus(packed).finalizesAt
 */
export function unpackStatus(packed: bigint): ChannelStatus {
  return {
    turnNumRecord: (packed >> 208n) & MASK_48,
    finalizesAt: (packed >> 160n) & MASK_48,
    fingerprint: packed & MASK_160,
  };
}

/**
 * The fingerprint binding a registered state to the outcome still owed; 0 once nothing is owed.
 * @example fingerprint(stateHash(id, vp), outcomeHash(vp.outcome))
 */
export function fingerprint(hashOfState: string, hashOfOutcome: string): bigint {
  if (hashOfOutcome === ZeroHash) return 0n;
  return (
    BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [hashOfState, hashOfOutcome]))) &
    MASK_160
  );
}
