// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../../contracts/Adjudicator.sol";
import {VoucherPaymentApp} from "../../../contracts/VoucherPaymentApp.sol";
import {ChannelId, FixedPart, VariablePart} from "../../../contracts/interfaces/ChannelTypes.sol";
import {TestToken} from "../../../contracts/test/TestToken.sol";
import {Assertions} from "./Assertions.sol";
import {ChannelBuilder} from "./ChannelBuilder.sol";
import {VM} from "./Vm.sol";

/// @notice A deployed adjudicator, voucher app and token, and one channel [payer, payee] to test against.
abstract contract AdjudicatorTestBase is Assertions, ChannelBuilder {
    uint256 internal constant PAYER_KEY = 0xA11CE;
    uint256 internal constant PAYEE_KEY = 0xB0B;
    uint48 internal constant DURATION = 1 days;

    Adjudicator internal adjudicator;
    VoucherPaymentApp internal app;
    TestToken internal token;
    address internal payer;
    address internal payee;
    FixedPart internal fixedPart;
    ChannelId internal channelId;

    function setUp() public virtual {
        adjudicator = new Adjudicator();
        app = new VoucherPaymentApp();
        token = new TestToken();
        payer = VM.addr(PAYER_KEY);
        payee = VM.addr(PAYEE_KEY);
        fixedPart = _fixedPart(payer, payee, 1, address(app), DURATION);
        channelId = adjudicator.channelIdOf(fixedPart);
    }

    /// @dev The payer deposits `amount` of `asset` into the channel.
    function _deposit(address asset, uint256 amount) internal {
        // Read before the prank: a prank applies to the very next call, a view call included.
        uint256 held = adjudicator.holdings(asset, channelId);
        if (asset == address(0)) {
            VM.deal(payer, payer.balance + amount);
            VM.prank(payer);
            adjudicator.deposit{value: amount}(asset, channelId, held, amount);
        } else {
            token.mint(payer, amount);
            VM.prank(payer);
            token.approve(address(adjudicator), amount);
            VM.prank(payer);
            adjudicator.deposit(asset, channelId, held, amount);
        }
    }

    function _state(address asset, uint256 payerAmount, uint256 payeeAmount, uint48 turnNum, bool isFinal)
        internal
        view
        returns (VariablePart memory)
    {
        return VariablePart(_twoParty(asset, payer, payerAmount, payee, payeeAmount), "", turnNum, isFinal);
    }

    /// @dev The payer challenges with `state`, signed by both.
    function _challengeByPayer(VariablePart memory state) internal {
        VM.prank(payer);
        adjudicator.challenge(fixedPart, _noProof(), _signedByBoth(channelId, state, PAYER_KEY, PAYEE_KEY), "");
    }

    function _balance(address asset, address account) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }

    function _payAll(VariablePart memory registered) internal {
        adjudicator.transferAllAssets(channelId, _stateHash(channelId, registered), registered.outcome);
    }
}
