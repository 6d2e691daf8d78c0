// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain ERC-20 with 6 decimals (as USDC) and open minting, so that amounts are shown in the token's own
/// decimals, not 18. Test only.
contract SixDecimalToken is ERC20 {
    constructor() ERC20("Six Decimal Dollar", "USD6") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
