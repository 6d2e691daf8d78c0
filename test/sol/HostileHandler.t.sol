// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HostileHandler} from "./HostileHandler.sol";
import {Assertions} from "./utils/Assertions.sol";

/// @notice The hostile handler reaches every part of the game: scripted sequences whose every action succeeds, so
/// that the random runs of the Hostile*Invariants.t.sol tests are not just a stream of reverts. The seeds follow
/// the bit layout of HostileHandler (`_move`, `_buildSupported`, `_voucherOn`, `_turnNum`).
contract HostileHandlerTest is Assertions {
    /// @dev Signs the next voucher at exactly one more ether: amount = largest + 1 + seed % (DEPOSIT / 8).
    uint256 internal constant ONE_ETHER_MORE = 1 ether - 1;
    /// @dev The payee sends the transaction itself, with its signature filled (bit 0: payee; bits 1-2 != 0).
    uint256 internal constant PAYEE_SENDS = 3;
    /// @dev The payer sends the transaction itself, with her signature filled.
    uint256 internal constant PAYER_SENDS = 2;
    /// @dev The payee's voucher on the funding state: % 3 != 0, funding as base, largest voucher.
    uint256 internal constant LARGEST_ON_FUNDING = 2 + (1 << 13);

    /// @notice Funds: in channel 0 the payee challenges with a voucher on the funding state, answers with a larger
    /// voucher, checkpoints a third, and after one challenge duration the outcome is paid by index and in full;
    /// channel 1 closes on the payer's close offer. Each party gets exactly what the payer's signatures say.
    function test_handlerReachesEveryAction() public {
        HostileHandler handler = new HostileHandler();
        handler.payerSignsVoucher(ONE_ETHER_MORE);
        // The first voucher (1 ether, seed 0 picks vouchers[0]) on the funding state, at turn 1.
        handler.challenge(0, PAYEE_SENDS, 1, 0);
        handler.payerSignsVoucher(ONE_ETHER_MORE);
        // The largest voucher (2 ether) on top of the registered state, at the next turn.
        handler.respond(0, PAYEE_SENDS, 5, 1);
        handler.payerSignsVoucher(ONE_ETHER_MORE);
        // The largest voucher (3 ether) on the funding state, above the record.
        handler.checkpoint(0, PAYEE_SENDS, LARGEST_ON_FUNDING, 0);
        handler.warp(1 hours + 1);
        handler.transfer(0, 2);
        handler.transferAllAssets(0);
        // Channel 1: the payer offers 3 ether at turn 5, countersigned, concludes it, and anyone pays it.
        handler.payerOffersClose(1, 0, 5, true);
        handler.conclude(1, PAYER_SENDS, 1, false);
        handler.transferAllAssets(1);

        _assertPaid(handler, 0, 7 ether, 3 ether);
        _assertPaid(handler, 1, 7 ether, 3 ether);
        string[6] memory actions = ["challenge", "respond", "checkpoint", "transfer", "transferAllAssets", "conclude"];
        for (uint256 i; i < actions.length; ++i) {
            _assertTrue(handler.succeeded(bytes32(bytes(actions[i]))) > 0, actions[i]);
        }
    }

    /// @notice Funds: the payee countersigns the payer's close offer by sending it and is paid in the same call;
    /// the payer exits channel 1 with her funding state, clamped to MIN_CHALLENGE_DURATION (duration 0).
    function test_handlerClosesAndExitsWithTheFundingState() public {
        HostileHandler handler = new HostileHandler();
        handler.payerSignsVoucher(ONE_ETHER_MORE);
        handler.payerOffersClose(0, 0, 2, false);
        handler.conclude(0, PAYEE_SENDS, 1, true);
        // Seed 0: the payer picks the first recorded state, the funding state, with no proof.
        handler.challenge(1, PAYER_SENDS, 0, 0);
        handler.warp(10);
        handler.transferAllAssets(1);

        _assertPaid(handler, 0, 9 ether, 1 ether);
        _assertPaid(handler, 1, 10 ether, 0);
        _assertTrue(handler.succeeded("concludeAndTransfer") > 0, "concludeAndTransfer");
        _assertTrue(handler.succeeded("challenge") > 0, "challenge");
    }

    function _assertPaid(HostileHandler handler, uint256 c, uint256 toPayer, uint256 toPayee) internal view {
        _assertEq(handler.payer(c).balance, toPayer, "payer paid");
        _assertEq(handler.payee(c).balance, toPayee, "payee paid");
        _assertEq(handler.holdingsOf(c), 0, "channel emptied");
    }
}
