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

    /// @notice Funds: deposits into every channel, a dispute that a voucher answers, a voucher challenge that
    /// finalizes and pays by index, a challenge that finalizes and pays all assets (the mixed channel pays into
    /// channels 0 and 2), and a cooperative close; every payout is accounted for by the ghosts.
    function test_handlerReachesEveryAction() public {
        for (uint256 c; c < 5; ++c) {
            handler.depositEth(c, 5 ether);
            handler.depositToken(c, 5 ether);
        }
        // Channel 0 (ETH): both sign turn 1, the payer challenges, the payee answers with a voucher.
        handler.checkpoint(0, 1, 11);
        handler.challenge(0, 1, 12, false);
        handler.respondWithVoucher(0, 500, true);
        // Channel 2 (token): the payee challenges alone with a voucher, which finalizes and is paid by index.
        handler.checkpoint(2, 1, 13);
        handler.challengeWithVoucher(2, 700);
        // Channel 4 (mixed): a watchtower challenges for the payer.
        handler.challenge(4, 1, 14, true);
        handler.warp(1 days + 1);
        handler.transfer(2, 0, 2);
        handler.transfer(2, 0, 1);
        handler.transferAllAssets(4);
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
            if (c != 0) _assertTrue(handler.frozen(c), "finalized");
        }
    }
}
