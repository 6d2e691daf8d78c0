// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HubHandler} from "./HubHandler.sol";
import {Assertions} from "./utils/Assertions.sol";
import {InvariantTest} from "./utils/InvariantTest.sol";

/// @notice The invariants of ADR 0021 (decision 3) over ledgers and virtual channels, under random sequences of
/// deposits (into virtual channels too), conclusions, challenges, time, payouts, reclaims in any order and reclaims
/// with a wrong argument. HubHandler drives them; the CI profile runs each invariant 10,000 times.
contract HubInvariantsTest is Assertions, InvariantTest {
    HubHandler internal handler;

    function setUp() public {
        handler = new HubHandler();
        _targetContract(address(handler));
    }

    /// @notice Every property below after every call of every run. One invariant, not six: the handler checks each
    /// call as it makes it (the ghost counters), so six invariants would only run six campaigns of the same random
    /// sequences; one keeps the CI profile's 10,000 runs (security row 15) at a sixth of the time.
    function invariant_hubMoney() public view {
        _hubHoldingsSumToBalance();
        _reclaimMovesNoMoney();
        _reclaimOnlyWithTheRightArguments();
        _channelsPayAtMostTheirDeposits();
        _noWeiPaidToChannelIds();
        _virtualSplitsAsOwed();
    }

    /// @notice Funds: no wei or token unit is created or lost. The holdings of the ledgers and virtual channels
    /// add up to the adjudicator's balance, which is what was deposited less what was paid out.
    function _hubHoldingsSumToBalance() internal view {
        _assertSumToBalance(address(0), address(handler.adjudicator()).balance);
        _assertSumToBalance(address(handler.token()), handler.token().balanceOf(address(handler.adjudicator())));
    }

    /// @notice Funds: a reclaim moves no money. It changes no holdings and no balance, rewrites only the ledger's
    /// fingerprint (same turn record, deadline and ETH), to the outcome with the guarantee at 0 and its amount split
    /// between the user (what the virtual channel still owes it, capped by the guarantee) and the hub (the rest),
    /// so the outcome's total stays; the Reclaimed event says the same; the virtual channel's status is untouched.
    function _reclaimMovesNoMoney() internal view {
        _assertEq(handler.reclaimMovedHoldings(), 0, "a reclaim moved holdings or balances");
        _assertEq(handler.reclaimNotAsSpecified(), 0, "a reclaim changed the ledger other than specified");
        _assertEq(handler.virtualStatusTouched(), 0, "a reclaim changed the virtual channel's status");
    }

    /// @notice Funds: a reclaim succeeds exactly when it should. With the right arguments it is never refused once
    /// both channels are finalized and the guarantee is live, and it is refused otherwise (not finalized, already
    /// reclaimed); with one wrong argument it is always refused and changes nothing.
    function _reclaimOnlyWithTheRightArguments() internal view {
        _assertEq(handler.reclaimRefused(), 0, "a live guarantee's reclaim was refused");
        _assertEq(handler.wrongReclaimAccepted(), 0, "a reclaim with a wrong argument or too early succeeded");
    }

    /// @notice Funds: no channel pays out more than was deposited into it, per asset (a ledger in particular, however
    /// its guarantees are reclaimed); every payout pays each allocation at most what it is owed, debits the paying
    /// channel by exactly what left the adjudicator, and the outcome still owed stays payable.
    function _channelsPayAtMostTheirDeposits() internal view {
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            for (uint256 s; s < 2; ++s) {
                _assertLe(handler.paidOutOf(c, s), handler.depositedInto(c, s), "a channel paid out more than it got");
            }
        }
        _assertEq(handler.payoutNotMatchingDebit(), 0, "a payout differs from the channel's debit");
        _assertEq(handler.allocationPaidMoreThanOwed(), 0, "an allocation was paid more than owed");
        _assertEq(handler.owedOutcomeRefused(), 0, "the outcome still owed was refused");
        _assertEq(handler.ethMirrorWrong(), 0, "the fingerprint differs from the mirror");
    }

    /// @notice Funds: no wei is ever paid to a channel id. Every PaidOut names an external destination, no payout
    /// changes another channel's holdings, and a transfer naming a guarantee is refused.
    function _noWeiPaidToChannelIds() internal view {
        _assertEq(handler.paidToChannelId(), 0, "PaidOut to a channel id");
        _assertEq(handler.channelCredited(), 0, "a payout changed another channel's holdings");
        _assertEq(handler.guaranteeNamedPaid(), 0, "a transfer naming a guarantee succeeded");
    }

    /// @notice Funds: a virtual channel splits its two guarantees as it owes. In each ledger reclaimed, the user
    /// gains what the virtual channel still owed it, so with what the virtual channel's own payouts paid it before,
    /// it ends with exactly its allocation. For each virtual channel reclaimed in both ledgers, the four gains add up
    /// to 2x, and the hub's net (its two gains less its x in the seeder's ledger) is its allocation plus what the
    /// virtual channel's payouts had paid the users by then (a deposit into the virtual channel ends with the hub);
    /// with no such payout, exactly its allocation.
    function _virtualSplitsAsOwed() internal view {
        for (uint256 k; k < handler.VIRTUALS(); ++k) {
            uint256 x = handler.virtualAmount(k);
            for (uint256 lg; lg < handler.LEDGERS(); ++lg) {
                if (!handler.reclaimed(lg, k)) continue;
                uint256 side = lg == 0 ? 0 : 2;
                _assertEq(
                    handler.userGain(lg, k) + handler.paidToUserBeforeReclaim(lg, k),
                    handler.virtualAllocation(k, side),
                    "the user does not end with its allocation"
                );
                _assertEq(handler.userGain(lg, k) + handler.hubGain(lg, k), x, "a ledger's gains differ from x");
            }
            if (!handler.reclaimed(0, k) || !handler.reclaimed(1, k)) continue;
            uint256 gains =
                handler.userGain(0, k) + handler.hubGain(0, k) + handler.userGain(1, k) + handler.hubGain(1, k);
            _assertEq(gains, 2 * x, "the gains of both reclaims differ from 2x");
            _assertEq(
                handler.hubGain(0, k) + handler.hubGain(1, k) - x,
                handler.virtualAllocation(k, 1) + handler.paidToUserBeforeReclaim(0, k)
                    + handler.paidToUserBeforeReclaim(1, k),
                "the hub's net differs from its allocation"
            );
        }
    }

    function _assertSumToBalance(address asset, uint256 balance) internal view {
        uint256 sum;
        for (uint256 c; c < handler.CHANNELS(); ++c) sum += handler.holdingsOf(asset, c);
        _assertEq(sum, balance, "sum of holdings != adjudicator balance");
        _assertEq(balance, handler.totalDeposited(asset) - handler.totalPaidOut(asset), "deposits - payouts");
    }
}
