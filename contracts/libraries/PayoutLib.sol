// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAdjudicator} from "../interfaces/IAdjudicator.sol";
import {Allocation} from "../interfaces/ChannelTypes.sol";
import {ChannelHashing} from "./ChannelHashing.sol";

/// @title How a finalized outcome is paid from limited holdings
/// @dev Allocations are paid in order: each gets min(amount, what the allocations before it left), whether or
/// not those earlier ones are paid in this call. So paying by index never lets a later allocation jump the queue,
/// and the total paid never exceeds `held`. An allocation to a channel id is a guarantee (ADR 0021): it is never
/// paid, only resolved by `reclaim`, but it keeps its place in the queue, so what it would take stays in the
/// holdings for the allocations it guarantees and never goes to the allocations after it.
library PayoutLib {
    /// @notice Computes what one asset's payout pays.
    /// @param held The channel's holdings of the asset.
    /// @param allocations The allocations still owed.
    /// @param indices The allocations to pay, strictly increasing; empty pays every allocation but the guarantees.
    /// @return newAmounts What each allocation is still owed afterwards.
    /// @return paid What each allocation is paid now.
    /// @return totalPaid The sum of `paid`, never more than `held`.
    function compute(uint256 held, Allocation[] calldata allocations, uint256[] memory indices)
        internal
        pure
        returns (uint256[] memory newAmounts, uint256[] memory paid, uint256 totalPaid)
    {
        uint256 count = allocations.length;
        bool payAll = indices.length == 0;
        newAmounts = new uint256[](count);
        paid = new uint256[](count);
        uint256 remaining = held;
        uint256 next; // position in `indices`
        for (uint256 i; i < count; ++i) {
            uint256 amount = allocations[i].amount;
            uint256 affordable = amount < remaining ? amount : remaining;
            newAmounts[i] = amount;
            bool named = next < indices.length && indices[next] == i;
            if (!ChannelHashing.isExternal(allocations[i].destination)) {
                if (named) revert IAdjudicator.GuaranteeNotPayable(i);
            } else if (payAll || named) {
                // Cannot underflow: affordable <= amount. Cannot overflow: totalPaid + affordable <= held.
                unchecked {
                    newAmounts[i] = amount - affordable;
                    paid[i] = affordable;
                    totalPaid += affordable;
                }
                if (named) ++next;
            }
            // Cannot underflow: affordable <= remaining.
            unchecked {
                remaining -= affordable;
            }
        }
        // An index that was out of range, repeated or out of order was never reached.
        if (!payAll && next != indices.length) revert IAdjudicator.InvalidAllocationIndex(next, indices[next]);
    }
}
