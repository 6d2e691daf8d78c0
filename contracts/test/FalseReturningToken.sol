// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Returns false from transfer and transferFrom without moving anything (like some old tokens on
/// failure). Test only.
contract FalseReturningToken {
    mapping(address account => uint256 balance) public balanceOf;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address, uint256) external pure returns (bool) {
        return true;
    }

    function transfer(address, uint256) external pure returns (bool) {
        return false;
    }

    function transferFrom(address, address, uint256) external pure returns (bool) {
        return false;
    }
}
