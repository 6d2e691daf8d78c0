// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Errors of the voucher payment app
/// @notice A voucher state is rejected with exactly one of these.
interface IVoucherPaymentApp {
    /// @notice The channel must have exactly two participants, [payer, payee].
    error NotTwoParticipants(uint256 count);
    /// @notice A voucher state is supported by exactly one earlier state signed by both.
    error ProofLengthNotOne(uint256 length);
    /// @notice The base state in the proof must be signed by both participants.
    error BaseNotSignedByBoth(uint256 signedBy);
    /// @notice The voucher state's turn number must be above its base's.
    error TurnNumberNotAfterBase(uint48 baseTurnNum, uint48 turnNum);
    /// @notice The payee must sign the state that carries the voucher.
    error NotSignedByPayee(uint256 signedBy);
    /// @notice A voucher state cannot be final; closing takes a final state signed by both.
    error VoucherStateIsFinal();
    /// @notice A final state is never the base of a voucher state or the state a move starts from: its appData
    /// does not say which vouchers it already paid, so building on it would pay them again.
    error BaseIsFinal();
    /// @notice appData must be abi.encodePacked(uint256 amount, bytes65 signature), 97 bytes.
    error MalformedVoucher(uint256 length);
    /// @notice Vouchers are cumulative: the amount never goes down.
    error VoucherAmountDecreased(uint256 previousAmount, uint256 amount);
    /// @notice The voucher asks for more than the payer's allocation in the state it builds on (its funding).
    /// @dev The app cannot see the holdings: a payee must check that the channel holds the payer's allocation
    /// before it serves against vouchers (the payer's allocation is paid first).
    error VoucherExceedsDeposit(uint256 amount, uint256 maximum);
    /// @notice The outcome must be one asset with two allocations, [payer, payee].
    error OutcomeNotTwoPartyOneAsset();
    /// @notice The outcome must move exactly the voucher's new amount from the payer to the payee.
    error OutcomeNotVoucherMove(uint256 delta);
    /// @notice The voucher is not signed by the payer for this channel (another chain, deployment or channel).
    error InvalidVoucherSignature(address signer);
}
