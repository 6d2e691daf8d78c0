// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IForceMoveApp} from "./interfaces/IForceMoveApp.sol";
import {IVoucherPaymentApp} from "./interfaces/IVoucherPaymentApp.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "./interfaces/ChannelTypes.sol";
import {VoucherLib} from "./libraries/VoucherLib.sol";

/// @title Unidirectional payments by voucher: a payer pays a payee per piece, off chain
/// @notice Participants are [payer, payee]; the outcome has one asset with allocations [payer, payee]. Opening
/// and closing states are signed by both (the adjudicator's unanimity rule). In between the payer only signs
/// vouchers (channel id, cumulative amount), and the payee alone can enforce its latest voucher on chain: it
/// challenges with a state it signed whose appData is the voucher and whose outcome moves the voucher's amount
/// from the payer to the payee, on top of a state both signed (the proof). No countersignature per payment.
/// @dev A state both sign counts as holding the voucher in its appData (none: 0). So a state both sign after
/// payments began must carry the latest voucher it accounts for, or vouchers on top of it would count twice; a
/// final state is never built on at all (`BaseIsFinal`), whatever its appData.
contract VoucherPaymentApp is IForceMoveApp, IVoucherPaymentApp {
    uint256 private constant PAYER = 0;
    uint256 private constant PAYEE = 1;
    uint256 private constant BOTH_SIGNED = 0x3;

    /// @inheritdoc IForceMoveApp
    function requireStateSupported(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate
    ) external pure {
        if (proof.length != 1) revert ProofLengthNotOne(proof.length);
        if (proof[0].signedBy != BOTH_SIGNED) revert BaseNotSignedByBoth(proof[0].signedBy);
        VariablePart calldata base = proof[0].variablePart;
        if (candidate.variablePart.turnNum <= base.turnNum) {
            revert TurnNumberNotAfterBase(base.turnNum, candidate.variablePart.turnNum);
        }
        _requireVoucherMove(fixedPart, channelId, base, candidate);
    }

    /// @inheritdoc IForceMoveApp
    function requireValidTransition(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata from,
        SignedVariablePart calldata to
    ) external pure {
        _requireVoucherMove(fixedPart, channelId, from, to);
    }

    /// @dev Reverts unless `to` is `from` with a payee-signed voucher that moves (voucher amount - the amount
    /// already in `from`) from the payer's allocation to the payee's, and nothing else changes.
    function _requireVoucherMove(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata from,
        SignedVariablePart calldata to
    ) private pure {
        if (fixedPart.participants.length != 2) revert NotTwoParticipants(fixedPart.participants.length);
        // A final state's appData does not say what it paid (the SDK leaves it empty), so a voucher on top of it
        // would be paid a second time (ADR 0005). The adjudicator refuses final states too; this rule holds alone.
        if (from.isFinal) revert BaseIsFinal();
        if (to.signedBy & (1 << PAYEE) == 0) revert NotSignedByPayee(to.signedBy);
        VariablePart calldata next = to.variablePart;
        if (next.isFinal) revert VoucherStateIsFinal();

        uint256 previousAmount = from.appData.length == 0 ? 0 : _voucherAmount(from.appData);
        (uint256 amount, bytes calldata signature) = _decodeVoucher(next.appData);
        if (amount < previousAmount) revert VoucherAmountDecreased(previousAmount, amount);

        // Cannot underflow: amount >= previousAmount.
        unchecked {
            _requireOutcomeMoves(from.outcome, next.outcome, amount - previousAmount, previousAmount);
        }
        _requireSignedByPayer(fixedPart.participants[PAYER], channelId, amount, signature);
    }

    /// @dev Reverts unless `next` is `previous` with `delta` moved from the payer's allocation to the payee's.
    function _requireOutcomeMoves(
        SingleAssetExit[] calldata previous,
        SingleAssetExit[] calldata next,
        uint256 delta,
        uint256 previousAmount
    ) private pure {
        (Allocation calldata payerBefore, Allocation calldata payeeBefore, address asset) = _split(previous);
        (Allocation calldata payerAfter, Allocation calldata payeeAfter, address assetAfter) = _split(next);
        // A voucher never moves more than the payer put in.
        if (delta > payerBefore.amount) {
            revert VoucherExceedsDeposit(previousAmount + delta, previousAmount + payerBefore.amount);
        }
        if (
            assetAfter != asset || payerAfter.destination != payerBefore.destination
                || payeeAfter.destination != payeeBefore.destination || payerAfter.amount != payerBefore.amount - delta
            // Compared by subtraction: payeeBefore.amount + delta could overflow and panic instead of reverting
            // with this app's error.
            || payeeAfter.amount < payeeBefore.amount || payeeAfter.amount - payeeBefore.amount != delta
        ) revert OutcomeNotVoucherMove(delta);
    }

    function _requireSignedByPayer(address payer, ChannelId channelId, uint256 amount, bytes calldata signature)
        private
        pure
    {
        bytes32 digest = MessageHashUtils.toEthSignedMessageHash(VoucherLib.voucherHash(channelId, amount));
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != payer) revert InvalidVoucherSignature(signer);
    }

    function _split(SingleAssetExit[] calldata outcome)
        private
        pure
        returns (Allocation calldata payer, Allocation calldata payee, address asset)
    {
        if (outcome.length != 1 || outcome[0].allocations.length != 2) revert OutcomeNotTwoPartyOneAsset();
        payer = outcome[0].allocations[PAYER];
        payee = outcome[0].allocations[PAYEE];
        asset = outcome[0].asset;
    }

    function _decodeVoucher(bytes calldata appData) private pure returns (uint256, bytes calldata) {
        if (appData.length != VoucherLib.ENCODED_LENGTH) revert MalformedVoucher(appData.length);
        return VoucherLib.decode(appData);
    }

    function _voucherAmount(bytes calldata appData) private pure returns (uint256 amount) {
        (amount,) = _decodeVoucher(appData);
    }
}
