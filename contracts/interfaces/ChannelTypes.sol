// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Identifies a channel: the hash of the chain id, the adjudicator's address and the fixed part.
/// @dev A signed state or voucher names its channel id, so it cannot be replayed on another chain, another
/// adjudicator deployment or another channel.
type ChannelId is bytes32;

/// @notice The part of a channel's state that never changes.
/// @param participants The signers, in a fixed order. For the payment app: [payer, payee].
/// @param channelNonce Distinguishes channels between the same participants.
/// @param appDefinition The IForceMoveApp that decides which states are supported.
/// @param challengeDuration Seconds a challenge stays open before its state finalizes.
struct FixedPart {
    address[] participants;
    uint64 channelNonce;
    address appDefinition;
    uint48 challengeDuration;
}

/// @notice One payee of one asset.
/// @param destination An external address (left-padded to 32 bytes) or the id of another channel.
/// @param amount The amount owed to the destination.
struct Allocation {
    bytes32 destination;
    uint256 amount;
}

/// @notice The allocations of one asset. The asset is address(0) for ETH, otherwise an ERC-20 token.
struct SingleAssetExit {
    address asset;
    Allocation[] allocations;
}

/// @notice The part of a channel's state that changes from turn to turn.
/// @param outcome One exit per asset; paid in order of allocation when the channel finalizes.
/// @param appData Data that only the app interprets (for the payment app: a voucher).
/// @param turnNum Orders states: a newer supported state has a larger turn number.
/// @param isFinal A final state signed by every participant ends the channel at once.
struct VariablePart {
    SingleAssetExit[] outcome;
    bytes appData;
    uint48 turnNum;
    bool isFinal;
}

/// @notice A variable part with the signatures that support it.
/// @param signedBy Bit i is set when participant i signed; bit 0 is participants[0].
/// @param sigs 65-byte signatures (r, s, v) in ascending participant order, one per bit of `signedBy`. An empty
/// signature stands for participant i only when participant i is the caller of the transaction.
struct SignedVariablePart {
    VariablePart variablePart;
    uint256 signedBy;
    bytes[] sigs;
}

/// @notice What the status fingerprint of a channel under challenge or finalized commits to. Answers, new
/// challenges and conclusions of such a channel present it, taken from the event that registered it.
/// @param stateHash The registered state's hash.
/// @param outcomeHash The hash of the outcome still owed (zero once nothing is).
/// @param heldEth The channel's ETH committed with them (`ChallengeRegistered.heldEth`, `Concluded.heldEth`, or
/// `HoldingsUpdated.held` for ETH after a payout); ETH credited since is kept apart and added when paying.
struct Registration {
    bytes32 stateHash;
    bytes32 outcomeHash;
    uint256 heldEth;
}

/// @notice What a finalized channel still owes, as `reclaim` reads it: the fingerprint's three parts with the
/// outcome itself rather than its hash.
/// @param stateHash The registered state's hash.
/// @param outcome The outcome still owed (the registered one, less what payouts and reclaims changed).
/// @param heldEth The ETH committed with them.
struct Owed {
    bytes32 stateHash;
    SingleAssetExit[] outcome;
    uint256 heldEth;
}
