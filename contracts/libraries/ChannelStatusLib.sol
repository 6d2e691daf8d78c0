// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Packing of a channel's status into one storage slot
/// @dev Layout, most significant bits first: turnNumRecord (48) | finalizesAt (48) | fingerprint (160).
library ChannelStatusLib {
    /// @notice Packs a status. No field can overflow its bits: each argument has exactly the field's width.
    function pack(uint48 turnNumRecord, uint48 finalizesAt, uint160 fingerprint_) internal pure returns (uint256) {
        return (uint256(turnNumRecord) << 208) | (uint256(finalizesAt) << 160) | uint256(fingerprint_);
    }

    /// @notice Unpacks a status.
    function unpack(uint256 status)
        internal
        pure
        returns (uint48 turnNumRecord, uint48 finalizesAt, uint160 fingerprint_)
    {
        turnNumRecord = uint48(status >> 208);
        finalizesAt = uint48(status >> 160);
        fingerprint_ = uint160(status);
    }

    /// @notice The fingerprint of a registered state and the outcome still owed under it; zero when nothing is
    /// owed any more (`outcomeHash == 0`), which no payout can match.
    function fingerprint(bytes32 stateHash, bytes32 outcomeHash) internal pure returns (uint160) {
        if (outcomeHash == bytes32(0)) return 0;
        return uint160(uint256(keccak256(abi.encode(stateHash, outcomeHash))));
    }
}
