// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdjudicatorInvariantsBase} from "./AdjudicatorInvariantsBase.sol";

/// @notice The money invariants: holdings, deposits and payouts.
contract MoneyInvariantsTest is AdjudicatorInvariantsBase {
    /// @notice Every money property below, checked after every call of every run: one campaign for all of them
    /// (each still checked in each of the CI profile's 10,000 runs), rather than one campaign each: a campaign costs
    /// the same whatever it checks, and one per property made `npm test` miss its time budget.
    function invariant_money() public view {
        _checkHoldingsSumToBalance();
        _checkPayoutsNeverExceedDeposits();
        _checkEachDestinationPaidAtMostOnce();
        _checkGuaranteesNeverPaid();
    }

    uint256 internal constant MIXED = 4;

    /// @notice Funds: every wei and token unit the adjudicator holds belongs to exactly one channel; the holdings
    /// add up to its balance, which is what was deposited less what was paid out.
    function _checkHoldingsSumToBalance() internal view {
        _assertHoldingsSumToBalance(address(0), address(adjudicator).balance);
        _assertHoldingsSumToBalance(token, handler.token().balanceOf(address(adjudicator)));
    }

    /// @notice Funds: no more leaves than came in, per asset; no payout pays more than the paying channel held,
    /// and each payout debits the channel by exactly what its destinations received.
    function _checkPayoutsNeverExceedDeposits() internal view {
        _assertLe(handler.totalPaidOut(address(0)), handler.totalDeposited(address(0)), "ETH paid out");
        _assertLe(handler.totalPaidOut(token), handler.totalDeposited(token), "tokens paid out");
        _assertEq(handler.channelPaidMoreThanHeld(), 0, "a channel paid more than it held");
        _assertEq(handler.payoutNotMatchingDebit(), 0, "a payout differs from the channel's debit");
        _assertEq(handler.ethMirrorWrong(), 0, "the ETH committed differs from the mirror");
    }

    /// @notice Funds: a finalized outcome pays each destination at most its allocation, however the payouts are
    /// split (by index, all assets, or in the cooperative close), and the outcome still owed is always payable
    /// (by any indices that name no guarantee: those are refused, see _checkGuaranteesNeverPaid).
    function _checkEachDestinationPaidAtMostOnce() internal view {
        _assertEq(handler.allocationPaidMoreThanOwed(), 0, "an allocation was paid more than owed");
        _assertEq(handler.owedOutcomeRefused(), 0, "the outcome still owed was refused");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            for (uint256 k; k < 6; ++k) {
                (uint256 amount, uint256 paid) = handler.allocationPaid(c, k);
                _assertLe(paid, amount, "paid more than the allocation");
            }
        }
    }

    /// @notice Funds: an allocation to a channel id is a guarantee (ADR 0021, decision 3): no payout ever changes
    /// a channel's holdings by paying it, naming one by index is refused, and it stays owed in full while keeping
    /// its place in the payout order (every payout pays each allocation exactly min(amount, what the allocations
    /// before it left), the guarantees included in "before"). Replaces the credit of ETH to a registered channel,
    /// kept apart until its payout, which no longer exists.
    function _checkGuaranteesNeverPaid() internal view {
        _assertEq(handler.channelIdPaid(), 0, "a payout credited a channel");
        _assertEq(handler.guaranteeNamedPaid(), 0, "a transfer naming a guarantee succeeded");
        _assertEq(handler.payoutOutOfOrder(), 0, "a payout broke the order (or paid a guarantee)");
        // The mixed channel's guarantees: ETH allocation 2 (slot 2), token allocation 1 (slot 4).
        uint256[2] memory slots = [uint256(2), 4];
        for (uint256 n; n < 2; ++n) {
            (uint256 amount, uint256 paid) = handler.allocationPaid(MIXED, slots[n]);
            _assertEq(paid, 0, "a guarantee was paid");
            (bytes32 destination, uint256 owed) = handler.owedAllocation(MIXED, slots[n]);
            if (handler.registered(MIXED)) {
                _assertTrue(uint256(destination) >> 160 != 0, "the guarantee's destination is a channel");
            }
            _assertEq(owed, amount, "a guarantee no longer owed in full");
        }
    }

    function _assertHoldingsSumToBalance(address asset, uint256 balance) internal view {
        uint256 sum;
        // A registered channel's ETH is read through the handler's mirror of its registration, which the
        // adjudicator checks against the fingerprint.
        for (uint256 c; c < handler.CHANNELS(); ++c) sum += handler.holdingsOf(asset, c);
        _assertEq(sum, balance, "sum of holdings != adjudicator balance");
        _assertEq(balance, handler.totalDeposited(asset) - handler.totalPaidOut(asset), "deposits - payouts");
    }
}
