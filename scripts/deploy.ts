// Deploys the adjudicator, the voucher payment app and the hub's two apps, the ledger app and the virtual voucher
// app (the numbered steps in scripts/deploy/), to a network of hardhat.config.ts and records them in
// deployments/<chainId>.json; a contract the record names whose code still matches its artifact is reused. Run with tsx (`hardhat run` passes no arguments):
//
//   npm run deploy                      dry run on the in-process network (writes nothing)
//   npm run deploy:localhost            a node at LOCALHOST_RPC_URL (default http://127.0.0.1:8545), `npm run node`
//   npm run deploy:sepolia              SEPOLIA_RPC_URL and SEPOLIA_PRIVATE_KEY from Hardhat's keystore or the environment
//   npm run deploy -- --help
import path from "node:path";
import { parseArgs } from "node:util";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { formatEther } from "ethers";
import { artifacts, network } from "hardhat";
import deployAdjudicator from "./deploy/01-adjudicator.js";
import deployVoucherPaymentApp from "./deploy/02-voucher-payment-app.js";
import deployLedgerApp from "./deploy/03-ledger-app.js";
import deployVirtualVoucherApp from "./deploy/04-virtual-voucher-app.js";
import {
  type DeployContext,
  DeployError,
  type DeploymentRecord,
  readRecord,
  recordPath,
  writeRecord,
} from "./deploy/lib.js";

/** The steps, in the order of their numbers. */
const STEPS = [deployAdjudicator, deployVoucherPaymentApp, deployLedgerApp, deployVirtualVoucherApp];

/** Chain ids that a network name promises, for networks whose config does not set `chainId`. */
const EXPECTED_CHAIN_IDS: Record<string, number> = { sepolia: 11_155_111 };

const USAGE = `Usage: tsx scripts/deploy.ts [--network <name>] [--confirmations <n>] [--deployments-dir <dir>]

Deploys Adjudicator, VoucherPaymentApp, and the hub's LedgerApp and VirtualVoucherApp, and writes
<deployments-dir>/<chainId>.json: per contract its address, deploy transaction hash, block number and runtime code
hash; the chain id, network name, deployer and time. A contract is reused when the record names an address whose
runtime code equals the current artifact's, so a run on a chain deployed before the hub's apps existed adds only
those two.

  --network <name>        a network of hardhat.config.ts (default: default)
                            default    the in-process chain: a dry run, nothing is written
                            localhost  the node at LOCALHOST_RPC_URL (default http://127.0.0.1:8545),
                                       e.g. \`npm run node\`; deploys from the node's first account
                            sepolia    SEPOLIA_RPC_URL and SEPOLIA_PRIVATE_KEY, from Hardhat's keystore
                                       (\`npx hardhat keystore set NAME\`) or the environment; the RPC must
                                       report chain id 11155111
  --confirmations <n>     blocks to wait for after each deploy transaction
                            (default: 1 on the in-process network and localhost, 2 elsewhere)
  --deployments-dir <dir> where the records live (default: PIECEPAY_DEPLOYMENTS_DIR, else deployments/)
  -h, --help              this text

Refuses when the RPC's chain id differs from the record's or from the network's, when no key is configured,
and when the deployer has no ETH. Private keys are never printed.`;

let flags: { network: string; confirmations?: string; "deployments-dir"?: string; help?: boolean };
try {
  flags = parseArgs({
    options: {
      network: { type: "string", default: "default" },
      confirmations: { type: "string" },
      "deployments-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (error) {
  console.error(`deploy: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}

if (flags.help) {
  console.log(USAGE);
} else {
  try {
    await deploy(flags.network, flags.confirmations, flags["deployments-dir"]);
  } catch (error) {
    console.error(`deploy: ${redact(explain(error, flags.network))}`);
    process.exitCode = 1;
  }
}

async function deploy(networkName: string, confirmationsFlag?: string, dirFlag?: string): Promise<void> {
  const connection = await network.create({ network: networkName });
  try {
    const { ethers, networkConfig } = connection;
    const inProcess = networkConfig.type === "edr-simulated";
    const confirmations = parseConfirmations(confirmationsFlag, inProcess || networkName === "localhost" ? 1 : 2);
    const chainId = Number((await ethers.provider.getNetwork()).chainId);
    const expected = networkConfig.chainId ?? EXPECTED_CHAIN_IDS[networkName];
    if (expected !== undefined && chainId !== expected) {
      throw new DeployError(
        `network "${networkName}" expects chain id ${expected}, but its RPC reports chain id ${chainId}: refusing to deploy`,
      );
    }

    const deployer: HardhatEthersSigner | undefined = (await ethers.getSigners())[0];
    if (deployer === undefined) {
      throw new DeployError(`no key is configured for network "${networkName}": its node offers no account`);
    }
    const balance = await ethers.provider.getBalance(deployer.address);
    if (balance === 0n) {
      throw new DeployError(`deployer ${deployer.address} has no ETH on chain ${chainId}: fund it first`);
    }

    const dir = path.resolve(
      dirFlag ?? process.env.PIECEPAY_DEPLOYMENTS_DIR ?? new URL("../deployments/", import.meta.url).pathname,
    );
    // The in-process chain starts empty: there is nothing to reuse, and its record is never written.
    const previous = inProcess ? undefined : await readRecord(dir, chainId, networkName);
    const record: DeploymentRecord = {
      chainId,
      network: networkName,
      deployer: previous?.deployer ?? deployer.address,
      timestamp: previous?.timestamp ?? new Date().toISOString(),
      contracts: { ...previous?.contracts },
    };
    let written = false;
    const ctx: DeployContext = {
      networkName,
      chainId,
      deployer,
      provider: ethers.provider,
      confirmations,
      readArtifact: (name) => artifacts.readArtifact(name),
      record,
      async persist() {
        record.deployer = deployer.address;
        record.timestamp = new Date().toISOString();
        if (!inProcess) await writeRecord(dir, record);
        written = true;
      },
      log: (line) => console.log(line),
    };

    console.log(
      `network ${networkName}, chain id ${chainId}, deployer ${deployer.address} (${formatEther(balance)} ETH), ` +
        `${confirmations} confirmation(s)`,
    );
    for (const step of STEPS) await step(ctx);

    if (inProcess) {
      console.log(
        "in-process network: dry run, nothing written (the chain ends with this process); the record would be:",
      );
      console.log(JSON.stringify(record, null, 2));
    } else if (written) {
      console.log(`record written: ${recordPath(dir, chainId)}`);
    } else {
      console.log(`all reused; record unchanged: ${recordPath(dir, chainId)}`);
    }
  } finally {
    await connection.close();
  }
}

function parseConfirmations(flag: string | undefined, fallback: number): number {
  if (flag === undefined) return fallback;
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1)
    throw new DeployError(`--confirmations must be a whole number >= 1, not "${flag}"`);
  return n;
}

/** The message for the user: Hardhat's missing configuration variables become the steps to set them. */
function explain(error: unknown, networkName: string): string {
  if (error instanceof DeployError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  const variable = /Configuration Variable "([A-Za-z0-9_]+)" not found/.exec(message)?.[1];
  if (variable !== undefined) {
    const what = /KEY/.test(variable) ? "no key is configured" : `${variable} is not set`;
    return (
      `${what} for network "${networkName}": run \`npx hardhat keystore set ${variable}\`, ` +
      `or set ${variable} in the environment`
    );
  }
  if (/HHE30\b|Field\.fromBytes|private key/i.test(message)) {
    return `the deployer key configured for network "${networkName}" is not a 32-byte hex private key (${message})`;
  }
  return message;
}

/** Removes any private key held in the environment from a message. */
function redact(message: string): string {
  let out = message;
  for (const [name, value] of Object.entries(process.env)) {
    if (!/PRIVATE_KEY/i.test(name) || value === undefined || value.replace(/^0x/i, "").length < 8) continue;
    const bare = value.replace(/^0x/i, "").replace(/[^0-9a-zA-Z]/g, "");
    out = out.replace(new RegExp(`(0x)?${bare}`, "gi"), "<redacted>");
  }
  return out;
}
