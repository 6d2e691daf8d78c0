// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChannelId} from "../interfaces/ChannelTypes.sol";

/// @title Vouchers: a payer's signed promise of a cumulative amount to a channel's payee
/// @dev A voucher travels in a state's `appData` as `abi.encodePacked(uint256 amount, bytes65 signature)`.
/// The signature is an EIP-191 personal signature over `voucherHash(channelId, amount)`; the type hash keeps a
/// voucher signature from ever being read as a state signature.
library VoucherLib {
    /// @notice Domain tag of voucher hashes.
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256("piecepay.Voucher(bytes32 channelId,uint256 amount)");

    /// @notice Length of an encoded voucher: 32-byte amount and 65-byte signature.
    uint256 internal constant ENCODED_LENGTH = 97;

    /// @notice The hash that the payer signs for a voucher of `amount` in `channelId`.
    function voucherHash(ChannelId channelId, uint256 amount) internal pure returns (bytes32) {
        return keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, amount));
    }

    /// @notice Splits an encoded voucher into its amount and signature. The caller checks the length.
    function decode(bytes calldata appData) internal pure returns (uint256 amount, bytes calldata signature) {
        amount = uint256(bytes32(appData[0:32]));
        signature = appData[32:97];
    }
}
