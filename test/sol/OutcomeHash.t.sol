// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EncodingHarness} from "../../contracts/test/EncodingHarness.sol";
import {Allocation, SingleAssetExit} from "../../contracts/interfaces/ChannelTypes.sol";
import {Assertions} from "./utils/Assertions.sol";

/// @notice `ChannelHashing.outcomeHash` hashes a canonically encoded outcome as it lies in the call data instead of
/// re-encoding it. Differential fuzzing against `keccak256(abi.encode(outcome))`: the same hash for every outcome,
/// and for every call data, canonical or mutated, the same result (the same hash, or a revert for both).
contract OutcomeHashTest is Assertions {
    EncodingHarness internal harness = new EncodingHarness();

    /// @notice Any outcome (up to 4 assets of up to 4 allocations, any values): the hash of its ABI encoding.
    function testFuzz_canonicalOutcomeHashesItsEncoding(uint256 seed) public view {
        SingleAssetExit[] memory outcome = _outcome(seed);
        _assertTrue(harness.outcomeHash(outcome) == keccak256(abi.encode(outcome)), "hash of abi.encode");
    }

    /// @notice The call data of an outcome with one word replaced (an offset or length moved, a dirty asset, a
    /// value changed) and possibly cut short: the fast path and abi.encode agree (same hash, or both revert).
    function testFuzz_mutatedCallDataAgreesWithAbiEncode(uint256 seed, uint256 at, uint256 value, uint256 kind, uint256 cut)
        public
        view
    {
        bytes memory body = abi.encode(_outcome(seed));
        uint256 words = body.length / 32;
        at = _bound(at, 0, words - 1);
        uint256 old;
        assembly ("memory-safe") {
            old := mload(add(add(body, 0x20), shl(5, at)))
        }
        kind = kind % 5;
        if (kind == 0) value = value % 0x200; // a small offset or length
        else if (kind == 1) {
            unchecked {
                value = old + 32 * (value % 5) - 64; // a neighbouring offset (wraps when small)
            }
        }
        else if (kind == 2) value = old | (1 << (160 + value % 96)); // a dirty address
        else if (kind == 3) value = old; // unchanged
        assembly ("memory-safe") {
            mstore(add(add(body, 0x20), shl(5, at)), value)
        }
        cut = _bound(cut, 0, 2) == 0 ? _bound(cut, 0, body.length) : 0;
        assembly ("memory-safe") {
            mstore(body, sub(mload(body), cut))
        }
        (bool okFast, bytes memory fast) =
            address(harness).staticcall(bytes.concat(EncodingHarness.outcomeHash.selector, body));
        (bool okReference, bytes memory expected) =
            address(harness).staticcall(bytes.concat(EncodingHarness.outcomeHashReference.selector, body));
        _assertTrue(okFast == okReference, "both succeed or both revert");
        if (okFast) _assertTrue(keccak256(fast) == keccak256(expected), "same hash");
    }

    function _outcome(uint256 seed) internal pure returns (SingleAssetExit[] memory outcome) {
        outcome = new SingleAssetExit[](seed % 5);
        for (uint256 i; i < outcome.length; ++i) {
            seed = uint256(keccak256(abi.encode(seed)));
            Allocation[] memory allocations = new Allocation[](seed % 5);
            for (uint256 j; j < allocations.length; ++j) {
                allocations[j] = Allocation(keccak256(abi.encode(seed, j, 0)), uint256(keccak256(abi.encode(seed, j))));
            }
            outcome[i] = SingleAssetExit(address(uint160(seed >> 8)), allocations);
        }
    }
}
