// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAdjudicator} from "../interfaces/IAdjudicator.sol";
import {Allocation, ChannelId, FixedPart, SingleAssetExit} from "../interfaces/ChannelTypes.sol";
import {ChannelHashing} from "./ChannelHashing.sol";

/// @title What `reclaim` does to a ledger's outcome (ADR 0021, decision 3), mirrored by the SDK's `reclaimEffects`
/// @dev A ledger `[user, hub]` guarantees a virtual channel `[payer, hub, payee]` with an allocation whose
/// destination is the virtual channel's id. The user is the payer or the payee; which one follows from the two
/// fixed parts. The user gets back what the virtual channel still owes it, capped by the guarantee; the hub gets the
/// rest, so over the payer's and the payee's ledgers the hub ends exactly at its allocation in the virtual channel.
library ReclaimLib {
    uint256 internal constant USER = 0;
    uint256 internal constant HUB = 1;
    uint256 internal constant FIRST_GUARANTEE = 2;
    uint256 internal constant PAYER = 0;
    uint256 internal constant PAYEE = 2;

    /// @notice Checks the ledger and the virtual channel and returns the ledger's outcome after the reclaim.
    /// @param ledger The ledger's fixed part.
    /// @param ledgerId Its id.
    /// @param ledgerOutcome The outcome the ledger still owes.
    /// @param assetIndex The asset in `ledgerOutcome`.
    /// @param guaranteeIndex The guarantee's position among that asset's allocations.
    /// @param virtualChannel The virtual channel's fixed part.
    /// @param virtualId Its id.
    /// @param virtualOutcome The outcome the virtual channel still owes; ignored when `virtualOwesNothing`.
    /// @param virtualOwesNothing The virtual channel's outcome has been paid out entirely.
    /// @return updated `ledgerOutcome` with the guarantee at 0 and its amount split between positions 0 and 1.
    /// @return toUser What position 0 gained.
    /// @return toHub What position 1 gained.
    function reclaimed(
        FixedPart calldata ledger,
        ChannelId ledgerId,
        SingleAssetExit[] calldata ledgerOutcome,
        uint256 assetIndex,
        uint256 guaranteeIndex,
        FixedPart calldata virtualChannel,
        ChannelId virtualId,
        SingleAssetExit[] calldata virtualOutcome,
        bool virtualOwesNothing
    ) internal pure returns (SingleAssetExit[] memory updated, uint256 toUser, uint256 toHub) {
        if (assetIndex >= ledgerOutcome.length) revert IAdjudicator.InvalidAssetIndex(assetIndex, ledgerOutcome.length);
        Allocation[] calldata allocations = ledgerOutcome[assetIndex].allocations;
        if (
            ledger.participants.length != 2 || allocations.length <= FIRST_GUARANTEE
                || !ChannelHashing.isExternal(allocations[USER].destination)
                || !ChannelHashing.isExternal(allocations[HUB].destination)
        ) revert IAdjudicator.NotALedgerOutcome(ledgerId);
        if (guaranteeIndex < FIRST_GUARANTEE || guaranteeIndex >= allocations.length) {
            revert IAdjudicator.InvalidAllocationIndex(0, guaranteeIndex);
        }
        uint256 guarantee = allocations[guaranteeIndex].amount;
        if (allocations[guaranteeIndex].destination != ChannelId.unwrap(virtualId)) {
            revert IAdjudicator.GuaranteeTargetMismatch(ledgerId, guaranteeIndex, virtualId);
        }
        if (guarantee == 0) revert IAdjudicator.NothingToReclaim(ledgerId, guaranteeIndex);
        uint256 userSide = _userSide(ledger.participants, virtualChannel.participants, ledgerId, virtualId);

        uint256 owedToUser;
        if (!virtualOwesNothing) {
            if (virtualOutcome.length != 1 || virtualOutcome[0].allocations.length != 3) {
                revert IAdjudicator.NotAVirtualChannel(virtualId);
            }
            address asset = ledgerOutcome[assetIndex].asset;
            if (virtualOutcome[0].asset != asset) revert IAdjudicator.AssetMismatch(asset, virtualOutcome[0].asset);
            owedToUser = virtualOutcome[0].allocations[userSide].amount;
        }
        toUser = owedToUser < guarantee ? owedToUser : guarantee;
        // Cannot underflow: toUser <= guarantee.
        unchecked {
            toHub = guarantee - toUser;
        }

        updated = ledgerOutcome;
        Allocation[] memory next = updated[assetIndex].allocations;
        next[USER].amount = _add(next[USER].amount, toUser);
        next[HUB].amount = _add(next[HUB].amount, toHub);
        next[guaranteeIndex].amount = 0;
    }

    /// @dev Which allocation of the virtual channel belongs to the ledger's user (the payer's or the payee's),
    /// after checking that the virtual channel has three distinct participants and that the ledger is
    /// [its payer or payee, its hub].
    function _userSide(
        address[] calldata ledgerParticipants,
        address[] calldata virtualParticipants,
        ChannelId ledgerId,
        ChannelId virtualId
    ) private pure returns (uint256) {
        if (virtualParticipants.length != 3) revert IAdjudicator.NotAVirtualChannel(virtualId);
        address payer = virtualParticipants[PAYER];
        address hub = virtualParticipants[1];
        address payee = virtualParticipants[PAYEE];
        if (payer == hub || payer == payee || hub == payee) revert IAdjudicator.NotAVirtualChannel(virtualId);
        address user = ledgerParticipants[USER];
        if (ledgerParticipants[HUB] == hub) {
            if (user == payer) return PAYER;
            if (user == payee) return PAYEE;
        }
        revert IAdjudicator.NotGuaranteeParties(ledgerId, virtualId);
    }

    function _add(uint256 amount, uint256 added) private pure returns (uint256) {
        unchecked {
            uint256 sum = amount + added;
            if (sum < amount) revert IAdjudicator.AmountOverflow(amount, added);
            return sum;
        }
    }
}
