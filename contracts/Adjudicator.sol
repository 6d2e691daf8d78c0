// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Disputes} from "./Disputes.sol";
import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {
    Allocation, ChannelId, FixedPart, Owed, Registration, SignedVariablePart, SingleAssetExit
} from "./interfaces/ChannelTypes.sol";
import {ChannelHashing} from "./libraries/ChannelHashing.sol";
import {ChannelStatusLib} from "./libraries/ChannelStatusLib.sol";
import {PayoutLib} from "./libraries/PayoutLib.sol";
import {ReclaimLib} from "./libraries/ReclaimLib.sol";

/// @title The piecepay adjudicator. Layer 3: holdings, deposits and payouts
/// @notice See IAdjudicator for the life of a channel.
contract Adjudicator is Disputes, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev An amount paid to an external destination once every state change is done.
    struct Payout {
        address asset;
        bytes32 destination;
        uint256 amount;
    }

    /// @dev asset => channel => amount. ERC-20 holdings only: a channel's ETH lives in its status (ADR 0004), and
    /// since no payout credits a channel (ADR 0021) no ETH ever lands here. Written only by _setHoldings.
    mapping(address asset => mapping(ChannelId channelId => uint256 amount)) internal _holdings;

    /// @inheritdoc IAdjudicator
    function holdings(address asset, ChannelId channelId) external view returns (uint256) {
        if (asset != address(0)) return _holdings[asset][channelId];
        (, uint48 finalizesAt,, uint160 low) = ChannelStatusLib.unpack(_statusOf[channelId]);
        if (finalizesAt == 0) return low;
        // A zero fingerprint commits no ETH.
        if (low == 0) return 0;
        revert EthCommitted(channelId);
    }

    /// @inheritdoc IAdjudicator
    function ethHoldings(ChannelId channelId, Registration calldata registration) external view returns (uint256) {
        (, uint48 finalizesAt,, uint160 low) = ChannelStatusLib.unpack(_statusOf[channelId]);
        if (finalizesAt == 0) return low;
        return _registeredEth(channelId, low, registration);
    }

    /// @inheritdoc IAdjudicator
    /// @dev An ERC-20 deposit does not read the channel's status (the SDK checks it); an ETH deposit must, since
    /// an open channel's ETH lives there.
    function deposit(address asset, ChannelId channelId, uint256 expectedHeld, uint256 amount) external payable {
        if (ChannelHashing.isExternal(ChannelId.unwrap(channelId))) revert DepositToExternalDestination(channelId);
        if (asset == address(0)) {
            uint256 status = _statusOf[channelId];
            (, uint48 finalizesAt,, uint160 low) = ChannelStatusLib.unpack(status);
            if (finalizesAt != 0) revert EthCommitted(channelId);
            if (low != expectedHeld) revert HoldingsChanged(channelId, asset, expectedHeld, low);
            if (msg.value != amount) revert IncorrectEthAmount(msg.value, amount);
            if (amount == 0) revert ZeroDeposit();
            uint256 held = low + amount;
            // The sum stays in the low 160 bits, so adding to the packed status cannot touch the other fields.
            SafeCast.toUint160(held);
            _statusOf[channelId] = status + amount;
            emit HoldingsUpdated(channelId, asset, held);
            return;
        }
        uint256 tokenHeld = _holdings[asset][channelId];
        if (tokenHeld != expectedHeld) revert HoldingsChanged(channelId, asset, expectedHeld, tokenHeld);
        if (msg.value != 0) revert EthSentWithTokenDeposit(msg.value);
        uint256 credited = _pullToken(IERC20(asset), amount);
        if (credited == 0) revert ZeroDeposit();
        _setHoldings(asset, channelId, tokenHeld + credited);
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
        (ChannelId channelId, bytes32 stateHash,, uint48 turnNumRecord, uint256 status) =
            _requireConclusion(fixedPart, candidate);
        (, uint48 finalizesAt,, uint160 heldEth) = ChannelStatusLib.unpack(status);
        // Not finalized (checked above), so a non-zero time is an ongoing challenge, whose ETH is committed.
        if (finalizesAt != 0) revert ChallengeOngoing(channelId);
        uint48 concludedAt = uint48(block.timestamp);
        SingleAssetExit[] calldata outcome = candidate.variablePart.outcome;
        (bool inFull, uint256 ethLeft) = _debitInFull(channelId, outcome, heldEth);
        if (inFull) {
            _statusOf[channelId] = ChannelStatusLib.pack(
                turnNumRecord, concludedAt, false, ChannelStatusLib.fingerprint(stateHash, 0, ethLeft)
            );
            emit Concluded(channelId, concludedAt, ethLeft);
            _payInFull(channelId, outcome[0]);
            return;
        }
        bytes32 owedHash;
        Payout[] memory payouts;
        (owedHash, ethLeft, payouts) = _payOutcome(channelId, outcome, heldEth, 0, new uint256[](0), true);
        _statusOf[channelId] = ChannelStatusLib.pack(
            turnNumRecord, concludedAt, false, ChannelStatusLib.fingerprint(stateHash, owedHash, ethLeft)
        );
        emit Concluded(channelId, concludedAt, ethLeft);
        _sendPayouts(channelId, payouts);
    }

    /// @inheritdoc IAdjudicator
    function transfer(
        uint256 assetIndex,
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 heldEth,
        uint256[] calldata indices
    ) external nonReentrant {
        if (assetIndex >= outcome.length) revert InvalidAssetIndex(assetIndex, outcome.length);
        _transfer(channelId, stateHash, outcome, heldEth, assetIndex, indices, false);
    }

    /// @inheritdoc IAdjudicator
    function transferAllAssets(
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 heldEth
    ) external nonReentrant {
        _transfer(channelId, stateHash, outcome, heldEth, 0, new uint256[](0), true);
    }

    function _transfer(
        ChannelId channelId,
        bytes32 stateHash,
        SingleAssetExit[] calldata outcome,
        uint256 heldEth,
        uint256 assetIndex,
        uint256[] memory indices,
        bool allAssets
    ) private {
        (uint48 turnNumRecord, uint48 finalizesAt) = _requireOwed(channelId, stateHash, outcome, heldEth);
        (bool inFull, uint256 ethLeft) = allAssets ? _debitInFull(channelId, outcome, heldEth) : (false, 0);
        bytes32 owedHash;
        Payout[] memory payouts;
        if (!inFull) {
            (owedHash, ethLeft, payouts) = _payOutcome(channelId, outcome, heldEth, assetIndex, indices, allAssets);
        }
        _statusOf[channelId] = ChannelStatusLib.pack(
            turnNumRecord, finalizesAt, false, ChannelStatusLib.fingerprint(stateHash, owedHash, ethLeft)
        );
        if (ethLeft != heldEth) emit HoldingsUpdated(channelId, address(0), ethLeft);
        if (inFull) _payInFull(channelId, outcome[0]);
        else _sendPayouts(channelId, payouts);
    }

    /// @inheritdoc IAdjudicator
    /// @dev Lives beside the payouts because it rewrites what a finalized channel owes, as a payout does, but it
    /// moves no holdings and makes no external call; nonReentrant keeps a payout's receiver from interleaving it.
    function reclaim(
        FixedPart calldata ledger,
        Owed calldata ledgerOwed,
        uint256 assetIndex,
        uint256 guaranteeIndex,
        FixedPart calldata virtualChannel,
        Owed calldata virtualOwed
    ) external nonReentrant {
        ChannelId ledgerId = channelIdOf(ledger);
        ChannelId virtualId = channelIdOf(virtualChannel);
        (uint48 turnNumRecord, uint48 finalizesAt) =
            _requireOwed(ledgerId, ledgerOwed.stateHash, ledgerOwed.outcome, ledgerOwed.heldEth);
        bool virtualOwesNothing = _virtualOwesNothing(virtualId, virtualOwed);
        (SingleAssetExit[] memory updated, uint256 toUser, uint256 toHub) = ReclaimLib.reclaimed(
            ledger,
            ledgerId,
            ledgerOwed.outcome,
            assetIndex,
            guaranteeIndex,
            virtualChannel,
            virtualId,
            virtualOwed.outcome,
            virtualOwesNothing
        );
        // The updated outcome still owes the guarantee's amount, so its hash is the owed hash (never zero).
        _statusOf[ledgerId] = ChannelStatusLib.pack(
            turnNumRecord,
            finalizesAt,
            false,
            ChannelStatusLib.fingerprint(
                ledgerOwed.stateHash, ChannelHashing.outcomeHashMemory(updated), ledgerOwed.heldEth
            )
        );
        emit Reclaimed(ledgerId, virtualId, assetIndex, guaranteeIndex, toUser, toHub);
    }

    /// @dev Reverts unless the virtual channel is finalized and `owed` matches its fingerprint; true when payouts
    /// paid everything it owed: its owed hash is then zero (a registered outcome's hash never is), so its
    /// fingerprint is zero, or, if a deposit beyond its outcome left ETH in it, (stateHash, 0, that ETH), which
    /// `owed` must then present (its outcome is ignored). Without that second case such a channel's guarantees
    /// could never be reclaimed.
    function _virtualOwesNothing(ChannelId virtualId, Owed calldata owed) private view returns (bool) {
        (, uint48 finalizesAt,, uint160 low) = ChannelStatusLib.unpack(_statusOf[virtualId]);
        if (!_isFinalized(finalizesAt)) revert ChannelNotFinalized(virtualId);
        if (low == 0) return true;
        if (ChannelStatusLib.fingerprint(owed.stateHash, ChannelHashing.outcomeHash(owed.outcome), owed.heldEth) == low)
        {
            return false;
        }
        if (ChannelStatusLib.fingerprint(owed.stateHash, bytes32(0), owed.heldEth) == low) return true;
        revert FingerprintMismatch(virtualId);
    }

    /// @dev Reverts unless `channelId` is finalized with (stateHash, outcome, heldEth) as its fingerprint, and
    /// returns its status fields. The hash of an outcome is never zero, so a zero fingerprint (nothing owed or
    /// held) matches nothing.
    function _requireOwed(ChannelId channelId, bytes32 stateHash, SingleAssetExit[] calldata outcome, uint256 heldEth)
        private
        view
        returns (uint48 turnNumRecord, uint48 finalizesAt)
    {
        uint160 low;
        (turnNumRecord, finalizesAt,, low) = ChannelStatusLib.unpack(_statusOf[channelId]);
        if (!_isFinalized(finalizesAt)) revert ChannelNotFinalized(channelId);
        if (ChannelStatusLib.fingerprint(stateHash, ChannelHashing.outcomeHash(outcome), heldEth) != low) {
            revert FingerprintMismatch(channelId);
        }
    }

    /// @dev The common case of paying out everything: a one-asset outcome whose holdings cover every allocation.
    /// Debits the channel's token holdings (or works out the ETH left) without building any list in memory, and
    /// returns true; returns false, having changed nothing, for any other outcome, and for one with a guarantee
    /// (a destination that is a channel), which is never paid.
    function _debitInFull(ChannelId channelId, SingleAssetExit[] calldata outcome, uint256 ethHeld)
        private
        returns (bool inFull, uint256 ethLeft)
    {
        if (outcome.length != 1) return (false, ethHeld);
        address asset = outcome[0].asset;
        Allocation[] calldata allocations = outcome[0].allocations;
        uint256 held = asset == address(0) ? ethHeld : _holdings[asset][channelId];
        uint256 total;
        for (uint256 i; i < allocations.length; ++i) {
            if (!ChannelHashing.isExternal(allocations[i].destination)) return (false, ethHeld);
            uint256 amount = allocations[i].amount;
            // A wrapped sum ends below the amount just added; either way the general path pays what it can.
            unchecked {
                total += amount;
            }
            if (total > held || total < amount) return (false, ethHeld);
        }
        // Cannot underflow: total <= held.
        if (asset == address(0)) return (true, held - total);
        if (total != 0) _setHoldings(asset, channelId, held - total);
        return (true, ethHeld);
    }

    /// @dev Pays each allocation of `exit` (all external: _debitInFull checked) its whole amount, after
    /// _debitInFull and the status write (checks-effects-interactions).
    function _payInFull(ChannelId channelId, SingleAssetExit calldata exit) private {
        address asset = exit.asset;
        Allocation[] calldata allocations = exit.allocations;
        uint256 count = allocations.length;
        for (uint256 i; i < count; ++i) {
            bytes32 destination = allocations[i].destination;
            uint256 amount = allocations[i].amount;
            if (amount != 0) {
                emit PaidOut(channelId, asset, destination, amount);
                _send(asset, address(uint160(uint256(destination))), amount);
            }
        }
    }

    /// @dev Effects of paying an outcome on the paying channel: debits its token holdings and works out its ETH
    /// left from `ethHeld`, and lists the payouts to make once its status is written. Returns the hash of what is
    /// still owed (zero when nothing is).
    function _payOutcome(
        ChannelId channelId,
        SingleAssetExit[] calldata outcome,
        uint256 ethHeld,
        uint256 assetIndex,
        uint256[] memory indices,
        bool allAssets
    ) private returns (bytes32 owedHash, uint256 ethLeft, Payout[] memory payouts) {
        uint256 assetCount = outcome.length;
        uint256[][] memory owed = new uint256[][](assetCount);
        bool anythingOwed;
        uint256 payoutCount;
        ethLeft = ethHeld;
        payouts = new Payout[](_allocationCount(outcome));
        for (uint256 a; a < assetCount; ++a) {
            if (allAssets || a == assetIndex) {
                SingleAssetExit calldata exit = outcome[a];
                address asset = exit.asset;
                uint256 held = asset == address(0) ? ethLeft : _holdings[asset][channelId];
                uint256[] memory paid;
                uint256 totalPaid;
                (owed[a], paid, totalPaid) = PayoutLib.compute(held, exit.allocations, indices);
                // Cannot underflow: PayoutLib pays at most `held`.
                if (asset == address(0)) ethLeft = held - totalPaid;
                else if (totalPaid != 0) _setHoldings(asset, channelId, held - totalPaid);
                payoutCount = _listPayouts(exit, paid, payouts, payoutCount);
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

    /// @dev Appends one asset's non-zero payments to `payouts` from position `payoutCount`.
    function _listPayouts(
        SingleAssetExit calldata exit,
        uint256[] memory paid,
        Payout[] memory payouts,
        uint256 payoutCount
    ) private pure returns (uint256) {
        Allocation[] calldata allocations = exit.allocations;
        for (uint256 i; i < allocations.length; ++i) {
            if (paid[i] != 0) payouts[payoutCount++] = Payout(exit.asset, allocations[i].destination, paid[i]);
        }
        return payoutCount;
    }

    /// @dev Sends the payouts (all to external addresses: PayoutLib never pays a guarantee), after the paying
    /// channel's status is written (checks-effects-interactions, under nonReentrant, so a payee that calls back
    /// finds everything final).
    function _sendPayouts(ChannelId channelId, Payout[] memory payouts) private {
        for (uint256 i; i < payouts.length; ++i) {
            Payout memory payout = payouts[i];
            emit PaidOut(channelId, payout.asset, payout.destination, payout.amount);
            _send(payout.asset, address(uint160(uint256(payout.destination))), payout.amount);
        }
    }

    /// @dev Sends `amount` of `asset` to the external address `to`.
    function _send(address asset, address to, uint256 amount) private {
        if (asset == address(0)) {
            bool success;
            // No return data is copied, so a payee cannot make us pay for a huge return buffer.
            assembly ("memory-safe") {
                success := call(gas(), to, amount, 0, 0, 0, 0)
            }
            if (!success) revert EthPayoutFailed(to, amount);
        } else {
            IERC20 token = IERC20(asset);
            uint256 balanceBefore = token.balanceOf(address(this));
            token.safeTransfer(to, amount);
            uint256 balanceAfter = token.balanceOf(address(this));
            // The holdings were debited by exactly `amount`; the balance must have moved by as much.
            uint256 moved = balanceBefore > balanceAfter ? balanceBefore - balanceAfter : 0;
            if (moved != amount) revert TokenBalanceMismatch(asset, amount, moved);
        }
    }

    /// @dev The one place where the holdings mapping changes (an open channel's ETH changes only in its status,
    /// by deposits and payouts, each of which emits HoldingsUpdated too).
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
