// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "../../../contracts/interfaces/ChannelTypes.sol";
import {ChannelHashing} from "../../../contracts/libraries/ChannelHashing.sol";
import {VoucherLib} from "../../../contracts/libraries/VoucherLib.sol";
import {VM} from "./Vm.sol";

/// @notice Builds channels, states, outcomes, vouchers and signatures in memory, as the SDK does off chain.
abstract contract ChannelBuilder {
    uint256 internal constant BOTH = 0x3;
    uint256 internal constant PAYEE_ONLY = 0x2;

    function _fixedPart(address payer, address payee, uint64 nonce, address app, uint48 duration)
        internal
        pure
        returns (FixedPart memory fixedPart)
    {
        address[] memory participants = new address[](2);
        participants[0] = payer;
        participants[1] = payee;
        fixedPart = FixedPart(participants, nonce, app, duration);
    }

    function _destination(address account) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }

    /// @dev One asset, allocations [payer, payee].
    function _twoParty(address asset, address payer, uint256 payerAmount, address payee, uint256 payeeAmount)
        internal
        pure
        returns (SingleAssetExit[] memory outcome)
    {
        Allocation[] memory allocations = new Allocation[](2);
        allocations[0] = Allocation(_destination(payer), payerAmount);
        allocations[1] = Allocation(_destination(payee), payeeAmount);
        outcome = new SingleAssetExit[](1);
        outcome[0] = SingleAssetExit(asset, allocations);
    }

    function _outcomeHash(SingleAssetExit[] memory outcome) internal pure returns (bytes32) {
        return keccak256(abi.encode(outcome));
    }

    /// @dev Mirrors ChannelHashing.hashState for a state in memory.
    function _stateHash(ChannelId id, VariablePart memory variablePart) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                id,
                variablePart.turnNum,
                variablePart.isFinal,
                keccak256(variablePart.appData),
                _outcomeHash(variablePart.outcome)
            )
        );
    }

    /// @dev Mirrors ChannelStatusLib.fingerprint.
    function _fingerprint(bytes32 stateHash, bytes32 outcomeHash, uint256 heldEth) internal pure returns (uint160) {
        if (outcomeHash == bytes32(0) && heldEth == 0) return 0;
        return uint160(uint256(keccak256(abi.encode(stateHash, outcomeHash, heldEth))));
    }

    /// @dev An EIP-191 personal signature (r, s, v) over `hash`.
    function _personalSign(uint256 privateKey, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(privateKey, MessageHashUtils.toEthSignedMessageHash(hash));
        return abi.encodePacked(r, s, v);
    }

    function _signedByBoth(ChannelId id, VariablePart memory variablePart, uint256 payerKey, uint256 payeeKey)
        internal
        pure
        returns (SignedVariablePart memory signed)
    {
        bytes32 hash = _stateHash(id, variablePart);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = _personalSign(payerKey, hash);
        sigs[1] = _personalSign(payeeKey, hash);
        signed = SignedVariablePart(variablePart, BOTH, sigs);
    }

    /// @dev Signed by the payee alone; an empty signature when the payee sends the transaction itself.
    function _signedByPayee(ChannelId id, VariablePart memory variablePart, uint256 payeeKey, bool payeeSends)
        internal
        pure
        returns (SignedVariablePart memory signed)
    {
        bytes[] memory sigs = new bytes[](1);
        sigs[0] = payeeSends ? bytes("") : _personalSign(payeeKey, _stateHash(id, variablePart));
        signed = SignedVariablePart(variablePart, PAYEE_ONLY, sigs);
    }

    /// @dev appData carrying a voucher of `amount` signed by the payer.
    function _voucher(uint256 payerKey, ChannelId id, uint256 amount) internal pure returns (bytes memory) {
        return abi.encodePacked(amount, _personalSign(payerKey, VoucherLib.voucherHash(id, amount)));
    }

    /// @dev The payer's signature that lets anyone challenge with `stateHash` on its behalf.
    function _challengerSig(uint256 key, bytes32 stateHash) internal pure returns (bytes memory) {
        return _personalSign(key, ChannelHashing.challengeHash(stateHash));
    }

    function _noProof() internal pure returns (SignedVariablePart[] memory) {
        return new SignedVariablePart[](0);
    }
}
