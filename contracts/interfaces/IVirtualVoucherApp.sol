// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The virtual voucher app's errors and fee arithmetic (ADR 0021, decision 2)
/// @notice A virtual channel's voucher state is rejected with exactly one of these; `fee` and `feeBpsOf` give
/// the arithmetic the rules use, for the SDK's parity tests. The errors it shares with
/// IVoucherPaymentApp have the same name and arguments, so one selector means one thing across both apps.
interface IVirtualVoucherApp {
    /// @notice The channel must have exactly three participants, [payer, hub, payee].
    error NotThreeParticipants(uint256 count);
    /// @notice The hub's fee, the channel nonce's top 16 bits, is in basis points and at most 10,000.
    error FeeTooHigh(uint256 feeBps);
    /// @notice A voucher state is supported by exactly one earlier state signed by all three.
    error ProofLengthNotOne(uint256 length);
    /// @notice The base state in the proof must be signed by all three participants.
    error BaseNotSignedByAll(uint256 signedBy);
    /// @notice The voucher state's turn number must be above its base's.
    error TurnNumberNotAfterBase(uint48 baseTurnNum, uint48 turnNum);
    /// @notice The payee (participant 2) must sign the state that carries the voucher.
    error NotSignedByPayee(uint256 signedBy);
    /// @notice A voucher state cannot be final; closing takes a final state signed by all three.
    error VoucherStateIsFinal();
    /// @notice A final state is never the base of a voucher state or the state a move starts from: its appData
    /// does not say which vouchers it already paid, so building on it would pay them again.
    error BaseIsFinal();
    /// @notice appData must be abi.encodePacked(uint256 amount, bytes65 signature), 97 bytes.
    error MalformedVoucher(uint256 length);
    /// @notice Vouchers are cumulative: the amount never goes down.
    error VoucherAmountDecreased(uint256 previousAmount, uint256 amount);
    /// @notice The move asks more of the payer than its allocation in the state it builds on: `amount` is what it
    /// takes, the voucher's increase over the base's plus the fee on that increase (capped at 2^256 - 1), `maximum`
    /// the payer's allocation in the base. The payer pays `amount + fee(amount)` in all, so a payee accepts a
    /// voucher only while that is at most what the payer put into the channel.
    /// @dev Same selector as IVoucherPaymentApp's error of the same name, whose arguments are cumulative.
    error VoucherExceedsDeposit(uint256 amount, uint256 maximum);
    /// @notice The outcome must be one asset with three allocations, [payer, hub, payee].
    error OutcomeNotThreePartyOneAsset();
    /// @notice The outcome must move exactly the voucher's new amount `delta` from the payer to the payee, and the
    /// fee on it from the payer to the hub; nothing else changes.
    error OutcomeNotVoucherMove(uint256 delta);
    /// @notice The voucher is not signed by the payer for this channel (another chain, deployment or channel).
    error InvalidVoucherSignature(address signer);

    /// @notice The hub's fee on a cumulative voucher amount: floor(amount * feeBps / 10_000), without overflow
    /// (OpenZeppelin's Math.mulDiv).
    /// @param amount A cumulative voucher amount.
    /// @param feeBps The fee in basis points (the rules accept at most 10,000, so the fee is at most `amount`).
    /// @return The hub's allocation above the funding state's once the payee holds `amount`.
    function fee(uint256 amount, uint256 feeBps) external pure returns (uint256);

    /// @notice The hub's fee in basis points that a virtual channel's nonce carries in its top 16 bits.
    /// @param channelNonce The channel's nonce, `feeBps << 48 | n` with n < 2^48.
    /// @return feeBps The fee; the rules refuse any above 10,000 (`FeeTooHigh`).
    function feeBpsOf(uint64 channelNonce) external pure returns (uint256 feeBps);
}
