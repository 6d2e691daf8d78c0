import { AbiCoder, keccak256, ZeroHash } from "ethers";
import { PiecepayError } from "./errors.js";

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
 * Refuses what ChannelStatusLib.pack refuses instead of masking it: a finalizesAt past 47 bits
 * (FINALIZES_AT_OVERFLOW, as the library's FinalizesAtOverflow), and a field outside its Solidity type
 * (STATUS_FIELD_OUT_OF_RANGE: turnNumRecord and finalizesAt are uint48, low a uint160).
 * @throws PiecepayError FINALIZES_AT_OVERFLOW or STATUS_FIELD_OUT_OF_RANGE
 * @example packStatus({ turnNumRecord: 2n, finalizesAt: 0n, lateEth: false, low: parseEther("1") })
 */
export function packStatus(status: ChannelStatus): bigint {
  for (const [field, mask] of [
    ["turnNumRecord", MASK_48],
    ["finalizesAt", MASK_48],
    ["low", MASK_160],
  ] as const) {
    const value = status[field];
    if (value < 0n || value > mask) {
      throw new PiecepayError("STATUS_FIELD_OUT_OF_RANGE", `${field} ${value} does not fit its field`);
    }
  }
  if (status.finalizesAt > MASK_47) {
    throw new PiecepayError("FINALIZES_AT_OVERFLOW", `finalizesAt ${status.finalizesAt} does not fit 47 bits`);
  }
  return (status.turnNumRecord << 208n) | (status.lateEth ? LATE_ETH : 0n) | (status.finalizesAt << 160n) | status.low;
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
