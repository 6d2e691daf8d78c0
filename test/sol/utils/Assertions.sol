// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A tiny assertion helper: a failed assertion reverts with what was compared.
abstract contract Assertions {
    error AssertionFailed(string what);
    error NotEqual(string what, uint256 actual, uint256 expected);
    error NotAtMost(string what, uint256 actual, uint256 maximum);

    function _assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailed(what);
    }

    function _assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        if (actual != expected) revert NotEqual(what, actual, expected);
    }

    function _assertLe(uint256 actual, uint256 maximum, string memory what) internal pure {
        if (actual > maximum) revert NotAtMost(what, actual, maximum);
    }

    /// @dev `x` mapped into [min, max] (both included).
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min == 0 && max == type(uint256).max) return x;
        return min + x % (max - min + 1);
    }
}
