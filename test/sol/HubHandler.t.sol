// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HubHandler} from "./HubHandler.sol";
import {Assertions} from "./utils/Assertions.sol";

/// @notice The hub handler reaches every part of the game: scripted sequences whose actions succeed, so that the
/// random runs of HubInvariants.t.sol are not just a stream of reverts.
contract HubHandlerTest is Assertions {
    HubHandler internal handler;

    /// @dev finalizeVirtual's seed: mode in bits 0-1 (0 conclude, 1 V0, 2-3 challenge), p in per mille of x from
    /// bit 2, the challenger from bit 12 (0 payer, 1 hub, 2 payee, 3 a watchtower).
    uint256 internal constant CONCLUDE = 0;
    uint256 internal constant WITH_V0 = 1;
    uint256 internal constant CHALLENGE = 2;

    function setUp() public {
        handler = new HubHandler();
    }

    /// @notice Funds: V0 concluded by all three and reclaimed in both ledgers (payer side first), V1 challenged by
    /// the hub, paid out in part from a deposit into it and then reclaimed (payee side first), V2 (tokens)
    /// challenged with V0 and reclaimed in one ledger; both ledgers paid out around their reclaims, a transfer
    /// naming a guarantee refused, every wrong-argument reclaim refused.
    function test_handlerReachesEveryAction() public {
        for (uint256 lg; lg < 2; ++lg) {
            handler.deposit(lg, 7 ether, false);
            handler.deposit(lg, 7 ether, true);
        }
        // V1 gets 1 ETH + 1 wei from someone: less than x, so its payout pays the payer and part of the hub.
        handler.deposit(3, 1 ether, false);
        handler.finalizeVirtual(0, CONCLUDE | 400 << 2);
        handler.finalizeVirtual(1, CHALLENGE | 600 << 2 | 1 << 12);
        handler.finalizeVirtual(2, WITH_V0 | 3 << 12);
        handler.finalizeLedger(0, 0 | 11 << 2); // conclude A
        handler.finalizeLedger(1, 2 | 12 << 2); // challenge B
        // Too early for B, V1 and V2: refused, and so is every wrong argument.
        handler.reclaim(1, 0);
        handler.warp(2 hours + 1);
        for (uint256 m; m < 20; ++m) handler.reclaimWrong(m, m / 2, m + (m << 8));
        _assertEq(handler.succeeded("wrongReclaimRefused"), 20, "every wrong reclaim refused when live");

        handler.reclaim(0, 0);
        handler.payout(0, 0); // A pays all (its guarantees for V1 and V2 stay)
        handler.reclaim(1, 0);
        handler.payout(3, 0); // V1 pays what its deposit covers
        handler.reclaim(1, 1);
        handler.reclaim(0, 1);
        handler.reclaim(1, 2);
        handler.payout(1, 1 | 0x4 << 8); // B's ETH allocation 2 (V0's guarantee, now 0) by index: refused
        handler.payout(1, 1 | 0x3 << 8); // B's user and hub
        handler.payout(0, 0);

        string[11] memory actions = [
            "deposit",
            "concludeVirtual",
            "challengeVirtual",
            "concludeLedger",
            "challengeLedger",
            "reclaim",
            "wrongReclaimRefused",
            "transferAllAssets",
            "transfer",
            "guaranteeNamedRefused",
            "reclaim"
        ];
        for (uint256 i; i < actions.length; ++i) {
            _assertTrue(handler.succeeded(bytes32(bytes(actions[i]))) > 0, actions[i]);
        }
        _assertEq(handler.succeeded("reclaim"), 5, "five reclaims");
        _assertTrue(handler.reclaimed(0, 0) && handler.reclaimed(1, 0), "V0 reclaimed in both ledgers");
        _assertTrue(handler.reclaimed(0, 1) && handler.reclaimed(1, 1), "V1 reclaimed in both ledgers");
        _assertTrue(handler.paidToUserBeforeReclaim(0, 1) > 0, "V1 paid its payer before the reclaim");
        _assertTrue(handler.paidOutOf(0, 0) > 0 && handler.paidOutOf(1, 0) > 0, "both ledgers paid ETH");
        _assertEq(handler.wrongReclaimAccepted(), 0, "no wrong reclaim accepted");
        _assertEq(handler.reclaimRefused(), 0, "no live reclaim refused");
        _assertEq(handler.reclaimNotAsSpecified(), 0, "every reclaim as specified");
        _assertEq(handler.reclaimMovedHoldings(), 0, "no reclaim moved holdings");
        _assertEq(handler.virtualStatusTouched(), 0, "no virtual status touched");
        _assertEq(handler.payoutNotMatchingDebit(), 0, "payouts debit what they pay");
        _assertEq(handler.channelCredited(), 0, "no channel credited");
        _assertEq(handler.paidToChannelId(), 0, "no PaidOut to a channel");
        _assertEq(handler.ethMirrorWrong(), 0, "the mirror follows the chain");
        _assertEq(handler.owedOutcomeRefused(), 0, "no owed outcome refused");
    }

    /// @notice Funds: a virtual channel whose outcome a deposit paid in full still lets its ledgers reclaim, even
    /// when the deposit exceeded x: the ETH left over stays committed in its fingerprint, beside an outcome that owes
    /// nothing. Each guarantee then goes to the hub, as ADR 0021 says of a deposit into V.
    function test_reclaimAfterVirtualChannelPaidInFullWithEthLeft() public {
        handler.deposit(0, 7 ether, false);
        handler.deposit(3, 3.5 ether - 1, false); // 3.5 ETH into V1, whose x is 3 ETH
        handler.finalizeVirtual(1, CONCLUDE | 500 << 2);
        handler.finalizeLedger(0, 0 | 7 << 2);
        handler.payout(3, 0); // V1 pays its whole outcome; 0.5 ETH stays in it
        _assertEq(handler.committedEth(3), 0.5 ether, "V1 keeps the ETH beyond its outcome");
        handler.reclaim(0, 1);
        _assertEq(handler.reclaimRefused(), 0, "the reclaim of a virtual channel that owes nothing was refused");
        _assertTrue(handler.reclaimed(0, 1), "reclaimed");
        _assertEq(handler.userGain(0, 1), 0, "V1 owes its payer nothing any more");
        _assertEq(handler.hubGain(0, 1), 3 ether, "the whole guarantee goes to the hub");
    }
}
