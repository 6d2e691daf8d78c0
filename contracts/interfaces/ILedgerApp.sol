// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The error of the ledger app (ADR 0021, decision 1)
interface ILedgerApp {
    /// @notice A ledger state is supported only when every participant signed it (the adjudicator's unanimity
    /// rule): the app supports nothing else and accepts no move.
    error LedgerNeedsAllSignatures();
}
