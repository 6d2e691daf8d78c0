// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAdjudicator} from "../../contracts/interfaces/IAdjudicator.sol";
import {
    Allocation, Registration, SignedVariablePart, SingleAssetExit, VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {EncodingHarness} from "../../contracts/test/EncodingHarness.sol";
import {AdjudicatorTestBase} from "./utils/AdjudicatorTestBase.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Fuzzed payouts (docs/security.md row 8): allocations are paid in order, each min(amount, what is left),
/// never more than held, with amounts up to 2^256 - 1.
contract PayoutsFuzzTest is AdjudicatorTestBase {
    uint256 internal constant COUNT = 5;
    EncodingHarness internal harness;

    function setUp() public override {
        super.setUp();
        harness = new EncodingHarness();
    }

    /// @notice Funds: PayoutLib pays the chosen allocations min(amount, what the allocations before them left),
    /// whether or not those earlier ones are paid in this call; the total never exceeds what is held, and what is
    /// still owed is the amount less what was paid. Amounts and holdings are drawn near 2^256 - 1 too.
    function testFuzz_payoutLibPaysMinInOrder(uint256 held, uint256[COUNT] memory amounts, uint256 mask, uint256 near)
        public
        view
    {
        held = _nearMax(held, near, COUNT);
        Allocation[] memory allocations = new Allocation[](COUNT);
        for (uint256 i; i < COUNT; ++i) {
            allocations[i] = Allocation(_destination(address(uint160(i + 1))), _nearMax(amounts[i], near, i));
        }
        uint256[] memory indices = _indices(mask);
        (uint256[] memory newAmounts, uint256[] memory paid, uint256 totalPaid) =
            harness.computePayouts(held, allocations, indices);

        uint256 remaining = held;
        uint256 sum;
        for (uint256 i; i < COUNT; ++i) {
            uint256 amount = allocations[i].amount;
            uint256 affordable = amount < remaining ? amount : remaining;
            remaining -= affordable;
            uint256 expected = (indices.length == 0 || (mask >> i) & 1 == 1) ? affordable : 0;
            _assertEq(paid[i], expected, "paid min(amount, remaining) in order");
            _assertEq(newAmounts[i], amount - expected, "still owed");
            sum += paid[i];
        }
        _assertEq(totalPaid, sum, "total is the sum paid");
        _assertLe(totalPaid, held, "never more than held");
    }

    /// @notice Funds: a finalized outcome whose allocations are near 2^256 - 1 pays the payer the whole deposit
    /// and the payee nothing (payer first); a top-up deposit afterwards is refused, since the channel's ETH is
    /// committed, and the depositor keeps it. Never more than held, no overflow.
    function testFuzz_adjudicatorPaysNearMaxAmounts(uint256 deposit, uint256 topUp, uint256 payerGap, uint256 payeeGap)
        public
    {
        deposit = _bound(deposit, 1, 1e30);
        topUp = _bound(topUp, 1, 1e30);
        uint256 payerAmount = type(uint256).max - _bound(payerGap, 0, 1e30);
        uint256 payeeAmount = type(uint256).max - _bound(payeeGap, 0, 1e30);
        _deposit(address(0), deposit);
        VariablePart memory closing = _state(address(0), payerAmount, payeeAmount, 1, true);
        SignedVariablePart memory signed = _signedByBoth(channelId, closing, PAYER_KEY, PAYEE_KEY);
        uint256 payerBefore = payer.balance;
        uint256 payeeBefore = payee.balance;
        VM.prank(payee);
        adjudicator.concludeAndTransferAllAssets(fixedPart, signed);
        _assertEq(payer.balance - payerBefore, deposit, "payer takes the whole deposit");
        _assertEq(payee.balance, payeeBefore, "nothing left for the payee");
        // Nothing is left, though both are still owed: the fingerprint commits the owed outcome and 0 ETH.
        bytes32 stateHash = _stateHash(channelId, closing);
        SingleAssetExit[] memory owed = closing.outcome; // the same memory: closing's amounts change too
        owed[0].allocations[0].amount = payerAmount - deposit;
        Registration memory registered = Registration(stateHash, keccak256(abi.encode(owed)), 0);
        _assertEq(adjudicator.ethHoldings(channelId, registered), 0, "channel emptied");

        // A top-up is refused (ETH goes only into an open channel): the depositor keeps it.
        VM.deal(payer, payer.balance + topUp);
        payerBefore = payer.balance;
        VM.prank(payer);
        VM.expectRevert(abi.encodeWithSelector(IAdjudicator.EthCommitted.selector, channelId));
        adjudicator.deposit{value: topUp}(address(0), channelId, 0, topUp);
        _assertEq(payer.balance, payerBefore, "the depositor keeps its top-up");
        // Paying the outcome still owed sends nothing and keeps it owed.
        adjudicator.transferAllAssets(channelId, stateHash, owed, 0);
        _assertEq(payer.balance, payerBefore, "nothing more for the payer");
        _assertEq(adjudicator.ethHoldings(channelId, registered), 0, "still empty, still owed");
    }

    /// @dev `x`, or in one case of three (per `slot`) 2^256 - 1 less a small number.
    function _nearMax(uint256 x, uint256 near, uint256 slot) internal pure returns (uint256) {
        uint256 mode = (near >> (slot * 2)) % 3;
        if (mode == 0) return type(uint256).max - x % 1000;
        if (mode == 1) return x % 100 ether;
        return x;
    }

    function _indices(uint256 mask) internal pure returns (uint256[] memory indices) {
        mask %= 1 << COUNT;
        uint256 n;
        for (uint256 i; i < COUNT; ++i) if ((mask >> i) & 1 == 1) ++n;
        indices = new uint256[](n);
        n = 0;
        for (uint256 i; i < COUNT; ++i) if ((mask >> i) & 1 == 1) indices[n++] = i;
    }
}
