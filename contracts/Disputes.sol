// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ChannelStatus} from "./ChannelStatus.sol";
import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {IForceMoveApp} from "./interfaces/IForceMoveApp.sol";
import {ChannelId, FixedPart, Registration, SignedVariablePart, VariablePart} from "./interfaces/ChannelTypes.sol";
import {ChannelHashing} from "./libraries/ChannelHashing.sol";
import {ChannelStatusLib} from "./libraries/ChannelStatusLib.sol";

/// @title Layer 2 of the adjudicator: the dispute game (challenge, checkpoint, respond, conclude)
/// @dev Signatures are EIP-191 personal signatures over state hashes, checked with OpenZeppelin's ECDSA, which
/// rejects high-s, bad-v, wrong-length and zero-address signatures. The state hash names the channel id, which
/// binds the chain id and this contract's address.
abstract contract Disputes is ChannelStatus {
    /// @inheritdoc IAdjudicator
    /// @dev Short enough for local simulations; the SDK enforces a real safety margin when funding.
    uint48 public constant MIN_CHALLENGE_DURATION = 10 seconds;
    /// @inheritdoc IAdjudicator
    /// @dev With timestamps below 2^40 for another 30,000 years, now + duration fits the status's 47 bits.
    uint48 public constant MAX_CHALLENGE_DURATION = 365 days;

    /// @inheritdoc IAdjudicator
    function channelIdOf(FixedPart calldata fixedPart) public view returns (ChannelId) {
        return ChannelHashing.channelId(block.chainid, address(this), fixedPart);
    }

    /// @inheritdoc IAdjudicator
    function challenge(
        FixedPart calldata fixedPart,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate,
        bytes calldata challengerSig,
        Registration calldata registration
    ) external {
        ChannelId channelId = channelIdOf(fixedPart);
        (uint48 turnNumRecord, uint48 finalizesAt,, uint160 low) =
            ChannelStatusLib.unpack(_statusOf[channelId]);
        _requireNotFinalized(channelId, finalizesAt);
        uint48 turnNum = candidate.variablePart.turnNum;
        // On an open channel the record may be matched; during a challenge it must be beaten, so every answer
        // strictly raises the record and the latest state ends the game.
        if (turnNum < turnNumRecord || (finalizesAt != 0 && turnNum == turnNumRecord)) {
            revert TurnNumberTooLow(channelId, turnNumRecord, turnNum);
        }

        (bytes32 stateHash, bytes32 outcomeHash) = _requireSupported(fixedPart, channelId, proof, candidate);
        _requireChallenger(fixedPart.participants, stateHash, challengerSig);
        uint256 heldEth;
        if (finalizesAt == 0) {
            heldEth = low;
            // The one clock of the channel starts here (ADR 0005). Fits 47 bits: timestamp < 2^40 and the
            // duration is at most MAX_CHALLENGE_DURATION.
            finalizesAt = uint48(block.timestamp) + _clampedDuration(fixedPart.challengeDuration);
        } else {
            // A newer state during a challenge replaces the registered one; the deadline stays.
            heldEth = _registeredEth(channelId, low, registration);
        }
        _register(channelId, turnNum, finalizesAt, stateHash, outcomeHash, heldEth, candidate.variablePart);
    }

    /// @inheritdoc IAdjudicator
    function checkpoint(
        FixedPart calldata fixedPart,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate,
        Registration calldata registration
    ) external {
        ChannelId channelId = channelIdOf(fixedPart);
        (uint48 turnNumRecord, uint48 finalizesAt,, uint160 low) =
            ChannelStatusLib.unpack(_statusOf[channelId]);
        // On an open channel a checkpoint would raise the record to a state the other side may never have seen,
        // and lock it out of `challenge` (ADR 0005).
        if (finalizesAt == 0) revert NoOngoingChallenge(channelId);
        _requireNotFinalized(channelId, finalizesAt);
        uint48 turnNum = candidate.variablePart.turnNum;
        if (turnNum <= turnNumRecord) revert TurnNumberTooLow(channelId, turnNumRecord, turnNum);

        (bytes32 stateHash, bytes32 outcomeHash) = _requireSupported(fixedPart, channelId, proof, candidate);
        uint256 heldEth = _registeredEth(channelId, low, registration);
        _register(channelId, turnNum, finalizesAt, stateHash, outcomeHash, heldEth, candidate.variablePart);
    }

    /// @inheritdoc IAdjudicator
    function respond(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata challenged,
        SignedVariablePart calldata response,
        uint256 heldEth
    ) external {
        // The app is handed `channelId` as respond received it (see _requireValidTransition), so it must be the one.
        if (ChannelId.unwrap(channelId) != ChannelId.unwrap(channelIdOf(fixedPart))) revert WrongChannelId(channelId);
        (uint48 turnNumRecord, uint48 finalizesAt,, uint160 low) =
            ChannelStatusLib.unpack(_statusOf[channelId]);
        if (finalizesAt == 0) revert NoOngoingChallenge(channelId);
        _requireNotFinalized(channelId, finalizesAt);
        uint48 turnNum = response.variablePart.turnNum;
        // In 256 bits, so a record at the type's maximum cannot wrap around to 0.
        if (uint256(turnNum) != uint256(turnNumRecord) + 1) {
            revert TurnNumberNotNext(channelId, turnNumRecord, turnNum);
        }
        (bytes32 challengedHash, bytes32 challengedOutcomeHash) = ChannelHashing.hashState(channelId, challenged);
        if (ChannelStatusLib.fingerprint(challengedHash, challengedOutcomeHash, heldEth) != low) {
            revert FingerprintMismatch(channelId);
        }
        // A registered state is never final (challenge and checkpoint refuse one), so only the response is checked.
        if (response.variablePart.isFinal) revert StateIsFinal(turnNum);

        _requireParticipantCount(fixedPart.participants.length);
        (bytes32 stateHash, bytes32 outcomeHash) = ChannelHashing.hashState(channelId, response.variablePart);
        _requireSignatures(fixedPart.participants, stateHash, response.signedBy, response.sigs);
        _requireValidTransition(fixedPart.appDefinition);

        _register(channelId, turnNum, finalizesAt, stateHash, outcomeHash, heldEth, response.variablePart);
    }

    /// @dev Calls `app.requireValidTransition(fixedPart, channelId, challenged, response)` with respond's own call
    /// data, every byte after the selector unchanged. The two functions' first four head words are the same
    /// parameters (`heldEth` comes after them, where the app reads no parameter), so the app decodes the same bytes
    /// with the same types as respond did, and every value it reads (through any offset, negative, overlapping or
    /// pointing into the head) is the one respond read, hashed and registers. Only the four selector bytes differ:
    /// a word read at call data position 0 to 3 holds the selector's last byte in its top four bytes, nonzero on
    /// both sides (0x48 and 0x1f), above zero bytes (the first head word is an offset below 2^64). So it is at
    /// least 2^224: as an offset or a length it reverts or points far past the call data (all zeros on both
    /// sides), and as an address, uint48 or bool it is dirty (respond reads each such field and reverts). No
    /// struct or array reaches these bytes otherwise. Re-encoding the values for a high-level call cost 4,238 gas
    /// more.
    function _requireValidTransition(address app) private view {
        bytes4 selector = IForceMoveApp.requireValidTransition.selector;
        assembly ("memory-safe") {
            // As the high-level call: an app without code must not accept by succeeding silently.
            if iszero(extcodesize(app)) { revert(0, 0) }
            let p := mload(0x40)
            mstore(p, selector)
            calldatacopy(add(p, 0x04), 0x04, sub(calldatasize(), 0x04))
            if iszero(staticcall(gas(), app, p, calldatasize(), 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
    }

    /// @inheritdoc IAdjudicator
    function conclude(
        FixedPart calldata fixedPart,
        SignedVariablePart calldata candidate,
        Registration calldata registration
    ) external {
        (ChannelId channelId, bytes32 stateHash, bytes32 outcomeHash, uint48 turnNumRecord, uint256 status) =
            _requireConclusion(fixedPart, candidate);
        (, uint48 finalizesAt,, uint160 low) = ChannelStatusLib.unpack(status);
        uint256 heldEth = finalizesAt == 0 ? low : _registeredEth(channelId, low, registration);
        _statusOf[channelId] = ChannelStatusLib.pack(
            turnNumRecord,
            uint48(block.timestamp),
            false,
            ChannelStatusLib.fingerprint(stateHash, outcomeHash, heldEth)
        );
        emit Concluded(channelId, uint48(block.timestamp), heldEth);
    }

    /// @dev Makes `variablePart` the registered state, finalizing at `finalizesAt`, and publishes it: whoever
    /// registered it, the other side reads it from the event to answer or to pay out.
    function _register(
        ChannelId channelId,
        uint48 turnNum,
        uint48 finalizesAt,
        bytes32 stateHash,
        bytes32 outcomeHash,
        uint256 heldEth,
        VariablePart calldata variablePart
    ) private {
        _statusOf[channelId] = ChannelStatusLib.pack(
            turnNum, finalizesAt, false, ChannelStatusLib.fingerprint(stateHash, outcomeHash, heldEth)
        );
        if (!_emitCanonical(channelId, finalizesAt, variablePart, heldEth)) {
            emit ChallengeRegistered(
                channelId, finalizesAt, variablePart.turnNum, variablePart.outcome, variablePart.appData, heldEth
            );
        }
    }

    /// @dev Emits `ChallengeRegistered` by copying `variablePart` from the call data if it lies there as
    /// `abi.encode` writes it: the outcome first and canonical (`ChannelHashing.canonicalOutcomeSize`), the appData
    /// right after it with zero padding, a clean turn number and flag, every byte inside the call data. The copy is
    /// then the very encoding that `emit` writes. Returns false, having emitted nothing, for any other encoding.
    function _emitCanonical(
        ChannelId channelId,
        uint48 finalizesAt,
        VariablePart calldata variablePart,
        uint256 heldEth
    ) private returns (bool canonical)
    {
        uint256 outcomeSize;
        (canonical, outcomeSize) = ChannelHashing.canonicalOutcomeSize(variablePart.outcome);
        bytes32 topic = ChallengeRegistered.selector;
        assembly ("memory-safe") {
            let vp := variablePart
            // The appData's offset: after the head (4 words), the outcome's length word and the outcome.
            let appDataOffset := add(0xa0, outcomeSize)
            let appData := add(vp, appDataOffset)
            let len := calldataload(appData)
            let rem := and(len, 0x1f)
            let size := add(add(appDataOffset, 0x20), and(add(len, 0x1f), not(0x1f)))
            canonical := and(
                and(canonical, and(eq(calldataload(vp), 0x80), eq(calldataload(add(vp, 0x20)), appDataOffset))),
                and(iszero(shr(48, calldataload(add(vp, 0x40)))), iszero(shr(1, calldataload(add(vp, 0x60)))))
            )
            canonical := and(
                and(canonical, lt(len, 0x100000000)),
                and(
                    iszero(gt(add(vp, size), calldatasize())),
                    // The bytes after the appData's end in its last word are zero.
                    or(iszero(rem), iszero(shl(shl(3, rem), calldataload(add(appData, sub(add(0x20, len), rem))))))
                )
            )
            if canonical {
                // The head (finalizesAt, turnNum, the offsets of outcome and appData, heldEth), then the outcome
                // and the appData as they follow the variable part's head in the call data.
                let p := mload(0x40)
                mstore(p, finalizesAt)
                mstore(add(p, 0x20), calldataload(add(vp, 0x40)))
                mstore(add(p, 0x40), 0xa0)
                mstore(add(p, 0x60), add(0x20, appDataOffset))
                mstore(add(p, 0x80), heldEth)
                calldatacopy(add(p, 0xa0), add(vp, 0x80), sub(size, 0x80))
                log2(p, add(size, 0x20), topic, channelId)
            }
        }
    }

    /// @dev The challenge a channel gets: its duration clamped to [MIN, MAX], so that a channel funded with a
    /// duration out of range can still be challenged and paid out rather than only ever closed cooperatively.
    function _clampedDuration(uint48 duration) private pure returns (uint48) {
        if (duration < MIN_CHALLENGE_DURATION) return MIN_CHALLENGE_DURATION;
        if (duration > MAX_CHALLENGE_DURATION) return MAX_CHALLENGE_DURATION;
        return duration;
    }

    /// @dev Checks that `candidate` is a final state signed by all that may conclude the channel.
    /// @return channelId The channel's id.
    /// @return stateHash The candidate's state hash.
    /// @return outcomeHash The hash of the candidate's outcome.
    /// @return turnNumRecord The record after concluding: it never decreases.
    /// @return status The channel's status before concluding.
    function _requireConclusion(FixedPart calldata fixedPart, SignedVariablePart calldata candidate)
        internal
        view
        returns (ChannelId channelId, bytes32 stateHash, bytes32 outcomeHash, uint48 turnNumRecord, uint256 status)
    {
        channelId = channelIdOf(fixedPart);
        status = _statusOf[channelId];
        uint48 finalizesAt;
        (turnNumRecord, finalizesAt,,) = ChannelStatusLib.unpack(status);
        _requireNotFinalized(channelId, finalizesAt);
        uint48 turnNum = candidate.variablePart.turnNum;
        if (!candidate.variablePart.isFinal) revert StateNotFinal(turnNum);
        uint256 allSigned = _allSigned(fixedPart.participants.length);
        if (candidate.signedBy != allSigned) revert NotUnanimous(candidate.signedBy, allSigned);

        (stateHash, outcomeHash) = ChannelHashing.hashState(channelId, candidate.variablePart);
        _requireSignatures(fixedPart.participants, stateHash, candidate.signedBy, candidate.sigs);
        if (turnNum > turnNumRecord) turnNumRecord = turnNum;
    }

    /// @dev Reverts unless `candidate` is supported: not final, signed by every participant with no proof (the
    /// unanimity rule), or accepted by the channel's app from a proof of non-final states. Returns the candidate's
    /// state hash and outcome hash.
    function _requireSupported(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate
    ) private view returns (bytes32 stateHash, bytes32 outcomeHash) {
        uint256 allSigned = _allSigned(fixedPart.participants.length);
        (stateHash, outcomeHash) = _hashNonFinal(channelId, candidate.variablePart);
        _requireSignatures(fixedPart.participants, stateHash, candidate.signedBy, candidate.sigs);
        if (proof.length == 0 && candidate.signedBy == allSigned) return (stateHash, outcomeHash);

        for (uint256 i; i < proof.length; ++i) {
            (bytes32 proofHash,) = _hashNonFinal(channelId, proof[i].variablePart);
            _requireSignatures(fixedPart.participants, proofHash, proof[i].signedBy, proof[i].sigs);
        }
        // A high-level call to a function without return values checks that the app has code, so an app address
        // without code cannot "accept" a state by succeeding silently.
        IForceMoveApp(fixedPart.appDefinition).requireStateSupported(fixedPart, channelId, proof, candidate);
    }

    /// @dev The state hash and outcome hash of `variablePart`, which must not be final: nothing follows a final
    /// state and nothing keeps one open, it only ever concludes (ADR 0005). Reads each field once.
    function _hashNonFinal(ChannelId channelId, VariablePart calldata variablePart)
        private
        pure
        returns (bytes32 stateHash, bytes32 outcomeHash)
    {
        uint48 turnNum = variablePart.turnNum;
        if (variablePart.isFinal) revert StateIsFinal(turnNum);
        outcomeHash = ChannelHashing.outcomeHash(variablePart.outcome);
        stateHash = ChannelHashing.stateHash(channelId, turnNum, false, keccak256(variablePart.appData), outcomeHash);
    }

    /// @dev Reverts unless `sigs` holds, in ascending participant order, a valid signature of `stateHash` by each
    /// participant whose bit is set in `signedBy`. An empty signature counts only for the caller itself: sending
    /// the transaction is that participant's signature (as Safe does for an owner that calls).
    function _requireSignatures(
        address[] calldata participants,
        bytes32 stateHash,
        uint256 signedBy,
        bytes[] calldata sigs
    ) internal view {
        uint256 n = participants.length;
        if (signedBy >> n != 0) revert InvalidSignedBy(signedBy, n);
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(stateHash);
        uint256 used;
        for (uint256 i; i < n; ++i) {
            if ((signedBy >> i) & 1 == 0) continue;
            if (used == sigs.length) revert SignatureCountMismatch(_countBits(signedBy), sigs.length);
            bytes calldata sig = sigs[used];
            // Cannot overflow: used < sigs.length.
            unchecked {
                ++used;
            }
            address participant = participants[i];
            if (sig.length == 0) {
                if (participant != msg.sender) revert InvalidSignature(i);
                continue;
            }
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sig);
            if (err != ECDSA.RecoverError.NoError || signer != participant) revert InvalidSignature(i);
        }
        if (used != sigs.length) revert SignatureCountMismatch(used, sigs.length);
    }

    /// @dev The challenger is the caller, or whoever signed the challenge hash; either way a participant.
    function _requireChallenger(address[] calldata participants, bytes32 stateHash, bytes calldata challengerSig)
        private
        view
    {
        address challenger = msg.sender;
        if (challengerSig.length != 0) {
            bytes32 digest = MessageHashUtils.toEthSignedMessageHash(ChannelHashing.challengeHash(stateHash));
            ECDSA.RecoverError err;
            (challenger, err,) = ECDSA.tryRecoverCalldata(digest, challengerSig);
            if (err != ECDSA.RecoverError.NoError) revert InvalidChallengerSignature();
        }
        for (uint256 i; i < participants.length; ++i) {
            if (participants[i] == challenger) return;
        }
        revert NotAParticipant(challenger);
    }

    /// @dev The bitmask with one bit per participant; also checks the participant count.
    function _allSigned(uint256 participantCount) internal pure returns (uint256) {
        _requireParticipantCount(participantCount);
        // Cannot overflow: participantCount <= 255.
        unchecked {
            return (1 << participantCount) - 1;
        }
    }

    function _requireParticipantCount(uint256 participantCount) internal pure {
        if (participantCount == 0 || participantCount > 255) revert InvalidParticipantCount(participantCount);
    }

    function _countBits(uint256 x) private pure returns (uint256 count) {
        for (; x != 0; x >>= 1) count += x & 1;
    }
}
