// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Refuses every ETH payment. Test only.
contract RevertingReceiver {
    error PaymentRefused();

    receive() external payable {
        revert PaymentRefused();
    }
}
