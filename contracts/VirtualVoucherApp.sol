// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IForceMoveApp} from "./interfaces/IForceMoveApp.sol";
import {IVirtualVoucherApp} from "./interfaces/IVirtualVoucherApp.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "./interfaces/ChannelTypes.sol";
import {VoucherLib} from "./libraries/VoucherLib.sol";

/// @title Voucher payments through a hub: a virtual channel [payer, hub, payee] (ADR 0021, decision 2)
/// @notice The outcome has one asset with allocations [payer, hub, payee]; its funding state, signed by all three,
/// is [x, 0, 0]. The payer only signs vouchers (channel id, cumulative amount for the payee) exactly as in
/// VoucherPaymentApp, and the payee alone builds the state that carries one: it moves the voucher's new amount from
/// the payer to the payee and the hub's fee on it from the payer to the hub. The fee is part of the channel's
/// identity: `channelNonce = feeBps << 48 | n`, so the channel id, and every voucher signed for it, commits to it;
/// the app computes it, so the hub earns it in a dispute as in a close.
/// @dev The fee is always computed on cumulative amounts, `fee(a) = floor(a * feeBps / 10_000)`, and a move adds
/// `fee(amount) - fee(previous)`: rounding never accumulates, the hub's allocation above the base's is
/// `fee(amount) - fee(base amount)` whatever the number of vouchers. As in VoucherPaymentApp, a state all three
/// sign counts as holding the voucher in its appData (none: 0), and a final state is never built on.
contract VirtualVoucherApp is IForceMoveApp, IVirtualVoucherApp {
    uint256 private constant PAYER = 0;
    uint256 private constant HUB = 1;
    uint256 private constant PAYEE = 2;
    uint256 private constant ALL_SIGNED = 0x7;
    uint256 private constant FEE_SHIFT = 48;
    uint256 private constant MAX_FEE_BPS = 10_000;

    /// @inheritdoc IForceMoveApp
    function requireStateSupported(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        SignedVariablePart[] calldata proof,
        SignedVariablePart calldata candidate
    ) external pure {
        if (proof.length != 1) revert ProofLengthNotOne(proof.length);
        if (proof[0].signedBy != ALL_SIGNED) revert BaseNotSignedByAll(proof[0].signedBy);
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

    /// @inheritdoc IVirtualVoucherApp
    function fee(uint256 amount, uint256 feeBps) public pure returns (uint256) {
        return Math.mulDiv(amount, feeBps, MAX_FEE_BPS);
    }

    /// @inheritdoc IVirtualVoucherApp
    function feeBpsOf(uint64 channelNonce) public pure returns (uint256 feeBps) {
        return uint256(channelNonce) >> FEE_SHIFT;
    }

    /// @dev Reverts unless `to` is `from` with a payee-signed voucher that moves (voucher amount - the amount
    /// already in `from`) from the payer's allocation to the payee's and the fee on it to the hub's, and nothing
    /// else changes.
    function _requireVoucherMove(
        FixedPart calldata fixedPart,
        ChannelId channelId,
        VariablePart calldata from,
        SignedVariablePart calldata to
    ) private pure {
        if (fixedPart.participants.length != 3) revert NotThreeParticipants(fixedPart.participants.length);
        uint256 feeBps = feeBpsOf(fixedPart.channelNonce);
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps);
        // A final state's appData does not say what it paid, so a voucher on top of it would be paid a second time
        // (ADR 0005). The adjudicator refuses final states too; this rule holds alone.
        if (from.isFinal) revert BaseIsFinal();
        if (to.signedBy & (1 << PAYEE) == 0) revert NotSignedByPayee(to.signedBy);
        VariablePart calldata next = to.variablePart;
        if (next.isFinal) revert VoucherStateIsFinal();

        uint256 previousAmount = from.appData.length == 0 ? 0 : _voucherAmount(from.appData);
        (uint256 amount, bytes calldata signature) = _decodeVoucher(next.appData);
        if (amount < previousAmount) revert VoucherAmountDecreased(previousAmount, amount);

        // Cannot underflow: amount >= previousAmount, and fee is monotonic in the amount (floor of a product by a
        // constant), so fee(amount) >= fee(previousAmount).
        unchecked {
            _requireOutcomeMoves(
                from.outcome,
                next.outcome,
                amount - previousAmount,
                fee(amount, feeBps) - fee(previousAmount, feeBps)
            );
        }
        _requireSignedByPayer(fixedPart.participants[PAYER], channelId, amount, signature);
    }

    /// @dev Reverts unless `next` is `previous` with `delta` moved from the payer's allocation to the payee's and
    /// `feeDelta` from the payer's to the hub's. Every sum is compared by subtraction: an addition could overflow
    /// and panic instead of reverting with this app's error.
    function _requireOutcomeMoves(
        SingleAssetExit[] calldata previous,
        SingleAssetExit[] calldata next,
        uint256 delta,
        uint256 feeDelta
    ) private pure {
        (
            Allocation calldata payerBefore,
            Allocation calldata hubBefore,
            Allocation calldata payeeBefore,
            address asset
        ) = _split(previous);
        (
            Allocation calldata payerAfter,
            Allocation calldata hubAfter,
            Allocation calldata payeeAfter,
            address assetAfter
        ) = _split(next);
        // A voucher and its fee never take more than the payer put in.
        if (delta > payerBefore.amount || feeDelta > payerBefore.amount - delta) {
            revert VoucherExceedsDeposit(Math.saturatingAdd(delta, feeDelta), payerBefore.amount);
        }
        uint256 payerLeft;
        // Cannot underflow: delta + feeDelta <= payerBefore.amount, checked just above.
        unchecked {
            payerLeft = payerBefore.amount - delta - feeDelta;
        }
        if (
            assetAfter != asset || payerAfter.destination != payerBefore.destination
                || hubAfter.destination != hubBefore.destination || payeeAfter.destination != payeeBefore.destination
                || payerAfter.amount != payerLeft || hubAfter.amount < hubBefore.amount
                || hubAfter.amount - hubBefore.amount != feeDelta || payeeAfter.amount < payeeBefore.amount
                || payeeAfter.amount - payeeBefore.amount != delta
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
        returns (Allocation calldata payer, Allocation calldata hub, Allocation calldata payee, address asset)
    {
        if (outcome.length != 1 || outcome[0].allocations.length != 3) revert OutcomeNotThreePartyOneAsset();
        payer = outcome[0].allocations[PAYER];
        hub = outcome[0].allocations[HUB];
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
