// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {ChannelId, Registration} from "./interfaces/ChannelTypes.sol";
import {ChannelStatusLib} from "./libraries/ChannelStatusLib.sol";

/// @title Layer 1 of the adjudicator: the status of each channel, one storage slot per channel
abstract contract ChannelStatus is IAdjudicator {
    /// @dev Packed by ChannelStatusLib: turnNumRecord | lateEth | finalizesAt | ETH held or fingerprint.
    mapping(ChannelId channelId => uint256 status) internal _statusOf;

    /// @inheritdoc IAdjudicator
    function statusOf(ChannelId channelId)
        external
        view
        returns (uint48 turnNumRecord, uint48 finalizesAt, uint160 fingerprint)
    {
        uint160 low;
        (turnNumRecord, finalizesAt,, low) = ChannelStatusLib.unpack(_statusOf[channelId]);
        // An open channel's low bits are its ETH, not a fingerprint.
        if (finalizesAt != 0) fingerprint = low;
    }

    /// @inheritdoc IAdjudicator
    function isFinalized(ChannelId channelId) external view returns (bool) {
        (, uint48 finalizesAt,,) = ChannelStatusLib.unpack(_statusOf[channelId]);
        return _isFinalized(finalizesAt);
    }

    /// @dev Finalized: a finalization time was set and has passed (a conclude sets it to now).
    function _isFinalized(uint48 finalizesAt) internal view returns (bool) {
        return finalizesAt != 0 && finalizesAt <= block.timestamp;
    }

    function _requireNotFinalized(ChannelId channelId, uint48 finalizesAt) internal view {
        if (_isFinalized(finalizesAt)) revert ChannelFinalized(channelId);
    }

    /// @dev The ETH committed in the fingerprint `low` of a channel under challenge or finalized, from a
    /// registration that must match it.
    function _registeredEth(ChannelId channelId, uint160 low, Registration calldata registration)
        internal
        pure
        returns (uint256)
    {
        uint256 heldEth = registration.heldEth;
        if (ChannelStatusLib.fingerprint(registration.stateHash, registration.outcomeHash, heldEth) != low) {
            revert FingerprintMismatch(channelId);
        }
        return heldEth;
    }
}
