// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdjudicatorInvariantsBase} from "./AdjudicatorInvariantsBase.sol";

/// @notice The status invariants: turn number record, challenge deadlines and finalized outcomes.
contract StatusInvariantsTest is AdjudicatorInvariantsBase {
    /// @notice Every status property below, checked after every call of every run: one campaign for all of them
    /// (each still checked in each of the CI profile's 10,000 runs), rather than one campaign each: a campaign costs
    /// the same whatever it checks, and one per property made `npm test` miss its time budget.
    function invariant_status() public view {
        _checkTurnNumRecordNeverDecreases();
        _checkChallengeDeadlineNeverMoves();
        _checkFinalizedOutcomeNeverChanges();
    }

    /// @notice Funds stay safe from replays of old states: the turn number record of a channel never decreases.
    function _checkTurnNumRecordNeverDecreases() internal view {
        _assertEq(handler.turnNumRecordDecreased(), 0, "turn number record decreased");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            (uint48 record,,) = adjudicator.statusOf(_id(c));
            _assertLe(handler.maxTurnNumRecord(c), record, "record below its maximum");
        }
    }

    /// @notice Funds: one clock per dispute (ADR 0005). A registered channel finalizes at the time its first
    /// challenge (or a conclusion) set, whatever answers or newer challenges replaced its state since; an open
    /// channel has no deadline, and no checkpoint can raise its record.
    function _checkChallengeDeadlineNeverMoves() internal view {
        _assertEq(handler.deadlineMoved(), 0, "an answer or a newer challenge moved the deadline");
        _assertEq(handler.openChannelCheckpointed(), 0, "a checkpoint raised the record of an open channel");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            (, uint48 finalizesAt,) = adjudicator.statusOf(_id(c));
            _assertEq(finalizesAt, handler.registered(c) ? handler.registeredFinalizesAt(c) : 0, "deadline");
        }
    }

    /// @notice Funds: once finalized, the outcome to be paid never changes. The turn number and finalization time
    /// are frozen, and the fingerprint only follows the payouts of the registered state.
    function _checkFinalizedOutcomeNeverChanges() internal view {
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
