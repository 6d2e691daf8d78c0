// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The part of forge-std's StdInvariant the invariant runner reads: which contracts it may call.
abstract contract InvariantTest {
    address[] private _targetedContracts;

    function _targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    /// @dev Read by the invariant runner; without it every contract deployed in setUp would be called at random.
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }
}
