// The universal entry point loads in a browser: bundled by esbuild for `platform: "browser"`, as a web app's bundler
// would, its import graph (static imports and `import()` alike) holds no Node built-in and no Hardhat module, and
// its size stays within the budget. The check is shown to catch what it looks for on the Node entry point.
// It runs with the browser tests, on the real build: under `test:contracts --coverage` the TypeChain factories carry
// instrumented bytecode, which is not what an app bundles.
import { expect } from "chai";
import { bundleSdk } from "../helpers/browser-bundle.js";

/** Inputs that belong to Hardhat (its packages, or the Hardhat-typed augmentation of typechain-types). */
const hardhatInputs = (inputs: string[]) =>
  inputs.filter((path) => /node_modules\/(hardhat|@nomicfoundation)\/|typechain-types\/hardhat\.d\.ts/.test(path));

describe("the browser bundle of sdk/index.ts", function () {
  this.timeout(60_000);

  it("reaches no node:* module, no Node built-in and nothing of Hardhat", async function () {
    const bundle = await bundleSdk();
    expect(bundle.forbidden, "Node or Hardhat imports").to.deep.equal([]);
    expect(hardhatInputs(bundle.inputs)).to.deep.equal([]);
    // It verifies vouchers with @noble/curves: the native binding's loader is not in the graph.
    expect(bundle.inputs).to.include("sdk/recover.ts");
    expect(
      bundle.inputs.filter((path) => /sdk\/(native-recover|keystore|store\/sqlite)\.ts$/.test(path)),
    ).to.deep.equal([]);
  });

  it("is at most 60 KiB gzipped without ethers (an app that uses ethers already pays only this)", async function () {
    const bundle = await bundleSdk({ externalEthers: true });
    expect(bundle.forbidden).to.deep.equal([]);
    expect(bundle.gzipBytes, `${bundle.gzipBytes} bytes gzipped`).to.be.at.most(60 * 1024);
  });

  it("catches what it looks for: the Node entry point's node:sqlite, node:fs and node:module", async function () {
    const bundle = await bundleSdk({ entry: "sdk/node.ts" });
    const byImporter = bundle.forbidden.map((f) => `${f.path} <- ${f.importer}`);
    expect(byImporter).to.include.members([
      "node:sqlite <- sdk/store/sqlite.ts",
      "node:fs <- sdk/keystore.ts",
      "node:module <- sdk/native-recover.ts",
    ]);
  });

  it('resolves "piecepay/sdk" for a browser to the universal entry point, and refuses "piecepay/sdk/node"', async function () {
    const app = await bundleSdk({ source: 'export * from "piecepay/sdk";', externalEthers: true });
    expect(app.inputs).to.include("sdk/index.ts");
    expect(app.inputs).not.to.include("sdk/index.node.ts");
    expect(app.forbidden).to.deep.equal([]);
    const failure = await bundleSdk({ source: 'export * from "piecepay/sdk/node";' }).then(
      () => expect.fail("a browser bundle resolved piecepay/sdk/node"),
      (error: Error) => error,
    );
    expect(failure.message).to.match(/piecepay\/sdk\/node/);
  });
});
