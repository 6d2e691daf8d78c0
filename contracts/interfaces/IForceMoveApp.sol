// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChannelId, FixedPart, SignedVariablePart, VariablePart} from "./ChannelTypes.sol";

/// @title The rules of an application run inside a channel
/// @notice The adjudicator consults its channel's app to decide whether a state that not every participant signed
/// is supported, and whether a single move answers a challenge. The adjudicator itself accepts any state that every
/// participant signed, so an app only rules on the rest.
/// @dev The adjudicator has verified every `signedBy` bitmask against its signatures before it calls the app; the
/// app trusts the bitmasks and ignores `sigs`. Both functions revert with the app's own custom error to reject.
interface IForceMoveApp {
    /// @notice Reverts unless `candidate` is supported by `proof` under this app's rules.
    /// @param fixedPart The channel's fixed part.
    /// @param channelId The channel's id, computed by the adjudicator from `fixedPart`.
    /// @param proof Earlier states, in ascending turn order, that support the candidate.
    /// @param candidate The state to be registered.
    function requireStateSupported(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate
    ) external view;

    /// @notice Reverts unless `to` is a valid single move from `from`, the state registered by a challenge.
    /// @param fixedPart The channel's fixed part.
    /// @param channelId The channel's id, computed by the adjudicator from `fixedPart`.
    /// @param from The challenged state (already supported on chain).
    /// @param to The response; `to.variablePart.turnNum` is `from.turnNum + 1`.
    /// @dev The adjudicator forwards `respond`'s own call data here, byte for byte behind this selector (the gas of
    /// re-encoding it), so the call data may be laid out as any caller chose: offsets out of the usual order,
    /// overlapping, or pointing back into the head. It is safe only for an app that decodes its arguments with
    /// Solidity's own calldata decoder (0.8) and reads every position from a decoded field, as VoucherPaymentApp
    /// does: it then sees exactly the values the adjudicator hashed and registers. An app that reads call data at
    /// fixed positions in assembly, or is built with another decoder, must not be used as an appDefinition.
    function requireValidTransition(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata from,
        SignedVariablePart calldata to
    ) external view;
}
