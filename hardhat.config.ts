import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

// The compiler comes from the npm `solc` package: machines here cannot download one.
// Its version must equal SOLC_VERSION (package.json pins solc exactly).
const SOLC_VERSION = "0.8.30";
const soljson = createRequire(import.meta.url).resolve("solc/soljson.js");

// CI raises the invariant runs (docs/security.md row 15: at least 10,000 per invariant).
const ciProfile = process.env.CI === "true";

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    profiles: {
      default: {
        version: SOLC_VERSION,
        path: soljson,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "prague", viaIR: true },
      },
      production: {
        version: SOLC_VERSION,
        path: soljson,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "prague", viaIR: true },
      },
    },
  },
  paths: {
    tests: { mocha: "test/ts", solidity: "test/sol" },
  },
  test: {
    solidity: {
      fuzz: { runs: ciProfile ? 2_000 : 256 },
      invariant: { runs: ciProfile ? 10_000 : 256, depth: 15, failOnRevert: false },
    },
    mocha: { timeout: 120_000 },
  },
  typechain: { outDir: "typechain-types" },
  networks: {
    default: { type: "edr-simulated", chainType: "l1", hardfork: "prague" },
    localhost: { type: "http", chainType: "l1", url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
    // A public testnet: RPC URL and deployer key come from Hardhat's keystore or the environment
    // (`npx hardhat keystore set SEPOLIA_RPC_URL`, or SEPOLIA_RPC_URL=... in the environment).
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});
