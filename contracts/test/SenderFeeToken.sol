// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Charges the sender 1% on top of every transfer (burnt): the recipient gets the full amount, the
/// sender's balance drops by 101%. The fee can be switched off, as an upgradeable token could do. Test only.
contract SenderFeeToken is ERC20 {
    uint256 public constant FEE_BPS = 100;
    bool public feeOn = true;

    function setFeeOn(bool on) external {
        feeOn = on;
    }

    constructor() ERC20("Sender Fee Token", "SFEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (!feeOn || from == address(0) || to == address(0)) return super._update(from, to, value);
        super._update(from, address(0), (value * FEE_BPS) / 10_000);
        super._update(from, to, value);
    }
}
