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
    function outcomeHash(SingleAssetExit[] calldata outcome) internal pure returns (bytes32) {
        return keccak256(abi.encode(outcome));
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
