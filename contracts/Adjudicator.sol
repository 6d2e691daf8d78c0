// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Disputes} from "./Disputes.sol";
import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {Allocation, ChannelId, FixedPart, SignedVariablePart, SingleAssetExit} from "./interfaces/ChannelTypes.sol";
import {ChannelHashing} from "./libraries/ChannelHashing.sol";
import {ChannelStatusLib} from "./libraries/ChannelStatusLib.sol";
import {PayoutLib} from "./libraries/PayoutLib.sol";

/// @title The piecepay adjudicator. Layer 3: holdings, deposits and payouts
/// @notice See IAdjudicator for the life of a channel.
contract Adjudicator is Disputes, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev An amount to send to an external address once every state change is done.
    struct ExternalPayout {
        address asset;
        address to;
        uint256 amount;
    }

    /// @dev asset (address(0) for ETH) => channel => amount. Written only by _setHoldings.
    mapping(address asset => mapping(ChannelId channelId => uint256 amount)) internal _holdings;

    /// @inheritdoc IAdjudicator
    function holdings(address asset, ChannelId channelId) external view returns (uint256) {
        return _holdings[asset][channelId];
    }

    /// @inheritdoc IAdjudicator
    /// @dev Does not read the channel's status: a cold read would cost every deposit 2,100 gas, and the SDK
    /// checks the status when it reads the holdings for `expectedHeld`.
    function deposit(address asset, ChannelId channelId, uint256 expectedHeld, uint256 amount) external payable {
        if (ChannelHashing.isExternal(ChannelId.unwrap(channelId))) revert DepositToExternalDestination(channelId);
        uint256 held = _holdings[asset][channelId];
        if (held != expectedHeld) revert HoldingsChanged(channelId, asset, expectedHeld, held);

        uint256 credited;
        if (asset == address(0)) {
            if (msg.value != amount) revert IncorrectEthAmount(msg.value, amount);
            credited = amount;
        } else {
            if (msg.value != 0) revert EthSentWithTokenDeposit(msg.value);
            credited = _pullToken(IERC20(asset), amount);
        }
        if (credited == 0) revert ZeroDeposit();
        _setHoldings(asset, channelId, held + credited);
    }

    /// @dev Takes `amount` of `token` from the caller and returns the balance change measured (less than
    /// `amount` for a token that takes a fee). The token is called before the holdings change because the credit
    /// is what we measure; nonReentrant keeps a token from re-entering in between. The ETH path makes no external
    /// call, so it needs no guard.
    /// A token that takes more than `amount` from the sender (a fee charged on top) is refused here: paying it
    /// out later would take more than the holdings, so its deposits could never leave.
    function _pullToken(IERC20 token, uint256 amount) private nonReentrant returns (uint256) {
        uint256 balanceBefore = token.balanceOf(address(this));
        uint256 senderBefore = token.balanceOf(msg.sender);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 balanceAfter = token.balanceOf(address(this));
        uint256 senderAfter = token.balanceOf(msg.sender);
        if (balanceAfter < balanceBefore) revert TokenBalanceMismatch(address(token), amount, 0);
        uint256 taken = senderBefore > senderAfter ? senderBefore - senderAfter : 0;
        if (taken != amount) revert TokenBalanceMismatch(address(token), amount, taken);
        return balanceAfter - balanceBefore;
    }

    /// @inheritdoc IAdjudicator
    function concludeAndTransferAllAssets(FixedPart calldata fixedPart, SignedVariablePart calldata candidate)
        external
        nonReentrant
    {
        (ChannelId channelId, bytes32 stateHash,, uint48 turnNumRecord) = _requireConclusion(fixedPart, candidate);
        uint48 finalizesAt = uint48(block.timestamp);
        SingleAssetExit[] calldata outcome = candidate.variablePart.outcome;
        (bytes32 owedHash, ExternalPayout[] memory payouts) =
            _payOutcome(channelId, outcome, 0, new uint256[](0), true);
        _statusOf[channelId] =
            ChannelStatusLib.pack(turnNumRecord, finalizesAt, ChannelStatusLib.fingerprint(stateHash, owedHash));
        emit Concluded(channelId, finalizesAt);
        _sendPayouts(payouts);
    }

    /// @inheritdoc IAdjudicator
    function transfer(
        uint256 assetIndex,
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256[] calldata indices
    ) external nonReentrant {
        if (assetIndex >= outcome.length) revert InvalidAssetIndex(assetIndex, outcome.length);
        _transfer(channelId, stateHash, outcome, assetIndex, indices, false);
    }

    /// @inheritdoc IAdjudicator
    function transferAllAssets(ChannelId channelId, bytes32 stateHash, SingleAssetExit[] calldata outcome)
        external
        nonReentrant
    {
        _transfer(channelId, stateHash, outcome, 0, new uint256[](0), true);
    }

    function _transfer(
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 assetIndex,
        uint256[] memory indices,
        bool allAssets
    ) private {
        (uint48 turnNumRecord, uint48 finalizesAt) =
            _requireFinalizedOutcome(channelId, stateHash, ChannelHashing.outcomeHash(outcome));
        (bytes32 owedHash, ExternalPayout[] memory payouts) =
            _payOutcome(channelId, outcome, assetIndex, indices, allAssets);
        _statusOf[channelId] =
            ChannelStatusLib.pack(turnNumRecord, finalizesAt, ChannelStatusLib.fingerprint(stateHash, owedHash));
        _sendPayouts(payouts);
    }

    /// @dev Effects of paying an outcome: debits the channel, credits destination channels, and lists the
    /// external payouts to send afterwards. Returns the hash of what is still owed (zero when nothing is).
    function _payOutcome(
        ChannelId channelId,
        SingleAssetExit[] calldata outcome,
        uint256 assetIndex,
        uint256[] memory indices,
        bool allAssets
    ) private returns (bytes32 owedHash, ExternalPayout[] memory payouts) {
        uint256 assetCount = outcome.length;
        uint256[][] memory owed = new uint256[][](assetCount);
        bool anythingOwed;
        uint256 payoutCount;
        payouts = new ExternalPayout[](_allocationCount(outcome));
        for (uint256 a; a < assetCount; ++a) {
            if (allAssets || a == assetIndex) {
                (owed[a], payoutCount) = _payAsset(channelId, outcome[a], indices, payouts, payoutCount);
            } else {
                owed[a] = _amounts(outcome[a].allocations);
            }
            if (!anythingOwed) anythingOwed = _anyNonZero(owed[a]);
        }
        // Shrink the list to the payouts made. Safe: payoutCount <= the allocated length.
        assembly ("memory-safe") {
            mstore(payouts, payoutCount)
        }
        if (anythingOwed) owedHash = ChannelHashing.outcomeHashMemory(_withAmounts(outcome, owed));
    }

    /// @dev Pays one asset's allocations at `indices` (all if empty): debits the channel, credits destination
    /// channels at once and appends external payouts to `payouts` from position `payoutCount`.
    function _payAsset(
        ChannelId channelId,
        SingleAssetExit calldata exit,
        uint256[] memory indices,
        ExternalPayout[] memory payouts,
        uint256 payoutCount
    ) private returns (uint256[] memory newAmounts, uint256) {
        address asset = exit.asset;
        Allocation[] calldata allocations = exit.allocations;
        uint256 held = _holdings[asset][channelId];
        uint256[] memory paid;
        uint256 totalPaid;
        (newAmounts, paid, totalPaid) = PayoutLib.compute(held, allocations, indices);
        // Cannot underflow: PayoutLib pays at most `held`.
        if (totalPaid != 0) _setHoldings(asset, channelId, held - totalPaid);
        for (uint256 i; i < allocations.length; ++i) {
            if (paid[i] == 0) continue;
            bytes32 destination = allocations[i].destination;
            if (ChannelHashing.isExternal(destination)) {
                payouts[payoutCount++] = ExternalPayout(asset, address(uint160(uint256(destination))), paid[i]);
            } else {
                ChannelId target = ChannelId.wrap(destination);
                _setHoldings(asset, target, _holdings[asset][target] + paid[i]);
            }
        }
        return (newAmounts, payoutCount);
    }

    /// @dev Sends the external payouts. Runs after every state change (checks-effects-interactions), under
    /// nonReentrant, so a payee that calls back finds the holdings and status already final.
    function _sendPayouts(ExternalPayout[] memory payouts) private {
        for (uint256 i; i < payouts.length; ++i) {
            ExternalPayout memory payout = payouts[i];
            if (payout.asset == address(0)) {
                address to = payout.to;
                uint256 amount = payout.amount;
                bool success;
                // No return data is copied, so a payee cannot make us pay for a huge return buffer.
                assembly ("memory-safe") {
                    success := call(gas(), to, amount, 0, 0, 0, 0)
                }
                if (!success) revert EthPayoutFailed(to, amount);
            } else {
                IERC20 token = IERC20(payout.asset);
                uint256 balanceBefore = token.balanceOf(address(this));
                token.safeTransfer(payout.to, payout.amount);
                uint256 balanceAfter = token.balanceOf(address(this));
                // The holdings were debited by exactly `amount`; the balance must have moved by as much.
                uint256 moved = balanceBefore > balanceAfter ? balanceBefore - balanceAfter : 0;
                if (moved != payout.amount) revert TokenBalanceMismatch(payout.asset, payout.amount, moved);
            }
        }
    }

    /// @dev The one place where holdings change.
    function _setHoldings(address asset, ChannelId channelId, uint256 held) private {
        _holdings[asset][channelId] = held;
        emit HoldingsUpdated(channelId, asset, held);
    }

    function _amounts(Allocation[] calldata allocations) private pure returns (uint256[] memory amounts) {
        amounts = new uint256[](allocations.length);
        for (uint256 i; i < allocations.length; ++i) amounts[i] = allocations[i].amount;
    }

    function _anyNonZero(uint256[] memory amounts) private pure returns (bool) {
        for (uint256 i; i < amounts.length; ++i) if (amounts[i] != 0) return true;
        return false;
    }

    function _allocationCount(SingleAssetExit[] calldata outcome) private pure returns (uint256 count) {
        for (uint256 a; a < outcome.length; ++a) count += outcome[a].allocations.length;
    }

    /// @dev A memory copy of `outcome` with the allocation amounts replaced by `amounts`.
    function _withAmounts(SingleAssetExit[] calldata outcome, uint256[][] memory amounts)
        private
        pure
        returns (SingleAssetExit[] memory updated)
    {
        updated = outcome;
        for (uint256 a; a < updated.length; ++a) {
            Allocation[] memory allocations = updated[a].allocations;
            for (uint256 i; i < allocations.length; ++i) {
                allocations[i].amount = amounts[a][i];
            }
        }
    }
}
