// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FixedPart, Registration, SignedVariablePart} from "../../contracts/interfaces/ChannelTypes.sol";
import {HostileInvariantsBase} from "./HostileInvariantsBase.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Exit: from the first registration, a channel finalizes within one challenge duration; while open, the
/// payer can always start an exit with her funding state.
contract HostileExitInvariantsTest is HostileInvariantsBase {
    /// @notice Every exit property below, checked after every call of every run: one campaign for all of them
    /// (each still checked in each of the CI profile's 10,000 runs), rather than one campaign each: a campaign costs
    /// the same whatever it checks, and one per property made `npm test` miss its time budget.
    function invariant_exit() public {
        _checkExitWithinOneChallengeDuration();
        _checkOpenChannelRecordStaysZero();
        _checkPayerCanAlwaysStartAnExit();
    }

    /// @notice Exit (hole 3): the one clock starts at the first registration, and nothing moves the deadline past
    /// one challenge duration after it or reopens the channel; at that time the channel is finalized.
    function _checkExitWithinOneChallengeDuration() internal view {
        _assertEq(handler.deadlinePastBound(), 0, "a deadline was past the bound or the channel reopened");
        _assertEq(handler.finalizedLate(), 0, "not finalized one challenge duration after the first registration");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            if (!handler.everRegistered(c)) continue;
            (, uint48 finalizesAt,) = adjudicator.statusOf(_id(c));
            _assertTrue(finalizesAt != 0, "a registered channel is open again");
            _assertLe(finalizesAt, handler.firstRegisteredAt(c) + handler.challengeDuration(c), "deadline moved");
        }
    }

    /// @notice Exit (hole 2): the record of an open channel never rises, so the funding state, the only
    /// non-final state the payer holds signed by both, can always start an exit.
    function _checkOpenChannelRecordStaysZero() internal view {
        _assertEq(handler.openRecordRaised(), 0, "the record of an open channel rose");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            (uint48 record, uint48 finalizesAt,) = adjudicator.statusOf(_id(c));
            if (finalizesAt == 0) _assertEq(record, 0, "open channel's record");
        }
    }

    /// @notice Exit (hole 2, and durations out of range): while a channel is open, the payer's challenge with
    /// her funding state succeeds. The handler tries it for real and rolls it back whenever the record changes;
    /// on a refusal the challenge is sent again here, so that the adjudicator's own error is the failure.
    function _checkPayerCanAlwaysStartAnExit() internal {
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            (uint48 record, uint48 finalizesAt,) = adjudicator.statusOf(_id(c));
            if (finalizesAt != 0) continue;
            bool tried = handler.exitProbed(c) && handler.exitProbedRecord(c) == record;
            _assertTrue(tried, "the payer's exit was not tried at this record");
            if (handler.exitRefusal(c).length == 0) continue;
            (FixedPart memory fixedPart, SignedVariablePart memory funding) = handler.fundingChallenge(c);
            VM.warp(handler.currentTime());
            VM.prank(fixedPart.participants[0]);
            adjudicator.challenge(fixedPart, new SignedVariablePart[](0), funding, "", Registration(0, 0, 0));
            _assertTrue(false, "the payer's exit was refused, then taken");
        }
    }
}
