// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdjudicatorInvariantsBase} from "./AdjudicatorInvariantsBase.sol";

/// @notice The money invariants: holdings, deposits and payouts.
contract MoneyInvariantsTest is AdjudicatorInvariantsBase {
    /// @notice Funds: every wei and token unit the adjudicator holds belongs to exactly one channel; the holdings
    /// add up to its balance, which is what was deposited less what was paid out.
    function invariant_holdingsSumToBalance() public view {
        _assertHoldingsSumToBalance(address(0), address(adjudicator).balance);
        _assertHoldingsSumToBalance(token, handler.token().balanceOf(address(adjudicator)));
    }

    /// @notice Funds: no more leaves than came in, per asset; no payout pays more than the paying channel held,
    /// and each payout debits the channel by exactly what its destinations received.
    function invariant_payoutsNeverExceedDeposits() public view {
        _assertLe(handler.totalPaidOut(address(0)), handler.totalDeposited(address(0)), "ETH paid out");
        _assertLe(handler.totalPaidOut(token), handler.totalDeposited(token), "tokens paid out");
        _assertEq(handler.channelPaidMoreThanHeld(), 0, "a channel paid more than it held");
        _assertEq(handler.payoutNotMatchingDebit(), 0, "a payout differs from the channel's debit");
        _assertEq(handler.ethMirrorWrong(), 0, "the ETH committed differs from the mirror");
    }

    /// @notice Funds: a finalized outcome pays each destination at most its allocation, however the payouts are
    /// split (by index, all assets, or in the cooperative close), and the outcome still owed is always payable.
    function invariant_eachDestinationPaidAtMostOnce() public view {
        _assertEq(handler.allocationPaidMoreThanOwed(), 0, "an allocation was paid more than owed");
        _assertEq(handler.owedOutcomeRefused(), 0, "the outcome still owed was refused");
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            for (uint256 k; k < 6; ++k) {
                (uint256 amount, uint256 paid) = handler.allocationPaid(c, k);
                _assertLe(paid, amount, "paid more than the allocation");
            }
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
