// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Packing of a channel's status into one storage slot
/// @dev Layout, most significant bits first: turnNumRecord (48) | lateEth (1) | finalizesAt (47) | low (160).
/// While the channel is open (finalizesAt == 0) the low bits hold its ETH. Once a challenge or a conclusion
/// registers a state they hold the fingerprint, which commits to that ETH along with the state and the outcome
/// owed, so the first deposit, the challenge and the payout all write this one slot (see "Where the gas goes").
/// lateEth marks ETH credited to the channel since then, kept apart in the holdings mapping.
library ChannelStatusLib {
    /// @notice A finalization time did not fit its 47 bits (a timestamp past the year 4,000,000).
    error FinalizesAtOverflow(uint256 finalizesAt);

    uint256 internal constant LATE_ETH = 1 << 207;
    uint256 internal constant LOW = type(uint160).max;

    /// @notice Packs a status. turnNumRecord and low have exactly their fields' widths; finalizesAt is checked.
    function pack(uint48 turnNumRecord, uint48 finalizesAt, bool lateEth, uint160 low) internal pure returns (uint256) {
        if (finalizesAt >> 47 != 0) revert FinalizesAtOverflow(finalizesAt);
        return (uint256(turnNumRecord) << 208) | (lateEth ? LATE_ETH : 0) | (uint256(finalizesAt) << 160)
            | uint256(low);
    }

    /// @notice Unpacks a status.
    function unpack(uint256 status)
        internal
        pure
        returns (uint48 turnNumRecord, uint48 finalizesAt, bool lateEth, uint160 low)
    {
        turnNumRecord = uint48(status >> 208);
        lateEth = status & LATE_ETH != 0;
        finalizesAt = uint48(status >> 160) & ((1 << 47) - 1);
        low = uint160(status);
    }

    /// @notice The fingerprint of a registered state, the outcome still owed under it and the ETH committed with
    /// them; zero when nothing is owed or held (`outcomeHash == 0 && heldEth == 0`), which no payout can match.
    function fingerprint(bytes32 stateHash, bytes32 outcomeHash, uint256 heldEth) internal pure returns (uint160) {
        if (outcomeHash == bytes32(0) && heldEth == 0) return 0;
        return uint160(uint256(keccak256(abi.encode(stateHash, outcomeHash, heldEth))));
    }
}
