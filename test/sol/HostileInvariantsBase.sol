// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {ChannelId} from "../../contracts/interfaces/ChannelTypes.sol";
import {HostileHandler} from "./HostileHandler.sol";
import {Assertions} from "./utils/Assertions.sol";
import {InvariantTest} from "./utils/InvariantTest.sol";

/// @notice What each side of a voucher channel is owed whatever the other side does with every signature it saw
/// (ADR 0005; docs/security.md rows 29 and 30): the hostile payer and payee of HostileHandler drive the game; the CI
/// profile runs each invariant 10,000 times (hardhat.config.ts). The invariants sit in two test contracts
/// (HostileMoneyInvariants.t.sol, HostileExitInvariants.t.sol) because the runner runs test contracts in parallel.
abstract contract HostileInvariantsBase is Assertions, InvariantTest {
    HostileHandler internal handler;
    Adjudicator internal adjudicator;

    function setUp() public {
        handler = new HostileHandler();
        adjudicator = handler.adjudicator();
        _targetContract(address(handler));
    }

    function _id(uint256 c) internal view returns (ChannelId) {
        return handler.channelIds(c);
    }
}
