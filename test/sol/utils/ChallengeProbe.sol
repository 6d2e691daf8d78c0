// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAdjudicator} from "../../../contracts/interfaces/IAdjudicator.sol";
import {FixedPart, Registration, SignedVariablePart} from "../../../contracts/interfaces/ChannelTypes.sol";
import {VM} from "./Vm.sol";

/// @notice Answers "would this challenge succeed now?" by sending it for real and rolling it back, so that a
/// handler can check that a participant can always start an exit without changing anything.
contract ChallengeProbe {
    /// @notice The challenge succeeded; reverting with this rolls it back.
    error ChallengeWouldSucceed();

    /// @notice Sends `candidate` (no proof) as `challenger`'s challenge of an open channel, then reverts: with
    /// ChallengeWouldSucceed if the adjudicator took it, otherwise with the adjudicator's own error.
    function challengeAndRollBack(
        IAdjudicator adjudicator,
        address challenger,
        FixedPart calldata fixedPart,
        SignedVariablePart calldata candidate
    ) external {
        VM.prank(challenger);
        adjudicator.challenge(fixedPart, new SignedVariablePart[](0), candidate, "", Registration(0, 0, 0));
        revert ChallengeWouldSucceed();
    }

    /// @notice Why `challenger`'s challenge with `candidate` would be refused now (empty: it would succeed).
    function refusal(
        IAdjudicator adjudicator,
        address challenger,
        FixedPart calldata fixedPart,
        SignedVariablePart calldata candidate
    ) external returns (bytes memory) {
        try this.challengeAndRollBack(adjudicator, challenger, fixedPart, candidate) {}
        catch (bytes memory reason) {
            if (keccak256(reason) == keccak256(abi.encodeWithSelector(ChallengeWouldSucceed.selector))) return "";
            // A refusal without a reason still has to read as one.
            return reason.length == 0 ? abi.encodeWithSignature("Error(string)", "challenge reverted") : reason;
        }
        // Unreachable: challengeAndRollBack always reverts.
        return abi.encodeWithSignature("Error(string)", "probe did not roll back");
    }
}
