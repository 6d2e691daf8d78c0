// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChannelId, FixedPart, SingleAssetExit, VariablePart} from "../interfaces/ChannelTypes.sol";

/// @title Channel id, state hash and outcome hash: the encodings every signature is made over
/// @dev The SDK mirrors each function; a harness exposes them so tests prove the two agree.
library ChannelHashing {
    /// @notice Domain tag of the hash a participant signs to authorize a challenge sent by someone else.
    bytes32 internal constant CHALLENGE_TYPEHASH = keccak256("piecepay.Challenge(bytes32 stateHash)");

    /// @notice The id of the channel with `fixedPart` on chain `chainId` at adjudicator `adjudicator`.
    function channelId(uint256 chainId, address adjudicator, FixedPart calldata fixedPart)
        internal
        pure
        returns (ChannelId)
    {
        return ChannelId.wrap(
            keccak256(
                abi.encode(
                    chainId,
                    adjudicator,
                    fixedPart.participants,
                    fixedPart.channelNonce,
                    fixedPart.appDefinition,
                    fixedPart.challengeDuration
                )
            )
        );
    }

    /// @notice keccak256 of the ABI encoding of `outcome`.
    /// @dev When `outcome` lies in the call data in its canonical ABI encoding (`canonicalOutcomeSize`), that
    /// encoding is the call data itself: `abi.encode(outcome)` is the word 0x20, the length and those bytes, hashed
    /// here without decoding anything. Any other input takes `abi.encode`, which decodes it (or reverts) as before.
    function outcomeHash(SingleAssetExit[] calldata outcome) internal pure returns (bytes32 hash) {
        (bool canonical, uint256 size) = canonicalOutcomeSize(outcome);
        if (!canonical) return keccak256(abi.encode(outcome));
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            mstore(add(p, 0x20), outcome.length)
            calldatacopy(add(p, 0x40), outcome.offset, size)
            hash := keccak256(p, add(size, 0x40))
        }
    }

    /// @notice Whether `outcome` lies in the call data as `abi.encode` would write it after its length word (each
    /// exit's offset where `abi.encode` puts it, each `allocations` offset 0x40, each asset a clean address, every
    /// byte inside the call data), and if so how many bytes follow the length word.
    /// @dev Reads only words inside [outcome.offset, outcome.offset + size), and checks that this range is inside
    /// the call data. The lengths are bounded (below 2^16) so that no sum overflows; a longer outcome is simply not
    /// called canonical.
    function canonicalOutcomeSize(SingleAssetExit[] calldata outcome)
        internal
        pure
        returns (bool canonical, uint256 size)
    {
        assembly ("memory-safe") {
            let start := outcome.offset
            let n := outcome.length
            // Where the next exit must start, relative to `start` (the base of the exits' offsets).
            size := shl(5, n)
            canonical := lt(n, 0x10000)
            for { let i := 0 } and(canonical, lt(i, n)) { i := add(i, 1) } {
                let exit := add(start, size)
                let m := calldataload(add(exit, 0x40))
                canonical := and(
                    and(eq(calldataload(add(start, shl(5, i))), size), iszero(shr(160, calldataload(exit)))),
                    and(eq(calldataload(add(exit, 0x20)), 0x40), lt(m, 0x10000))
                )
                // asset, allocations offset, allocations length, then (destination, amount) per allocation.
                size := add(size, add(0x60, shl(6, m)))
            }
            canonical := and(canonical, iszero(gt(add(start, size), calldatasize())))
        }
    }

    /// @notice keccak256 of the ABI encoding of `outcome` (memory copy, after payouts changed it).
    function outcomeHashMemory(SingleAssetExit[] memory outcome) internal pure returns (bytes32) {
        return keccak256(abi.encode(outcome));
    }

    /// @notice The hash that participants sign for a state.
    /// @dev Built from the outcome's hash so that callers which need both hash the outcome once.
    function stateHash(ChannelId id, uint48 turnNum, bool isFinal, bytes32 appDataHash, bytes32 outcomeHash_)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(id, turnNum, isFinal, appDataHash, outcomeHash_));
    }

    /// @notice The state hash of `variablePart` in channel `id`, and the hash of its outcome.
    function hashState(ChannelId id, VariablePart calldata variablePart)
        internal
        pure
        returns (bytes32 stateHash_, bytes32 outcomeHash_)
    {
        outcomeHash_ = outcomeHash(variablePart.outcome);
        stateHash_ =
            stateHash(id, variablePart.turnNum, variablePart.isFinal, keccak256(variablePart.appData), outcomeHash_);
    }

    /// @notice Whether a 32-byte destination is an external address (its top 96 bits are zero) rather than a
    /// channel id. A channel id is a keccak256 hash, so it has zero top 96 bits with probability 2^-96.
    function isExternal(bytes32 destination) internal pure returns (bool) {
        return uint256(destination) >> 160 == 0;
    }

    /// @notice The hash a participant signs so that another account may challenge with `stateHash` for it.
    function challengeHash(bytes32 stateHash_) internal pure returns (bytes32) {
        return keccak256(abi.encode(CHALLENGE_TYPEHASH, stateHash_));
    }
}
