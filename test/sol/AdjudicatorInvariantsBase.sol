// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {ChannelId} from "../../contracts/interfaces/ChannelTypes.sol";
import {AdjudicatorHandler} from "./AdjudicatorHandler.sol";
import {Assertions} from "./utils/Assertions.sol";
import {InvariantTest} from "./utils/InvariantTest.sol";

/// @notice Invariants of the adjudicator's money and status under random sequences of deposits, challenges,
/// checkpoints, voucher responses, conclusions, time and payouts (docs/security.md row 15). The handler drives it; the
/// CI profile runs each invariant 10,000 times (hardhat.config.ts). The invariants sit in two test contracts
/// (MoneyInvariants.t.sol, StatusInvariants.t.sol) because the runner runs test contracts in parallel.
abstract contract AdjudicatorInvariantsBase is Assertions, InvariantTest {
    AdjudicatorHandler internal handler;
    Adjudicator internal adjudicator;
    address internal token;

    function setUp() public {
        handler = new AdjudicatorHandler();
        adjudicator = handler.adjudicator();
        token = address(handler.token());
        _targetContract(address(handler));
    }

    function _id(uint256 c) internal view returns (ChannelId) {
        return handler.channelIds(c);
    }
}
