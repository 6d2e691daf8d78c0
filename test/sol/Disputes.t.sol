// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAdjudicator} from "../../contracts/interfaces/IAdjudicator.sol";
import {Registration, SignedVariablePart, VariablePart} from "../../contracts/interfaces/ChannelTypes.sol";
import {AdjudicatorTestBase} from "./utils/AdjudicatorTestBase.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Fuzzed turn numbers in the dispute game (docs/security.md rows 3, 4, 5 and 7): only a state at least as new
/// as the record can be registered, a stale challenge cannot stand against a newer supported state, and turn
/// numbers at the top of uint48 never wrap around.
contract DisputesFuzzTest is AdjudicatorTestBase {
    uint48 internal constant MAX_TURN = type(uint48).max;
    uint256 internal constant FUNDS = 10 ether;

    /// @notice Funds: the payer challenges with a stale state that gives it everything; a second challenge at or
    /// below it is refused, the payee's newer state replaces it before the timeout and keeps the deadline (ADR 0005),
    /// the stale state can no longer be registered, and at the payer's deadline the newer outcome is what gets paid
    /// (payee `owed`, payer the rest of the deposit).
    function testFuzz_staleChallengeCannotStandAgainstNewerState(
        uint48 staleTurn,
        uint48 newerTurn,
        uint48 lowerTurn,
        uint256 owed,
        uint256 elapsed
    ) public {
        staleTurn = uint48(_bound(staleTurn, 0, MAX_TURN - 1));
        newerTurn = uint48(_bound(newerTurn, staleTurn + 1, MAX_TURN));
        lowerTurn = uint48(_bound(lowerTurn, 0, staleTurn));
        owed = _bound(owed, 0, FUNDS);
        _deposit(address(0), FUNDS);

        VariablePart memory stale = _state(address(0), FUNDS, 0, staleTurn, false);
        _challengeByPayer(stale);
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);

        // During a challenge the record must be beaten: a state at or below it is refused.
        VariablePart memory lower = _state(address(0), FUNDS, 0, lowerTurn, false);
        Registration memory current = _registration();
        VM.expectRevert(
            abi.encodeWithSelector(IAdjudicator.TurnNumberTooLow.selector, channelId, staleTurn, lowerTurn)
        );
        _challengeByPayer(lower, current, FUNDS);

        // Any time before finalizesAt, the newer state both signed replaces the stale one; the deadline stays.
        VM.warp(block.timestamp + _bound(elapsed, 0, DURATION - 1));
        VariablePart memory newer = _state(address(0), FUNDS - owed, owed, newerTurn, false);
        Registration memory registered = _registration();
        VM.prank(payee);
        adjudicator.checkpoint(
            fixedPart, _noProof(), _signedByBoth(channelId, newer, PAYER_KEY, PAYEE_KEY), registered
        );
        _noteRegistered(newer, FUNDS);
        (uint48 record, uint48 deadline, uint160 fingerprint) = adjudicator.statusOf(channelId);
        _assertEq(record, newerTurn, "record is the newer turn");
        _assertEq(deadline, finalizesAt, "the deadline stays");
        _assertTrue(lastRegistration.stateHash == _stateHash(channelId, newer), "the newer state is registered");
        _assertEq(
            fingerprint,
            _fingerprint(lastRegistration.stateHash, lastRegistration.outcomeHash, FUNDS),
            "the fingerprint commits the newer state and the deposit"
        );

        // The stale state can never be registered again, and its outcome never paid.
        registered = lastRegistration;
        VM.expectRevert(
            abi.encodeWithSelector(IAdjudicator.TurnNumberTooLow.selector, channelId, newerTurn, staleTurn)
        );
        _challengeByPayer(stale, registered, FUNDS);
        VM.warp(finalizesAt - 1);
        VM.expectRevert(abi.encodeWithSelector(IAdjudicator.ChannelNotFinalized.selector, channelId));
        _payAll(newer);
        VM.warp(finalizesAt);
        VM.expectRevert(abi.encodeWithSelector(IAdjudicator.FingerprintMismatch.selector, channelId));
        _payAll(stale);

        // At the payer's own deadline the newer outcome is paid.
        uint256 payerBefore = payer.balance;
        uint256 payeeBefore = payee.balance;
        _payAll(newer);
        _assertEq(payee.balance - payeeBefore, owed, "payee paid the newer outcome");
        _assertEq(payer.balance - payerBefore, FUNDS - owed, "payer paid the rest");
        _assertEq(adjudicator.holdings(address(0), channelId), 0, "channel emptied");
    }

    /// @notice Funds: once the challenge duration has passed, a newer state comes too late (checkpoint, challenge
    /// and response are refused) and the registered stale outcome is paid: the payer gets the whole deposit.
    function testFuzz_newerStateAfterTimeoutIsTooLate(uint48 staleTurn, uint48 newerTurn, uint256 lateBy) public {
        staleTurn = uint48(_bound(staleTurn, 0, MAX_TURN - 1));
        newerTurn = uint48(_bound(newerTurn, staleTurn + 1, MAX_TURN));
        _deposit(address(0), FUNDS);
        VariablePart memory stale = _state(address(0), FUNDS, 0, staleTurn, false);
        _challengeByPayer(stale);
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        VM.warp(finalizesAt + _bound(lateBy, 0, 3650 days));

        VariablePart memory newer = _state(address(0), 0, FUNDS, newerTurn, false);
        SignedVariablePart memory signed = _signedByBoth(channelId, newer, PAYER_KEY, PAYEE_KEY);
        bytes memory finalized = abi.encodeWithSelector(IAdjudicator.ChannelFinalized.selector, channelId);
        Registration memory registered = lastRegistration;
        VM.prank(payee);
        VM.expectRevert(finalized);
        adjudicator.checkpoint(fixedPart, _noProof(), signed, registered);
        VM.prank(payee);
        VM.expectRevert(finalized);
        adjudicator.challenge(fixedPart, _noProof(), signed, "", registered);
        if (newerTurn == staleTurn + 1) {
            VM.prank(payee);
            VM.expectRevert(finalized);
            adjudicator.respond(fixedPart, channelId, stale, signed, registered.heldEth);
        }

        uint256 payerBefore = payer.balance;
        _payAll(stale);
        _assertEq(payer.balance - payerBefore, FUNDS, "the registered outcome is paid");
        (uint48 record, uint48 at,) = adjudicator.statusOf(channelId);
        _assertEq(record, staleTurn, "record unchanged");
        _assertEq(at, finalizesAt, "finalization time unchanged");
    }

    /// @notice Funds: a challenge registers a state only if its turn number is at least the record on an open
    /// channel (above it during a challenge); a rejected one leaves the registered outcome, which is then paid.
    /// An open channel's record is always 0 (ADR 0005): a checkpoint there is refused, so it cannot raise it.
    function testFuzz_onlyStateAtLeastAsNewAsRecordRegisters(uint48 record, uint48 turnNum, bool duringChallenge)
        public
    {
        record = uint48(_bound(record, 1, MAX_TURN));
        turnNum = uint48(_bound(turnNum, 0, MAX_TURN));
        _deposit(address(0), FUNDS);
        VariablePart memory recorded = _state(address(0), FUNDS, 0, record, false);
        if (duringChallenge) {
            _challengeByPayer(recorded);
        } else {
            SignedVariablePart memory signed = _signedByBoth(channelId, recorded, PAYER_KEY, PAYEE_KEY);
            VM.prank(payer);
            VM.expectRevert(abi.encodeWithSelector(IAdjudicator.NoOngoingChallenge.selector, channelId));
            adjudicator.checkpoint(fixedPart, _noProof(), signed, noRegistration);
            (uint48 openRecord,,) = adjudicator.statusOf(channelId);
            _assertEq(openRecord, 0, "an open channel's record stays 0");
        }
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        uint48 recordNow = duringChallenge ? record : 0;
        VariablePart memory candidate = _state(address(0), 0, FUNDS, turnNum, false);
        bool accepted = duringChallenge ? turnNum > recordNow : turnNum >= recordNow;
        Registration memory current = _registration();
        uint256 heldEth = _ethToCommit();
        if (!accepted) {
            VM.expectRevert(
                abi.encodeWithSelector(IAdjudicator.TurnNumberTooLow.selector, channelId, recordNow, turnNum)
            );
        }
        _challengeByPayer(candidate, current, heldEth);
        (uint48 newRecord, uint48 deadline,) = adjudicator.statusOf(channelId);
        _assertEq(newRecord, accepted ? turnNum : recordNow, "record");
        // A challenge during a challenge never moves the deadline; on an open channel it starts it.
        _assertEq(deadline, duringChallenge ? finalizesAt : block.timestamp + DURATION, "deadline");

        VM.warp(block.timestamp + DURATION);
        VariablePart memory registered = accepted ? candidate : recorded;
        uint256 payeeBefore = payee.balance;
        _payAll(registered);
        _assertEq(payee.balance - payeeBefore, accepted ? FUNDS : 0, "payee paid the registered outcome only");
    }

    /// @notice Funds: with the record at the top of uint48, no state can beat it (a response would need turn
    /// 2^48, which a uint48 turn number of 0 must not pass for), so the registered outcome is paid. The payer
    /// challenges just below the top; the payee's checkpoint at the top replaces it and keeps the deadline.
    function testFuzz_turnNumNearUint48MaxDoesNotWrap(uint256 gap, uint48 otherTurn) public {
        uint48 belowTop = MAX_TURN - uint48(_bound(gap, 1, 1000));
        _deposit(address(0), FUNDS);
        _challengeByPayer(_state(address(0), FUNDS, 0, belowTop, false));
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        VariablePart memory top = _state(address(0), 0, FUNDS, MAX_TURN, false);
        Registration memory current = _registration();
        VM.prank(payee);
        adjudicator.checkpoint(fixedPart, _noProof(), _signedByBoth(channelId, top, PAYER_KEY, PAYEE_KEY), current);
        _noteRegistered(top, FUNDS);
        (uint48 topRecord, uint48 deadline,) = adjudicator.statusOf(channelId);
        _assertEq(topRecord, MAX_TURN, "the record is the top");
        _assertEq(deadline, finalizesAt, "the deadline stays");

        // Nothing beats the top turn number: neither a challenge nor a checkpoint with any other turn.
        VariablePart memory other = _state(address(0), FUNDS, 0, otherTurn, false);
        SignedVariablePart memory otherSigned = _signedByBoth(channelId, other, PAYER_KEY, PAYEE_KEY);
        bytes memory tooLow =
            abi.encodeWithSelector(IAdjudicator.TurnNumberTooLow.selector, channelId, MAX_TURN, otherTurn);
        Registration memory registered = lastRegistration;
        VM.prank(payer);
        VM.expectRevert(tooLow);
        adjudicator.challenge(fixedPart, _noProof(), otherSigned, "", registered);
        VM.prank(payer);
        VM.expectRevert(tooLow);
        adjudicator.checkpoint(fixedPart, _noProof(), otherSigned, registered);
        // A response must be turn 2^48: turn 0 (what MAX_TURN + 1 wraps to) or any other is not next.
        VariablePart memory wrapped = _state(address(0), FUNDS, 0, otherTurn, false);
        SignedVariablePart memory response = _signedByPayee(channelId, wrapped, PAYEE_KEY, true);
        VM.prank(payee);
        VM.expectRevert(
            abi.encodeWithSelector(IAdjudicator.TurnNumberNotNext.selector, channelId, MAX_TURN, otherTurn)
        );
        adjudicator.respond(fixedPart, channelId, top, response, registered.heldEth);

        VM.warp(block.timestamp + DURATION);
        uint256 payeeBefore = payee.balance;
        _payAll(top);
        _assertEq(payee.balance - payeeBefore, FUNDS, "registered top-turn outcome paid");
        (uint48 record,,) = adjudicator.statusOf(channelId);
        _assertEq(record, MAX_TURN, "record stays at the maximum");
    }

    /// @notice Funds: a cooperative close during a challenge, with a final state below the record, pays that final
    /// outcome but keeps the record (it never decreases), including at the top of uint48. (An open channel's record
    /// is always 0, ADR 0005, so the record to keep is a challenge's.)
    function testFuzz_concludeNeverLowersRecord(uint48 record, uint48 finalTurn, uint256 owed) public {
        record = uint48(_bound(record, 1, MAX_TURN));
        owed = _bound(owed, 0, FUNDS);
        _deposit(address(0), FUNDS);
        _challengeByPayer(_state(address(0), FUNDS, 0, record, false));
        VariablePart memory closing = _state(address(0), FUNDS - owed, owed, finalTurn, true);
        Registration memory current = _registration();
        VM.prank(payee);
        adjudicator.conclude(fixedPart, _signedByBoth(channelId, closing, PAYER_KEY, PAYEE_KEY), current);
        (uint48 newRecord, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        _assertEq(newRecord, finalTurn > record ? finalTurn : record, "record is the maximum");
        _assertEq(finalizesAt, block.timestamp, "finalized at once");
        uint256 payeeBefore = payee.balance;
        uint256 payerBefore = payer.balance;
        adjudicator.transferAllAssets(channelId, _stateHash(channelId, closing), closing.outcome, FUNDS);
        _assertEq(payee.balance - payeeBefore, owed, "payee paid the final outcome");
        _assertEq(payer.balance - payerBefore, FUNDS - owed, "payer paid the rest");
        _assertEq(adjudicator.holdings(address(0), channelId), 0, "channel emptied");
    }
}
