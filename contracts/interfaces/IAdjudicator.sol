// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    ChannelId, FixedPart, Owed, Registration, SignedVariablePart, SingleAssetExit, VariablePart
} from "./ChannelTypes.sol";

/// @title The piecepay adjudicator: holds channel deposits and settles disputes about them
/// @notice Life of a channel: participants sign states off chain and deposit into its id. A cooperative close
/// (`conclude` with a final state signed by all) finalizes at once. Otherwise a participant `challenge`s with a
/// supported non-final state, which starts the one clock of the channel: it finalizes `challengeDuration` seconds
/// later (ADR 0005). Until then anyone may replace the registered state with a newer supported one (`checkpoint`,
/// `respond` with a single move, or another `challenge`); a replacement never moves the deadline and never
/// reopens the channel, and every registration carries its state in `ChallengeRegistered`. So whatever one side
/// registers, the other can answer it or simply wait one challenge duration and pay out with public data. When the
/// time runs out the registered outcome is final and anyone may pay it out with `transfer` or `transferAllAssets`.
/// A final state ends a channel only through `conclude`: it is never a challenge, a base in a proof, or a state
/// to build on.
/// An allocation whose destination is another channel's id is a guarantee (ADR 0021): no payout ever pays it, and
/// `reclaim` turns it into allocations to the ledger's two participants by what the guaranteed channel owes.
/// @dev Status of a channel, one storage slot: turnNumRecord (48 bits) | reserved (1) | finalizesAt (47) | low
/// (160). finalizesAt == 0: open; finalizesAt > now: challenge ongoing; 0 < finalizesAt <= now: finalized.
/// While open, the low bits are the channel's ETH holdings. A challenge or a conclusion replaces them with the
/// fingerprint, which binds the registered state hash, the hash of the outcome still owed and the ETH committed
/// with them (zero once nothing is owed or held). From then on whoever answers, challenges again, concludes or
/// pays out presents these three (a `Registration`, from the event that registered them). The reserved bit
/// once marked ETH credited by another channel's payout; no payout credits a channel any more, so it stays zero.
/// This way the first deposit, a challenge and a payout all write the one slot (see docs/gas.md).
interface IAdjudicator {
    // ------------------------------------------------------------------------------------------------ errors

    /// @notice The channel has finalized: its outcome can only be paid out.
    error ChannelFinalized(ChannelId channelId);
    /// @notice The channel has not finalized yet, so nothing can be paid out.
    error ChannelNotFinalized(ChannelId channelId);
    /// @notice There is no challenge to answer: `respond` and `checkpoint` only replace a registered state.
    error NoOngoingChallenge(ChannelId channelId);
    /// @notice The state is not newer than the record (equal is allowed only for a challenge on an open channel).
    error TurnNumberTooLow(ChannelId channelId, uint48 turnNumRecord, uint48 turnNum);
    /// @notice A response must have exactly the turn number after the challenged state's.
    error TurnNumberNotNext(ChannelId channelId, uint48 turnNumRecord, uint48 turnNum);
    /// @notice `respond` was given a channel id other than its fixed part's.
    error WrongChannelId(ChannelId channelId);
    /// @notice The given state and outcome are not the ones registered for the channel.
    error FingerprintMismatch(ChannelId channelId);
    /// @notice `conclude` needs a state with `isFinal` set.
    error StateNotFinal(uint48 turnNum);
    /// @notice The state must be signed by every participant (`required` is the full bitmask).
    error NotUnanimous(uint256 signedBy, uint256 required);
    /// @notice A channel needs between 1 and 255 participants.
    error InvalidParticipantCount(uint256 count);
    /// @notice `signedBy` names a participant index that does not exist.
    error InvalidSignedBy(uint256 signedBy, uint256 participantCount);
    /// @notice The number of signatures differs from the number of bits set in `signedBy`.
    error SignatureCountMismatch(uint256 expected, uint256 given);
    /// @notice The signature for participant `participantIndex` is malformed, malleable (high s), has a `v` other
    /// than 27 or 28, recovers to the zero address or to someone else, or is empty while that participant is not
    /// the caller.
    error InvalidSignature(uint256 participantIndex);
    /// @notice Only a participant (as the caller, or by signing the challenge) may challenge.
    error NotAParticipant(address account);
    /// @notice The challenger's signature is malformed, malleable or recovers to the zero address.
    error InvalidChallengerSignature();
    /// @notice A final state was given where it could be built on or kept open: as the candidate of a challenge,
    /// checkpoint or response, or in a proof. A final state ends a channel only through `conclude`.
    error StateIsFinal(uint48 turnNum);
    /// @notice `assetIndex` is past the end of the outcome.
    error InvalidAssetIndex(uint256 assetIndex, uint256 assetCount);
    /// @notice Allocation indices must be strictly increasing and inside the allocation list.
    error InvalidAllocationIndex(uint256 position, uint256 index);
    /// @notice The channel's holdings moved since the depositor read them (a double deposit, or a re-org).
    error HoldingsChanged(ChannelId channelId, address asset, uint256 expectedHeld, uint256 held);
    /// @notice An ETH deposit must send exactly `amount` wei.
    error IncorrectEthAmount(uint256 sent, uint256 amount);
    /// @notice ETH was sent along with an ERC-20 deposit.
    error EthSentWithTokenDeposit(uint256 value);
    /// @notice Deposits go to channels; this id is an external address.
    error DepositToExternalDestination(ChannelId channelId);
    /// @notice A deposit of zero (or a token deposit that credited nothing).
    error ZeroDeposit();
    /// @notice Sending ETH to `to` failed; pay the other allocations by index with `transfer`.
    error EthPayoutFailed(address to, uint256 amount);
    /// @notice A token moved a different amount than asked (fee on transfer when paying out, or rebasing).
    error TokenBalanceMismatch(address asset, uint256 expected, uint256 actual);
    /// @notice The channel is under challenge or finalized, so its ETH is committed in its fingerprint: it takes
    /// no ETH deposit, and its ETH holdings are read with `ethHoldings` (or from the event that registered them).
    error EthCommitted(ChannelId channelId);
    /// @notice `concludeAndTransferAllAssets` needs an open channel; during a challenge, `conclude` with the
    /// registration, then `transferAllAssets`.
    error ChallengeOngoing(ChannelId channelId);

    /// @notice A payout named a guarantee (an allocation to a channel id, at `index`): only `reclaim` resolves one.
    error GuaranteeNotPayable(uint256 index);
    /// @notice `reclaim` needs a ledger: two participants, and an asset whose allocations 0 and 1 are external.
    error NotALedgerOutcome(ChannelId ledgerId);
    /// @notice The allocation `reclaim` was pointed at is not a guarantee for `virtualId`.
    error GuaranteeTargetMismatch(ChannelId ledgerId, uint256 guaranteeIndex, ChannelId virtualId);
    /// @notice The guarantee was already reclaimed (or was zero): there is nothing to move.
    error NothingToReclaim(ChannelId ledgerId, uint256 guaranteeIndex);
    /// @notice The guaranteed channel is not [payer, hub, payee] with one asset of three allocations.
    error NotAVirtualChannel(ChannelId virtualId);
    /// @notice The ledger's asset and the virtual channel's asset differ.
    error AssetMismatch(address ledgerAsset, address virtualAsset);
    /// @notice The ledger is not [the virtual channel's payer or payee, the virtual channel's hub].
    error NotGuaranteeParties(ChannelId ledgerId, ChannelId virtualId);
    /// @notice A reclaimed amount would overflow the allocation it is added to.
    error AmountOverflow(uint256 amount, uint256 added);

    // ------------------------------------------------------------------------------------------------ events

    /// @notice The holdings of `asset` in `channelId` changed to `held`. For ETH after a challenge or conclusion,
    /// `held` is the ETH committed in the fingerprint (what the next payout presents as `heldEth`).
    event HoldingsUpdated(ChannelId indexed channelId, address indexed asset, uint256 held);
    /// @notice `reclaim` resolved the guarantee at `guaranteeIndex` of asset `assetIndex` in ledger `ledgerId` for
    /// the finalized channel `virtualId`: the ledger's user (position 0) gained `toUser`, its hub (position 1)
    /// `toHub`, and the guarantee is now 0. The ledger's new owed outcome is the presented one with these changes.
    event Reclaimed(
        ChannelId indexed ledgerId,
        ChannelId indexed virtualId,
        uint256 assetIndex,
        uint256 guaranteeIndex,
        uint256 toUser,
        uint256 toHub
    );
    /// @notice The channel's registered state is (`turnNum`, `outcome`, `appData`, not final: a registered state
    /// never is), with the channel's ETH `heldEth`; the channel finalizes at `finalizesAt`. Emitted by the challenge
    /// that starts the clock and by every answer that replaces the registered state (checkpoint, respond, a newer
    /// challenge), which keep `finalizesAt` as it was.
    /// @dev Carries everything a counterparty needs: the turn number to beat, the state to respond to, and (with
    /// the channel id) the registration that an answer or a payout after the timeout must present. A state
    /// registered with the sender's empty signature slot is public here all the same.
    event ChallengeRegistered(
        ChannelId indexed channelId,
        uint48 finalizesAt,
        uint48 turnNum,
        SingleAssetExit[] outcome,
        bytes appData,
        uint256 heldEth
    );
    /// @notice A final state signed by all finalized the channel, committing `heldEth` of ETH (what is left after
    /// `concludeAndTransferAllAssets` paid out).
    event Concluded(ChannelId indexed channelId, uint48 finalizesAt, uint256 heldEth);
    /// @notice `channelId` paid `amount` of `asset` to `destination` (an external address, left-padded; never a
    /// channel): one event per allocation paid, by a conclusion or a payout. A payout that finds the holdings short
    /// pays less than the outcome says, and the event says what was actually paid; nothing paid, no event.
    /// @dev What a client reports as paid or earned comes from these events, never from the outcome it submitted.
    event PaidOut(ChannelId indexed channelId, address indexed asset, bytes32 indexed destination, uint256 amount);

    // --------------------------------------------------------------------------------------------- functions

    /// @notice The shortest challenge a channel gets, in seconds: a channel whose `challengeDuration` is shorter
    /// (0 included) is challenged for this long, so that its deposits can always leave by a challenge.
    function MIN_CHALLENGE_DURATION() external view returns (uint48);

    /// @notice The longest challenge a channel gets, in seconds: a longer `challengeDuration` is cut to this.
    function MAX_CHALLENGE_DURATION() external view returns (uint48);

    /// @notice The channel id of `fixedPart` on this chain and this adjudicator.
    function channelIdOf(FixedPart calldata fixedPart) external view returns (ChannelId);

    /// @notice The holdings of `asset` (address(0) for ETH) in `channelId`.
    /// @dev Reverts with `EthCommitted` for the ETH of a channel under challenge or finalized whose fingerprint
    /// commits some: use `ethHoldings` then.
    function holdings(address asset, ChannelId channelId) external view returns (uint256);

    /// @notice The ETH held by `channelId`: an open channel's, or, under challenge or finalized, the ETH committed
    /// by `registration` (which must match the fingerprint).
    function ethHoldings(ChannelId channelId, Registration calldata registration) external view returns (uint256);

    /// @notice The unpacked status of `channelId`.
    /// @return turnNumRecord The largest turn number registered.
    /// @return finalizesAt 0 if open; otherwise when the registered state finalizes (or finalized).
    /// @return fingerprint Binds the registered state hash, the outcome still owed and the ETH committed; zero
    /// while the channel is open.
    function statusOf(ChannelId channelId)
        external
        view
        returns (uint48 turnNumRecord, uint48 finalizesAt, uint160 fingerprint);

    /// @notice Whether `channelId` has finalized.
    function isFinalized(ChannelId channelId) external view returns (bool);

    /// @notice Deposits `amount` of `asset` into `channelId`, if its holdings still equal `expectedHeld`.
    /// @dev For ETH (`asset == address(0)`) send exactly `amount` as value. For an ERC-20, approve first; the
    /// channel is credited with the balance change the adjudicator measures (less than `amount` for a token that
    /// takes a fee). ETH goes only into an open channel (`EthCommitted` otherwise). A token deposit does not check
    /// the status (the SDK does): into a finalized channel it goes to the outcome still owed, or stays in the
    /// channel if nothing is owed.
    /// @param asset address(0) for ETH, otherwise an ERC-20 token.
    /// @param channelId The channel to fund.
    /// @param expectedHeld The holdings the depositor saw; a mismatch reverts with `HoldingsChanged`.
    /// @param amount The amount to deposit.
    function deposit(address asset, ChannelId channelId, uint256 expectedHeld, uint256 amount) external payable;

    /// @notice Registers `candidate` as the channel's state. On an open channel this starts the clock: the channel
    /// finalizes after its challenge duration (clamped to [MIN_CHALLENGE_DURATION, MAX_CHALLENGE_DURATION]).
    /// During a challenge it replaces the registered state and keeps the deadline.
    /// @param fixedPart The channel's fixed part.
    /// @param proof The states that, with the candidate, the app needs to call it supported (empty if every
    /// participant signed the candidate). None may be final (`StateIsFinal`).
    /// @param candidate The state to register, not final; its turn number must be at least the record, and above
    /// it while a challenge is ongoing.
    /// @param challengerSig Empty when the caller is the challenging participant; otherwise a participant's
    /// EIP-191 signature on `ChannelHashing.challengeHash(stateHash)`, the candidate's state hash alone (which
    /// already binds the channel id), so that a watchtower may challenge on its behalf.
    /// @param registration During a challenge, the one registered (from `ChallengeRegistered`); ignored (pass
    /// zeros) on an open channel.
    function challenge(
        FixedPart calldata fixedPart,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate,
        bytes calldata challengerSig,
        Registration calldata registration
    ) external;

    /// @notice Answers an ongoing challenge: registers a supported non-final state newer than the record in place
    /// of the registered one, keeping the deadline (`NoOngoingChallenge` on an open channel, so that no state only
    /// one side holds can raise the record there).
    /// @param registration The one registered (from `ChallengeRegistered`).
    function checkpoint(
        FixedPart calldata fixedPart,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate,
        Registration calldata registration
    ) external;

    /// @notice Answers an ongoing challenge with a single move that the app accepts from the challenged state: the
    /// response becomes the registered state, and the deadline stays.
    /// @dev Takes the parameters of `IForceMoveApp.requireValidTransition` first and in its order, and passes its
    /// call data to the app as it is: the app validates the very bytes the adjudicator registers.
    /// @param channelId The channel's id, `channelIdOf(fixedPart)` (`WrongChannelId` otherwise).
    /// @param challenged The variable part that the challenge registered (from `ChallengeRegistered`).
    /// @param response The next state, not final, turn number `challenged.turnNum + 1`, signed as the app requires.
    /// @param heldEth The ETH registered with the challenge (`ChallengeRegistered.heldEth`). Where its siblings take a
    /// `Registration`, `respond` takes only this: the registered state and outcome hashes are those of `challenged`,
    /// which it hashes itself before checking the fingerprint.
    function respond(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata challenged,
        SignedVariablePart calldata response,
        uint256 heldEth
    ) external;

    /// @notice Finalizes the channel at once with a final state signed by every participant.
    /// @param registration During a challenge, the one registered; ignored (pass zeros) on an open channel.
    function conclude(
        FixedPart calldata fixedPart,
        SignedVariablePart calldata candidate,
        Registration calldata registration
    ) external;

    /// @notice `conclude`, then pays out every asset of the final outcome: the cooperative close in one transaction.
    /// Needs an open channel (`ChallengeOngoing` otherwise).
    function concludeAndTransferAllAssets(FixedPart calldata fixedPart, SignedVariablePart calldata candidate)
        external;

    /// @notice Pays the allocations at `indices` (strictly increasing; empty for all) of one asset of a finalized
    /// channel. Each allocation gets `min(amount, what is left after the allocations before it)`. Guarantees are
    /// never paid (`GuaranteeNotPayable` when named) but keep their place in that order.
    /// @param assetIndex The index of the asset in `outcome`.
    /// @param channelId The finalized channel.
    /// @param stateHash The hash of the registered state.
    /// @param outcome The outcome still owed (the registered one, less what earlier payouts paid).
    /// @param heldEth The ETH committed with them: from the event that registered the state, or the last
    /// `HoldingsUpdated` of ETH after a payout.
    /// @param indices The allocations to pay; empty pays them all.
    function transfer(
        uint256 assetIndex,
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 heldEth,
        uint256[] calldata indices
    ) external;

    /// @notice Resolves a guarantee in a finalized ledger channel `[user, hub]` for a finalized virtual channel
    /// `[payer, hub, payee]` (ADR 0021): the user, the virtual channel's payer or payee, gains what the virtual
    /// channel still owes it (its allocation 0 or 2), up to the guarantee; the hub gains the rest of the guarantee;
    /// the guarantee becomes 0 and keeps its place. No holdings move and the virtual channel's status is not
    /// touched, so each of its two ledgers reclaims its own side. A virtual channel that owes nothing any more (its
    /// outcome was paid out from a deposit into it) gives its whole guarantee to the hub.
    /// @param ledger The ledger's fixed part.
    /// @param ledgerOwed The ledger's registered state hash, the outcome it still owes and its committed ETH.
    /// @param assetIndex The index of the asset in the ledger's outcome.
    /// @param guaranteeIndex The guarantee's position in that asset's allocations (2 or more).
    /// @param virtualChannel The virtual channel's fixed part.
    /// @param virtualOwed The virtual channel's registered state hash, the outcome it still owes and its ETH. When
    /// payouts paid all it owed, its outcome is ignored, and its stateHash and heldEth must match only while it still
    /// holds ETH (a deposit beyond its outcome).
    function reclaim(
        FixedPart calldata ledger,
        Owed calldata ledgerOwed,
        uint256 assetIndex,
        uint256 guaranteeIndex,
        FixedPart calldata virtualChannel,
        Owed calldata virtualOwed
    ) external;

    /// @notice Pays every allocation of every asset of a finalized channel (parameters as for `transfer`).
    function transferAllAssets(
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 heldEth
    ) external;
}
