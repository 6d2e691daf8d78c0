// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IForceMoveApp} from "../interfaces/IForceMoveApp.sol";
import {ChannelId, FixedPart, SignedVariablePart, VariablePart} from "../interfaces/ChannelTypes.sol";

/// @notice An app that accepts every transition after decoding all of it, or, when `echo` is on, rejects it with
/// what it decoded: tests learn exactly which values the adjudicator handed the app. Test only.
contract EchoApp is IForceMoveApp {
    /// @notice What `requireValidTransition` decoded: abi.encode(fixedPart, channelId, from, to).
    error Seen(bytes decoded);

    bool public echo;

    function setEcho(bool on) external {
        echo = on;
    }

    function requireStateSupported(
        FixedPart calldata,
        ChannelId,
        SignedVariablePart[] calldata,
        SignedVariablePart calldata
    ) external pure {}

    /// @dev Decodes (and so validates) every argument in both modes, so that a transition it accepts is one it read.
    function requireValidTransition(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata from,
        SignedVariablePart calldata to
    ) external view {
        bytes memory decoded = abi.encode(fixedPart, channelId, from, to);
        if (echo) revert Seen(decoded);
        // Uses the encoding, so that no optimizer drops it: a keccak256 is never zero in practice.
        if (keccak256(decoded) == bytes32(0)) revert Seen(decoded);
    }
}
