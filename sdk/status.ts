import { AbiCoder, keccak256, ZeroHash } from "ethers";

const MASK_47 = (1n << 47n) - 1n;
const MASK_48 = (1n << 48n) - 1n;
const MASK_160 = (1n << 160n) - 1n;
const LATE_ETH = 1n << 207n;

/** A channel's unpacked on-chain status word. */
export interface ChannelStatus {
  turnNumRecord: bigint;
  finalizesAt: bigint;
  /** Whether ETH was credited to the channel while its ETH was committed (kept apart until paid or reopened). */
  lateEth: boolean;
  /** While open (finalizesAt 0): the channel's ETH holdings; otherwise the fingerprint. */
  low: bigint;
}

/**
 * Packs a status as the adjudicator stores it: turnNumRecord (48) | lateEth (1) | finalizesAt (47) | low (160).
 * @example packStatus({ turnNumRecord: 2n, finalizesAt: 0n, lateEth: false, low: parseEther("1") })
 */
export function packStatus(status: ChannelStatus): bigint {
  return (
    ((status.turnNumRecord & MASK_48) << 208n) |
    (status.lateEth ? LATE_ETH : 0n) |
    ((status.finalizesAt & MASK_47) << 160n) |
    (status.low & MASK_160)
  );
}

/**
 * Unpacks a stored status word.
 * @example unpackStatus(packed).finalizesAt
 */
export function unpackStatus(packed: bigint): ChannelStatus {
  return {
    turnNumRecord: (packed >> 208n) & MASK_48,
    finalizesAt: (packed >> 160n) & MASK_47,
    lateEth: (packed & LATE_ETH) !== 0n,
    low: packed & MASK_160,
  };
}

/**
 * The fingerprint binding a registered state, the outcome still owed and the ETH committed with them; 0 once
 * nothing is owed or held.
 * @example fingerprint(stateHash(id, vp), outcomeHash(vp.outcome), heldEth)
 */
export function fingerprint(hashOfState: string, hashOfOutcome: string, heldEth: bigint): bigint {
  if (hashOfOutcome === ZeroHash && heldEth === 0n) return 0n;
  return (
    BigInt(
      keccak256(
        AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint256"], [hashOfState, hashOfOutcome, heldEth]),
      ),
    ) & MASK_160
  );
}
