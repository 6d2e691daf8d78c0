// The embedded chain of `piecepay demo` and `piecepay simulate` (client/embedded-chain.ts): a new in-process EVM with
// the contracts scripts/deploy.ts deploys, each at its own address with the compiled contract's runtime code. The
// module loads Hardhat, so it is imported on demand here too, as test/ts/sdk/import-boundaries.test.ts requires.
import { expect } from "chai";
import { keccak256 } from "ethers";
import { artifacts } from "hardhat";

describe("startEmbeddedChain", function () {
  it("exposes the adjudicator, the voucher app and the hub's two apps, each with its contract's code", async function () {
    const { startEmbeddedChain } = await import("../../../client/embedded-chain.js");
    const chain = await startEmbeddedChain();
    try {
      const deployed = {
        Adjudicator: chain.adjudicator,
        VoucherPaymentApp: chain.voucherApp,
        LedgerApp: chain.ledgerApp,
        VirtualVoucherApp: chain.virtualApp,
      };
      expect(new Set(Object.values(deployed)).size).to.equal(4);
      for (const [name, address] of Object.entries(deployed)) {
        const code = await chain.provider.getCode(address);
        expect(keccak256(code), name).to.equal(keccak256((await artifacts.readArtifact(name)).deployedBytecode));
      }
    } finally {
      await chain.close();
    }
  });
});
