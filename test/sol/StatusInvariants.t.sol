// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdjudicatorInvariantsBase} from "./AdjudicatorInvariantsBase.sol";

/// @notice The status invariants: turn number record and finalized outcomes.
contract StatusInvariantsTest is AdjudicatorInvariantsBase {
    /// @notice Funds stay safe from replays of old states: the turn number record of a channel never decreases.
    function invariant_turnNumRecordNeverDecreases() public view {
        _assertEq(handler.turnNumRecordDecreased(), 0, "turn number record decreased");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            (uint48 record,,) = adjudicator.statusOf(_id(c));
            _assertLe(handler.maxTurnNumRecord(c), record, "record below its maximum");
        }
    }

    /// @notice Funds: once finalized, the outcome to be paid never changes. The turn number and finalization time
    /// are frozen, and the fingerprint only follows the payouts of the registered state.
    function invariant_finalizedOutcomeNeverChanges() public view {
        _assertEq(handler.finalizedChannelChanged(), 0, "a finalized channel accepted a new state");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            if (!handler.frozen(c)) continue;
            (uint48 record, uint48 finalizesAt, uint160 fingerprint) = adjudicator.statusOf(_id(c));
            _assertEq(record, handler.frozenTurnNumRecord(c), "finalized record changed");
            _assertEq(finalizesAt, handler.frozenFinalizesAt(c), "finalization time changed");
            _assertTrue(handler.frozenStateHash(c) == handler.registeredStateHash(c), "registered state changed");
            _assertEq(fingerprint, handler.expectedFingerprint(c), "fingerprint is not the registered outcome owed");
        }
    }
}
