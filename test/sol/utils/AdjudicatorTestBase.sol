// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../../contracts/Adjudicator.sol";
import {VoucherPaymentApp} from "../../../contracts/VoucherPaymentApp.sol";
import {
    ChannelId, FixedPart, Registration, VariablePart
} from "../../../contracts/interfaces/ChannelTypes.sol";
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

    /// @dev The registration last made (a challenge, an answer that replaced its state, or a conclusion), as its
    /// event names it.
    Registration internal lastRegistration;
    /// @dev The registration argument on an open channel (ignored there): zeros.
    Registration internal noRegistration;

    /// @dev The payer challenges with `state`, signed by both.
    function _challengeByPayer(VariablePart memory state) internal {
        _challengeByPayer(state, _registration(), _ethToCommit());
    }

    /// @dev As above with what is registered and held read beforehand (a VM.expectRevert applies to the next
    /// call, a view call included).
    function _challengeByPayer(VariablePart memory state, Registration memory current, uint256 heldEth) internal {
        VM.prank(payer);
        adjudicator.challenge(
            fixedPart, _noProof(), _signedByBoth(channelId, state, PAYER_KEY, PAYEE_KEY), "", current
        );
        _noteRegistered(state, heldEth);
    }

    /// @dev What answers, new challenges and payouts present now: the last registration, none while open.
    function _registration() internal view returns (Registration memory) {
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        return finalizesAt == 0 ? Registration(bytes32(0), bytes32(0), 0) : lastRegistration;
    }

    /// @dev The ETH a registration would commit now: an open channel's, or what is committed already.
    function _ethToCommit() internal view returns (uint256) {
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelId);
        return finalizesAt == 0 ? adjudicator.holdings(address(0), channelId) : lastRegistration.heldEth;
    }

    /// @dev Records `state` as registered with `heldEth` if the status now commits to it (the call before may
    /// have been expected to revert).
    function _noteRegistered(VariablePart memory state, uint256 heldEth) internal {
        Registration memory candidate =
            Registration(_stateHash(channelId, state), keccak256(abi.encode(state.outcome)), heldEth);
        (,, uint160 fingerprint) = adjudicator.statusOf(channelId);
        if (fingerprint == _fingerprint(candidate.stateHash, candidate.outcomeHash, heldEth)) {
            lastRegistration = candidate;
        }
    }

    function _balance(address asset, address account) internal view returns (uint256) {
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }

    /// @dev Pays out `registered` with the ETH committed by the last registration.
    function _payAll(VariablePart memory registered) internal {
        adjudicator.transferAllAssets(
            channelId, _stateHash(channelId, registered), registered.outcome, lastRegistration.heldEth
        );
    }
}
