// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A share-based token whose balances scale with an index that its owner moves: `rebase` shrinks or grows
/// every balance at once, and `setRebaseOnTransfer` makes every transfer rebase first (so the sender's and the
/// recipient's balances move by another amount than the one transferred). Test only.
contract RebasingToken {
    uint256 private constant ONE = 1e18;
    int256 private constant BPS = 10_000;

    error NotOwner(address caller);
    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);

    address public immutable owner;
    /// @notice balanceOf(account) = shares * index / 1e18.
    uint256 public index = ONE;
    /// @notice Basis points by which every transfer moves the index before it moves any shares (0: never).
    int256 public rebaseOnTransferBps;
    mapping(address account => uint256 shares) public sharesOf;
    mapping(address owner => mapping(address spender => uint256 amount)) public allowance;

    constructor() {
        owner = msg.sender;
    }

    function balanceOf(address account) public view returns (uint256) {
        return (sharesOf[account] * index) / ONE;
    }

    function mint(address to, uint256 amount) external {
        sharesOf[to] += (amount * ONE) / index;
    }

    /// @notice Scales every balance by `numerator / denominator`.
    function rebase(uint256 numerator, uint256 denominator) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        index = (index * numerator) / denominator;
    }

    function setRebaseOnTransfer(int256 bps) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        rebaseOnTransferBps = bps;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert InsufficientAllowance(msg.sender, allowed, amount);
        allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) private {
        if (rebaseOnTransferBps != 0) index = uint256((int256(index) * (BPS + rebaseOnTransferBps)) / BPS);
        uint256 balance = balanceOf(from);
        if (balance < amount) revert InsufficientBalance(from, balance, amount);
        uint256 shares = (amount * ONE) / index;
        sharesOf[from] -= shares;
        sharesOf[to] += shares;
    }
}
