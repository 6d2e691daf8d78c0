// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HostileInvariantsBase} from "./HostileInvariantsBase.sol";

/// @notice Money: payouts follow the payer's signatures, and no wei appears or disappears.
contract HostileMoneyInvariantsTest is HostileInvariantsBase {
    /// @notice Every money against a hostile counterparty property below, checked after every call of every run: one campaign for all of them
    /// (each still checked in each of the CI profile's 10,000 runs), rather than one campaign each: a campaign costs
    /// the same whatever it checks, and one per property made `npm test` miss its time budget.
    function invariant_hostileMoney() public view {
        _checkPayoutsBoundedBySignatures();
        _checkNoWeiCreatedOrLost();
    }

    /// @notice Funds (hole 1, docs/security.md row 29): the payee is paid, and owed by the registered outcome, at most
    /// the largest voucher the payer signed (her close offers never pay more); so the payer gets, or is owed, at
    /// least the deposit less that voucher.
    function _checkPayoutsBoundedBySignatures() internal view {
        uint256 deposit = handler.DEPOSIT();
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            uint256 largest = handler.maxVoucher(c);
            uint256 payeeReceived = handler.payee(c).balance;
            uint256 payerReceived = handler.payer(c).balance;
            (uint256 owedToPayer, uint256 owedToPayee) = handler.stillOwed(c);
            uint256 held = handler.holdingsOf(c);
            _assertLe(payeeReceived, largest, "payee received more than the largest voucher");
            _assertLe(payeeReceived + owedToPayee, largest, "payee received and is owed more than the largest voucher");
            _assertLe(
                deposit - largest,
                payerReceived + (owedToPayer < held ? owedToPayer : held),
                "payer received and is owed less than the deposit less the largest voucher"
            );
        }
    }

    /// @notice Funds: what the parties received and what the channels still hold add up to the deposits, and the
    /// adjudicator's balance is exactly what its channels hold; no allocation was paid more than it was owed.
    function _checkNoWeiCreatedOrLost() internal view {
        uint256 sum;
        for (uint256 c; c < handler.CHANNELS(); ++c) {
            uint256 held = handler.holdingsOf(c);
            sum += held;
            _assertEq(
                handler.payer(c).balance + handler.payee(c).balance + held, handler.DEPOSIT(), "received + held"
            );
        }
        _assertEq(address(adjudicator).balance, sum, "adjudicator balance != sum of holdings");
        _assertEq(handler.allocationOverpaid(), 0, "an allocation was paid more than owed");
    }
}
