// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice When paid ETH, calls `target` with `payload` once (for example the adjudicator's transfer or
/// deposit), and records whether that re-entrant call succeeded. Test only.
contract ReentrantReceiver {
    address public reentryTarget;
    bytes public payload;
    uint256 public reentryValue;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryError;

    function arm(address target_, bytes calldata payload_, uint256 reentryValue_) external payable {
        reentryTarget = target_;
        payload = payload_;
        reentryValue = reentryValue_;
        attempted = false;
    }

    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        if (attempted || reentryTarget == address(0)) return;
        attempted = true;
        (bool success, bytes memory err) = reentryTarget.call{value: reentryValue}(payload);
        reentrySucceeded = success;
        reentryError = err;
    }
}
