// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AdjudicatorHandler} from "./AdjudicatorHandler.sol";
import {Assertions} from "./utils/Assertions.sol";

/// @notice The invariant handler reaches every part of the game: a scripted sequence whose every action succeeds,
/// so that the random runs of the invariant tests are not just a stream of reverts.
contract AdjudicatorHandlerTest is Assertions {
    AdjudicatorHandler internal handler;

    function setUp() public {
        handler = new AdjudicatorHandler();
    }

    /// @notice Funds: deposits into every channel, a dispute that a checkpoint and then a voucher answer (each
    /// keeping the payer's deadline, ADR 0005), a voucher challenge that finalizes and pays by index, a challenge
    /// that finalizes and pays all assets except the mixed channel's guarantees for channels 0 and 2 (never paid:
    /// they stay owed, and naming one is refused), and a cooperative close; every payout is accounted for by the
    /// ghosts.
    function test_handlerReachesEveryAction() public {
        for (uint256 c; c < 5; ++c) {
            handler.depositEth(c, 5 ether);
            handler.depositToken(c, 5 ether);
        }
        // Channel 0 (ETH): a checkpoint of the open channel is refused; the payer challenges at turn 1, both sign
        // turn 2 and checkpoint it, the payee answers with a voucher at turn 3: one deadline throughout.
        handler.checkpoint(0, 1, 11);
        _assertEq(handler.succeeded("checkpoint"), 0, "no checkpoint of an open channel");
        handler.challenge(0, 1, 12, false);
        uint256 deadline = handler.registeredFinalizesAt(0);
        handler.checkpoint(0, 1, 11);
        handler.respondWithVoucher(0, 500, true);
        (uint48 record, uint48 finalizesAt,) = handler.adjudicator().statusOf(handler.channelIds(0));
        _assertEq(record, 3, "the voucher response is registered");
        _assertEq(finalizesAt, deadline, "the payer's deadline stays");
        // Channel 2 (token): the payee challenges alone with a voucher on the funding state, which finalizes and
        // is paid by index.
        handler.challengeWithVoucher(2, 700);
        // Channel 4 (mixed): a watchtower challenges for the payer.
        handler.challenge(4, 1, 14, true);
        handler.warp(1 days + 1);
        handler.transfer(2, 0, 2);
        handler.transfer(2, 0, 1);
        // Channel 4 pays both assets but not its guarantees: channels 0 and 2 receive nothing, and a transfer
        // naming the token guarantee (allocation 1, mask 0b010) is refused.
        uint256 channel0Eth = handler.holdingsOf(address(0), 0);
        uint256 channel2Tokens = handler.holdingsOf(address(handler.token()), 2);
        handler.transferAllAssets(4);
        handler.transfer(4, 1, 2);
        _assertEq(handler.holdingsOf(address(0), 0), channel0Eth, "channel 0 credited");
        _assertEq(handler.holdingsOf(address(handler.token()), 2), channel2Tokens, "channel 2 credited");
        (, uint256 ethGuarantee) = handler.owedAllocation(4, 2);
        (uint256 registeredGuarantee,) = handler.allocationPaid(4, 2);
        _assertTrue(ethGuarantee > 0 && ethGuarantee == registeredGuarantee, "the ETH guarantee stays owed");
        _assertEq(handler.succeeded("guaranteeNamedRefused"), 1, "naming a guarantee is refused");
        handler.transferAllAssets(0);
        // Channel 3 (token): cooperative close in one call.
        handler.conclude(3, 1, 15, true);
        // Channel 1 (ETH): conclude, then pay.
        handler.conclude(1, 2, 16, false);
        handler.transferAllAssets(1);

        string[9] memory actions = [
            "deposit",
            "checkpoint",
            "challenge",
            "respond",
            "challengeWithVoucher",
            "transfer",
            "transferAllAssets",
            "concludeAndTransfer",
            "conclude"
        ];
        for (uint256 i; i < actions.length; ++i) {
            _assertTrue(handler.succeeded(bytes32(bytes(actions[i]))) > 0, actions[i]);
        }
        _assertEq(handler.totalDeposited(address(0)), 5 * (5 ether + 1), "ETH deposited (1 + amount % 10 ether each)");
        _assertTrue(handler.totalPaidOut(address(0)) > 0, "ETH paid out");
        _assertTrue(handler.totalPaidOut(address(handler.token())) > 0, "tokens paid out");
        for (uint256 c; c < 5; ++c) {
            _assertTrue(handler.frozen(c), "finalized");
        }
        _assertEq(handler.deadlineMoved(), 0, "no deadline moved");
        _assertEq(handler.openChannelCheckpointed(), 0, "no open channel checkpointed");
        _assertEq(handler.ethMirrorWrong(), 0, "the ETH mirror follows the adjudicator");
        _assertEq(handler.payoutNotMatchingDebit(), 0, "payouts debit what they pay");
        _assertEq(handler.channelIdPaid(), 0, "no channel credited");
        _assertEq(handler.guaranteeNamedPaid(), 0, "no guarantee paid by index");
        _assertEq(handler.payoutOutOfOrder(), 0, "every payout in order");
        _assertEq(handler.owedOutcomeRefused(), 0, "no owed outcome refused");
    }
}
