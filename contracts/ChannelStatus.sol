// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {ChannelId} from "./interfaces/ChannelTypes.sol";
import {ChannelStatusLib} from "./libraries/ChannelStatusLib.sol";

/// @title Layer 1 of the adjudicator: the status of each channel, one storage slot per channel
abstract contract ChannelStatus is IAdjudicator {
    /// @dev Packed by ChannelStatusLib: turnNumRecord | finalizesAt | fingerprint.
    mapping(ChannelId channelId => uint256 status) internal _statusOf;

    /// @inheritdoc IAdjudicator
    function statusOf(ChannelId channelId)
        external
        view
        returns (uint48 turnNumRecord, uint48 finalizesAt, uint160 fingerprint)
    {
        return ChannelStatusLib.unpack(_statusOf[channelId]);
    }

    /// @inheritdoc IAdjudicator
    function isFinalized(ChannelId channelId) external view returns (bool) {
        (, uint48 finalizesAt,) = ChannelStatusLib.unpack(_statusOf[channelId]);
        return _isFinalized(finalizesAt);
    }

    /// @dev Finalized: a finalization time was set and has passed (a conclude sets it to now).
    function _isFinalized(uint48 finalizesAt) internal view returns (bool) {
        return finalizesAt != 0 && finalizesAt <= block.timestamp;
    }

    function _requireNotFinalized(ChannelId channelId, uint48 finalizesAt) internal view {
        if (_isFinalized(finalizesAt)) revert ChannelFinalized(channelId);
    }

    /// @dev Reverts unless `channelId` finalized with the given state hash and outcome still owed.
    function _requireFinalizedOutcome(ChannelId channelId, bytes32 stateHash, bytes32 outcomeHash)
        internal
        view
        returns (uint48 turnNumRecord, uint48 finalizesAt)
    {
        uint160 fingerprint;
        (turnNumRecord, finalizesAt, fingerprint) = ChannelStatusLib.unpack(_statusOf[channelId]);
        if (!_isFinalized(finalizesAt)) revert ChannelNotFinalized(channelId);
        // A zero fingerprint means nothing is owed; no outcome matches it.
        if (fingerprint == 0 || ChannelStatusLib.fingerprint(stateHash, outcomeHash) != fingerprint) {
            revert FingerprintMismatch(channelId);
        }
    }
}
