// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IVoucherPaymentApp} from "../../contracts/interfaces/IVoucherPaymentApp.sol";
import {
    Registration, SignedVariablePart, SingleAssetExit, VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {AdjudicatorTestBase} from "./utils/AdjudicatorTestBase.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Fuzzed vouchers through the voucher app and the adjudicator (docs/security.md rows 8 and 17): a voucher
/// never moves more than the payer put in, and what the payee is paid is bounded by the deposit.
contract VoucherPaymentsFuzzTest is AdjudicatorTestBase {
    uint256 internal constant MAX_DEPOSIT = 1e30;

    /// @notice Funds: the payee enforces a voucher alone (challenge with the voucher on the opening state, wait,
    /// pay out). A voucher up to the deposit pays the payee exactly its amount and the payer the rest; a larger
    /// one is refused (even with the payee's allocation capped at the deposit), and then the payer recovers its
    /// whole deposit and the payee gets nothing.
    function testFuzz_voucherNeverMovesMoreThanDeposit(uint256 deposit, uint256 voucher, bool useToken) public {
        address asset = useToken ? address(token) : address(0);
        deposit = _bound(deposit, 1, MAX_DEPOSIT);
        voucher = _bound(voucher, 0, 2 * deposit);
        _deposit(asset, deposit);
        VariablePart memory opening = _state(asset, deposit, 0, 0, false);
        SignedVariablePart[] memory proof = new SignedVariablePart[](1);
        proof[0] = _signedByBoth(channelId, opening, PAYER_KEY, PAYEE_KEY);
        uint256 payerBefore = _balance(asset, payer);
        uint256 payeeBefore = _balance(asset, payee);

        VariablePart memory registered;
        if (voucher <= deposit) {
            registered = _voucherState(asset, deposit - voucher, voucher, voucher, 1);
            uint256 heldEth = _ethToCommit();
            VM.prank(payee);
            adjudicator.challenge(fixedPart, proof, _signedByPayee(channelId, registered, PAYEE_KEY, true), "", noRegistration);
            _noteRegistered(registered, heldEth);
        } else {
            bytes memory exceeds =
                abi.encodeWithSelector(IVoucherPaymentApp.VoucherExceedsDeposit.selector, voucher, deposit);
            VariablePart memory greedy = _voucherState(asset, 0, voucher, voucher, 1);
            VM.prank(payee);
            VM.expectRevert(exceeds);
            adjudicator.challenge(fixedPart, proof, _signedByPayee(channelId, greedy, PAYEE_KEY, true), "", noRegistration);
            VariablePart memory capped = _voucherState(asset, 0, deposit, voucher, 1);
            VM.prank(payee);
            VM.expectRevert(exceeds);
            adjudicator.challenge(fixedPart, proof, _signedByPayee(channelId, capped, PAYEE_KEY, true), "", noRegistration);
            registered = opening;
            _challengeByPayer(opening);
        }
        VM.warp(block.timestamp + DURATION);
        _payAll(registered);

        uint256 payeeGot = _balance(asset, payee) - payeeBefore;
        uint256 payerGot = _balance(asset, payer) - payerBefore;
        _assertEq(payeeGot, voucher <= deposit ? voucher : 0, "payee paid its voucher, or nothing");
        _assertEq(payerGot, deposit - payeeGot, "payer gets the rest of its deposit");
        _assertEq(adjudicator.holdings(asset, channelId), 0, "channel emptied");
    }

    /// @notice Funds: the payer challenges with a stale state (holding voucher `previous`); the payee answers with
    /// its latest voucher, which the response registers in place of the stale state under the payer's deadline
    /// (ADR 0005), and is paid at that deadline. However the channel is funded (the payer's allocation `allocation`
    /// may exceed the deposit), allocations are paid in order, payer first: the payee gets
    /// min(voucher, deposit - what the payer got), never more than the voucher or the deposit, and the payer never
    /// loses more than it deposited.
    function testFuzz_voucherPayoutBoundedByDeposit(
        uint256 allocation,
        uint256 deposit,
        uint256 previous,
        uint256 voucher,
        bool payeeSends
    ) public {
        allocation = _bound(allocation, 1, MAX_DEPOSIT);
        deposit = _bound(deposit, 1, 2 * allocation);
        previous = _bound(previous, 0, allocation);
        voucher = _bound(voucher, previous, allocation);
        _deposit(address(0), deposit);
        uint256 payerStart = payer.balance + deposit;

        // The stale state both signed: the payer already owed `previous`.
        VariablePart memory stale = _voucherState(address(0), allocation - previous, previous, previous, 1);
        _challengeByPayer(stale);
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        VariablePart memory latest = _voucherState(address(0), allocation - voucher, voucher, voucher, 2);
        uint256 heldEth = lastRegistration.heldEth;
        if (payeeSends) VM.prank(payee);
        adjudicator.respond(fixedPart, channelId, stale, _signedByPayee(channelId, latest, PAYEE_KEY, payeeSends), heldEth);
        // The response is the registered state now: the payee needs no challenge of its own.
        _noteRegistered(latest, heldEth);
        _assertTrue(lastRegistration.stateHash == _stateHash(channelId, latest), "the response is registered");
        (uint48 record, uint48 deadline,) = adjudicator.statusOf(channelId);
        _assertEq(record, 2, "the record is the response's turn");
        _assertEq(deadline, finalizesAt, "the payer's deadline stays");
        VM.warp(finalizesAt);
        uint256 payeeBefore = payee.balance;
        _payAll(latest);

        uint256 payerOwed = allocation - voucher;
        uint256 payerGot = payerOwed < deposit ? payerOwed : deposit;
        uint256 payeeExpected = voucher < deposit - payerGot ? voucher : deposit - payerGot;
        uint256 payeeGot = payee.balance - payeeBefore;
        _assertEq(payeeGot, payeeExpected, "payee gets min(voucher, what the payer's share left)");
        _assertLe(payeeGot, deposit, "payee gets at most the deposit");
        _assertLe(payeeGot, voucher, "payee gets at most the voucher");
        _assertLe(payerStart - payer.balance, deposit, "payer loses at most its deposit");
        uint256 left = deposit - payerGot - payeeGot;
        _assertEq(payerStart - payer.balance, payeeGot + left, "conserved");
        // What is left and still owed is what the fingerprint commits to (the adjudicator checks it).
        bytes32 latestHash = _stateHash(channelId, latest);
        SingleAssetExit[] memory owed = latest.outcome; // the same memory: latest's amounts change too
        owed[0].allocations[0].amount = payerOwed - payerGot;
        owed[0].allocations[1].amount = voucher - payeeGot;
        bool anythingOwed = owed[0].allocations[0].amount != 0 || owed[0].allocations[1].amount != 0;
        bytes32 owedHash = anythingOwed ? keccak256(abi.encode(owed)) : bytes32(0);
        _assertEq(
            adjudicator.ethHoldings(channelId, Registration(latestHash, owedHash, left)),
            left,
            "the fingerprint commits what is left"
        );
    }

    /// @dev A state with allocations [payer, payee] whose appData is the payer's voucher of `amount`.
    function _voucherState(address asset, uint256 payerAmount, uint256 payeeAmount, uint256 amount, uint48 turnNum)
        internal
        view
        returns (VariablePart memory state)
    {
        state = _state(asset, payerAmount, payeeAmount, turnNum, false);
        state.appData = _voucher(PAYER_KEY, channelId, amount);
    }
}
