// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {VirtualVoucherApp} from "../../contracts/VirtualVoucherApp.sol";
import {IVirtualVoucherApp} from "../../contracts/interfaces/IVirtualVoucherApp.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    Registration,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {Assertions} from "./utils/Assertions.sol";
import {ChannelBuilder} from "./utils/ChannelBuilder.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Fuzzed virtual channels [payer, hub, payee] (ADR 0021, decision 2) through VirtualVoucherApp and the
/// adjudicator: whatever the deposit x, the fee and the voucher, the payout gives the payee its voucher, the hub
/// exactly floor(amount * fee / 10,000) (computed here by plain arithmetic, not by the app's Math.mulDiv), and the
/// payer the rest, x in all; a voucher whose fee does not fit in x is refused; and over many vouchers the app
/// accepts only the hub's fee on the cumulative amount, never the sum of fees rounded voucher by voucher.
contract VirtualVoucherAppFuzzTest is Assertions, ChannelBuilder {
    uint256 internal constant PAYER_KEY = 0xA11CE;
    uint256 internal constant HUB_KEY = 0xC0FFEE;
    uint256 internal constant PAYEE_KEY = 0xB0B;
    uint48 internal constant DURATION = 1 days;
    /// @dev x stays below 2^100, so amount * feeBps cannot overflow in the plain arithmetic of the expectations.
    uint256 internal constant MAX_X = 1e30;
    uint256 internal constant ALL = 0x7;
    uint256 internal constant PAYEE_BIT = 0x4;

    Adjudicator internal adjudicator;
    VirtualVoucherApp internal app;
    address internal payer;
    address internal hub;
    address internal payee;

    function setUp() public {
        adjudicator = new Adjudicator();
        app = new VirtualVoucherApp();
        payer = VM.addr(PAYER_KEY);
        hub = VM.addr(HUB_KEY);
        payee = VM.addr(PAYEE_KEY);
    }

    /// @notice Funds: the payee enforces a voucher of `amount` on V0, alone (a challenge) or answering the payer's
    /// challenge with V0 (respond); after the deadline the payout gives the payee `amount`, the hub its fee, the
    /// payer the rest, and nothing stays in the channel.
    function testFuzz_payoutGivesHubFeeOnVoucher(uint256 x, uint256 feeBps, uint256 amount, bool responds) public {
        x = _bound(x, 1, MAX_X);
        feeBps = _bound(feeBps, 0, 10_000);
        // amount + fee(amount) <= x holds for every amount up to x - fee(x) (fee is monotonic).
        amount = _bound(amount, 0, x - x * feeBps / 10_000);
        (FixedPart memory fixedPart, ChannelId id) = _channel(feeBps);
        VM.deal(address(this), x);
        adjudicator.deposit{value: x}(address(0), id, 0, x);
        VariablePart memory v0 = _v0(x);
        VariablePart memory voucherState = _voucherState(id, x, feeBps, amount, 1);

        if (responds) {
            VM.prank(payer);
            adjudicator.challenge(fixedPart, _none(), _signedByAll(id, v0), "", _noRegistration());
            VM.prank(payee);
            adjudicator.respond(fixedPart, id, v0, _sentByPayee(voucherState), x);
        } else {
            SignedVariablePart[] memory proof = new SignedVariablePart[](1);
            proof[0] = _signedByAll(id, v0);
            VM.prank(payee);
            adjudicator.challenge(fixedPart, proof, _sentByPayee(voucherState), "", _noRegistration());
        }
        (uint48 turnNumRecord, uint48 finalizesAt,) = adjudicator.statusOf(id);
        _assertEq(turnNumRecord, 1, "the payee's voucher state is registered");
        VM.warp(finalizesAt);

        uint256 payerBefore = payer.balance;
        uint256 hubBefore = hub.balance;
        uint256 payeeBefore = payee.balance;
        adjudicator.transferAllAssets(id, _stateHash(id, voucherState), voucherState.outcome, x);
        uint256 payerGot = payer.balance - payerBefore;
        uint256 hubGot = hub.balance - hubBefore;
        uint256 payeeGot = payee.balance - payeeBefore;
        _assertEq(payeeGot, amount, "the payee gets its voucher");
        _assertEq(hubGot, amount * feeBps / 10_000, "the hub gets floor(amount * fee / 10,000)");
        _assertEq(payerGot + hubGot + payeeGot, x, "payer + hub + payee = x");
        _assertEq(adjudicator.holdings(address(0), id), 0, "the channel holds nothing more");
    }

    /// @notice A voucher is accepted exactly when it and its fee fit in the payer's x; above, the challenge is
    /// refused with VoucherExceedsDeposit(amount + fee, x) and registers nothing.
    function testFuzz_voucherAndFeeMustFitInX(uint256 x, uint256 feeBps, uint256 amount) public {
        x = _bound(x, 1, MAX_X);
        feeBps = _bound(feeBps, 0, 10_000);
        amount = _bound(amount, 0, 2 * x);
        uint256 fee = amount * feeBps / 10_000;
        (FixedPart memory fixedPart, ChannelId id) = _channel(feeBps);
        SignedVariablePart[] memory proof = new SignedVariablePart[](1);
        proof[0] = _signedByAll(id, _v0(x));
        VariablePart memory state = VariablePart(
            _threeParty(amount + fee > x ? 0 : x - amount - fee, fee, amount), _voucher(PAYER_KEY, id, amount), 1, false
        );
        VM.prank(payee);
        if (amount + fee > x) {
            VM.expectRevert(
                abi.encodeWithSelector(IVirtualVoucherApp.VoucherExceedsDeposit.selector, amount + fee, x)
            );
        }
        adjudicator.challenge(fixedPart, proof, _sentByPayee(state), "", _noRegistration());
        (uint48 turnNumRecord,,) = adjudicator.statusOf(id);
        _assertEq(turnNumRecord, amount + fee > x ? 0 : 1, "registered exactly when the voucher and its fee fit");
    }

    /// @notice A payee's state that gives the hub anything but the fee on the voucher (the payer's allocation
    /// making up the difference, so the sum is still x) is refused with OutcomeNotVoucherMove.
    function testFuzz_anyOtherHubShareRefused(uint256 x, uint256 feeBps, uint256 amount, uint256 hubShare) public {
        x = _bound(x, 1, MAX_X);
        feeBps = _bound(feeBps, 0, 10_000);
        amount = _bound(amount, 0, x - x * feeBps / 10_000);
        uint256 fee = amount * feeBps / 10_000;
        hubShare = _bound(hubShare, 0, x - amount);
        VM.assume(hubShare != fee);
        (FixedPart memory fixedPart, ChannelId id) = _channel(feeBps);
        SignedVariablePart[] memory proof = new SignedVariablePart[](1);
        proof[0] = _signedByAll(id, _v0(x));
        VariablePart memory state =
            VariablePart(_threeParty(x - amount - hubShare, hubShare, amount), _voucher(PAYER_KEY, id, amount), 1, false);
        VM.expectRevert(abi.encodeWithSelector(IVirtualVoucherApp.OutcomeNotVoucherMove.selector, amount));
        app.requireStateSupported(fixedPart, id, proof, _sentByPayee(state));
    }

    /// @notice Forty vouchers of random increments, each a move from the last state: the app accepts the hub's
    /// allocation at the fee on the cumulative amount, refuses it at the sum of fees rounded voucher by voucher
    /// whenever the two differ, and the hub ends with floor(total * fee / 10,000), payer + hub + payee = x.
    function testFuzz_feeNeverDriftsOverManyVouchers(uint256 seed, uint256 feeBps) public view {
        feeBps = _bound(feeBps, 1, 10_000);
        uint256 x = 1e12;
        (FixedPart memory fixedPart, ChannelId id) = _channel(feeBps);
        VariablePart memory state = _v0(x);
        uint256 amount;
        uint256 roundedEachTime;
        for (uint256 i; i < 40; ++i) {
            uint256 step = uint256(keccak256(abi.encode(seed, i))) % 1_000 + 1;
            amount += step;
            roundedEachTime += step * feeBps / 10_000;
            uint256 fee = amount * feeBps / 10_000;
            VariablePart memory next =
                VariablePart(_threeParty(x - amount - fee, fee, amount), _voucher(PAYER_KEY, id, amount), uint48(i + 1), false);
            app.requireValidTransition(fixedPart, id, state, _sentByPayee(next));
            uint256 hubBefore = state.outcome[0].allocations[1].amount;
            uint256 naiveHub = hubBefore + step * feeBps / 10_000;
            if (naiveHub != fee) {
                VariablePart memory naive = VariablePart(
                    _threeParty(x - amount - naiveHub, naiveHub, amount), next.appData, uint48(i + 1), false
                );
                try app.requireValidTransition(fixedPart, id, state, _sentByPayee(naive)) {
                    revert AssertionFailed("a fee rounded on the increase was accepted");
                } catch (bytes memory reason) {
                    _assertTrue(
                        keccak256(reason)
                            == keccak256(
                                abi.encodeWithSelector(IVirtualVoucherApp.OutcomeNotVoucherMove.selector, step)
                            ),
                        "refused with OutcomeNotVoucherMove"
                    );
                }
            }
            state = next;
        }
        Allocation[] memory last = state.outcome[0].allocations;
        _assertEq(last[1].amount, amount * feeBps / 10_000, "the hub holds the fee on the total");
        _assertEq(last[0].amount + last[1].amount + last[2].amount, x, "payer + hub + payee = x");
        _assertLe(roundedEachTime, last[1].amount, "fees rounded voucher by voucher never exceed it");
    }

    function _channel(uint256 feeBps) internal view returns (FixedPart memory fixedPart, ChannelId id) {
        address[] memory participants = new address[](3);
        participants[0] = payer;
        participants[1] = hub;
        participants[2] = payee;
        fixedPart = FixedPart(participants, uint64(feeBps << 48 | 1), address(app), DURATION);
        id = adjudicator.channelIdOf(fixedPart);
    }

    function _threeParty(uint256 payerAmount, uint256 hubAmount, uint256 payeeAmount)
        internal
        view
        returns (SingleAssetExit[] memory outcome)
    {
        Allocation[] memory allocations = new Allocation[](3);
        allocations[0] = Allocation(_destination(payer), payerAmount);
        allocations[1] = Allocation(_destination(hub), hubAmount);
        allocations[2] = Allocation(_destination(payee), payeeAmount);
        outcome = new SingleAssetExit[](1);
        outcome[0] = SingleAssetExit(address(0), allocations);
    }

    function _v0(uint256 x) internal view returns (VariablePart memory) {
        return VariablePart(_threeParty(x, 0, 0), "", 0, false);
    }

    /// @dev The payee's voucher state for `amount` on V0 [x, 0, 0], the fee by plain arithmetic.
    function _voucherState(ChannelId id, uint256 x, uint256 feeBps, uint256 amount, uint48 turnNum)
        internal
        view
        returns (VariablePart memory)
    {
        uint256 fee = amount * feeBps / 10_000;
        return VariablePart(_threeParty(x - amount - fee, fee, amount), _voucher(PAYER_KEY, id, amount), turnNum, false);
    }

    function _signedByAll(ChannelId id, VariablePart memory variablePart)
        internal
        pure
        returns (SignedVariablePart memory)
    {
        bytes32 hash = _stateHash(id, variablePart);
        bytes[] memory sigs = new bytes[](3);
        sigs[0] = _personalSign(PAYER_KEY, hash);
        sigs[1] = _personalSign(HUB_KEY, hash);
        sigs[2] = _personalSign(PAYEE_KEY, hash);
        return SignedVariablePart(variablePart, ALL, sigs);
    }

    /// @dev Signed by the payee sending the transaction itself (an empty signature).
    function _sentByPayee(VariablePart memory variablePart) internal pure returns (SignedVariablePart memory) {
        bytes[] memory sigs = new bytes[](1);
        return SignedVariablePart(variablePart, PAYEE_BIT, sigs);
    }

    function _none() internal pure returns (SignedVariablePart[] memory) {
        return new SignedVariablePart[](0);
    }

    function _noRegistration() internal pure returns (Registration memory) {
        return Registration(bytes32(0), bytes32(0), 0);
    }
}
