// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IForceMoveApp} from "./interfaces/IForceMoveApp.sol";
import {ILedgerApp} from "./interfaces/ILedgerApp.sol";
import {ChannelId, FixedPart, SignedVariablePart, VariablePart} from "./interfaces/ChannelTypes.sol";

/// @title The app of a ledger channel [user, hub] (ADR 0021, decision 1)
/// @notice A ledger's outcome moves money between the user, the hub and the guarantees that fund virtual channels;
/// every change is agreed by both, so no state may be enforced on one party's word. Both functions revert: the
/// adjudicator then supports only a ledger state that every participant signed (its unanimity rule, checked before
/// it asks the app), and `respond` never applies to a ledger. An answer to a stale ledger state is a `checkpoint`
/// or a `challenge` with a newer state signed by both.
contract LedgerApp is IForceMoveApp, ILedgerApp {
    /// @inheritdoc IForceMoveApp
    function requireStateSupported(
        FixedPart calldata,
        ChannelId,
        SignedVariablePart[] calldata,
        SignedVariablePart calldata
    ) external pure {
        revert LedgerNeedsAllSignatures();
    }

    /// @inheritdoc IForceMoveApp
    function requireValidTransition(FixedPart calldata, ChannelId, VariablePart calldata, SignedVariablePart calldata)
        external
        pure
    {
        revert LedgerNeedsAllSignatures();
    }
}
