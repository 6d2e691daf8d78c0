// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Allocation, ChannelId, FixedPart, SingleAssetExit, VariablePart} from "../interfaces/ChannelTypes.sol";
import {ChannelHashing} from "../libraries/ChannelHashing.sol";
import {ChannelStatusLib} from "../libraries/ChannelStatusLib.sol";
import {PayoutLib} from "../libraries/PayoutLib.sol";
import {ReclaimLib} from "../libraries/ReclaimLib.sol";
import {VoucherLib} from "../libraries/VoucherLib.sol";

/// @notice Exposes the pure encodings so that tests can prove the SDK computes the same values. Test only.
contract EncodingHarness {
    function channelId(uint256 chainId, address adjudicator, FixedPart calldata fixedPart)
        external
        pure
        returns (ChannelId)
    {
        return ChannelHashing.channelId(chainId, adjudicator, fixedPart);
    }

    function outcomeHash(SingleAssetExit[] calldata outcome) external pure returns (bytes32) {
        return ChannelHashing.outcomeHash(outcome);
    }

    /// @notice The outcome hash as Solidity computes it, with no fast path: the reference for `outcomeHash`.
    function outcomeHashReference(SingleAssetExit[] calldata outcome) external pure returns (bytes32) {
        return keccak256(abi.encode(outcome));
    }

    function stateHash(ChannelId id, VariablePart calldata variablePart) external pure returns (bytes32 hash) {
        (hash,) = ChannelHashing.hashState(id, variablePart);
    }

    function challengeHash(bytes32 stateHash_) external pure returns (bytes32) {
        return ChannelHashing.challengeHash(stateHash_);
    }

    function voucherHash(ChannelId id, uint256 amount) external pure returns (bytes32) {
        return VoucherLib.voucherHash(id, amount);
    }

    function fingerprint(bytes32 stateHash_, bytes32 outcomeHash_, uint256 heldEth) external pure returns (uint160) {
        return ChannelStatusLib.fingerprint(stateHash_, outcomeHash_, heldEth);
    }

    function packStatus(uint48 turnNumRecord, uint48 finalizesAt, bool lateEth, uint160 low)
        external
        pure
        returns (uint256)
    {
        return ChannelStatusLib.pack(turnNumRecord, finalizesAt, lateEth, low);
    }

    function unpackStatus(uint256 status) external pure returns (uint48, uint48, bool, uint160) {
        return ChannelStatusLib.unpack(status);
    }

    function computePayouts(uint256 held, Allocation[] calldata allocations, uint256[] calldata indices)
        external
        pure
        returns (uint256[] memory newAmounts, uint256[] memory paid, uint256 totalPaid)
    {
        return PayoutLib.compute(held, allocations, indices);
    }

    /// @notice ReclaimLib.reclaimed with ids given, as the adjudicator computes them (the SDK's `reclaimEffects`).
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
    ) external pure returns (SingleAssetExit[] memory updated, uint256 toUser, uint256 toHub) {
        return ReclaimLib.reclaimed(
            ledger,
            ledgerId,
            ledgerOutcome,
            assetIndex,
            guaranteeIndex,
            virtualChannel,
            virtualId,
            virtualOutcome,
            virtualOwesNothing
        );
    }
}
