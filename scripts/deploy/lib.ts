// The deploy steps' shared library: the record deployments/<chainId>.json and the rule that reuses a contract
// already on the chain.
//
// Reuse rule: a contract is reused when the record names an address whose runtime code hashes (keccak256) to the
// hash of the current artifact's `deployedBytecode`; otherwise it is deployed afresh and its entry overwritten.
// The runtime code ends with the compiler's metadata hash, so any change of source or compiler settings means a
// new deployment. Immutables are written into the runtime code by the constructor, so their bytes are zeroed on
// both sides before hashing (the artifact's `immutableReferences`); Adjudicator, VoucherPaymentApp, LedgerApp and
// VirtualVoucherApp have no immutables and no constructor arguments, so for them this is a plain comparison of the
// whole code.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ContractFactory, formatEther, getBytes, keccak256, type Provider } from "ethers";
import type { Artifact } from "hardhat/types/artifacts";

/** EIP-170: the largest runtime code a chain like Sepolia or mainnet accepts. */
const MAX_CODE_SIZE = 24_576;

/** One deployed contract, as recorded. */
export interface ContractRecord {
  address: string;
  /** The transaction that created the contract. */
  txHash: string;
  blockNumber: number;
  /** keccak256 of the runtime code at `address` (what EXTCODEHASH returns). */
  codeHash: string;
}

/** The content of deployments/<chainId>.json. */
export interface DeploymentRecord {
  chainId: number;
  /** The Hardhat network the record was written through (`localhost`, `sepolia`, ...). */
  network: string;
  /** The account that ran the deploy that last wrote the record. */
  deployer: string;
  /** When the record was last written (ISO 8601). */
  timestamp: string;
  contracts: Record<string, ContractRecord>;
}

/** A refusal or failure the deploy explains to its user (printed without a stack trace). */
export class DeployError extends Error {
  override name = "DeployError";
}

/** What a numbered deploy step gets. */
export interface DeployContext {
  networkName: string;
  chainId: number;
  deployer: HardhatEthersSigner;
  provider: Provider;
  confirmations: number;
  /** Reads a compiled artifact by fully qualified name (`contracts/X.sol:X`). */
  readArtifact(fullyQualifiedName: string): Promise<Artifact>;
  /** The record being built; steps update `contracts` through `deployOrReuse`. */
  record: DeploymentRecord;
  /** Called after each new deployment, so that a failure later on keeps what was deployed. */
  persist(): Promise<void>;
  log(line: string): void;
}

export function recordPath(dir: string, chainId: number): string {
  return path.join(dir, `${chainId}.json`);
}

/**
 * Reads deployments/<chainId>.json, or returns undefined when there is none. Refuses a record that says another
 * chain id (a copied or hand-edited file) or another network name (e.g. a local node run with Sepolia's chain id
 * through `localhost` would otherwise overwrite the Sepolia record).
 */
export async function readRecord(
  dir: string,
  chainId: number,
  networkName: string,
): Promise<DeploymentRecord | undefined> {
  const file = recordPath(dir, chainId);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let record: DeploymentRecord;
  try {
    record = JSON.parse(text) as DeploymentRecord;
  } catch (error) {
    throw new DeployError(`${file} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
  if (record.chainId !== chainId) {
    throw new DeployError(
      `${file} says chain id ${record.chainId}, but the RPC of network "${networkName}" reports chain id ${chainId}: ` +
        "refusing to deploy (check the RPC URL, or fix the record)",
    );
  }
  if (record.network !== networkName) {
    throw new DeployError(
      `${file} was written through network "${record.network}", not "${networkName}": refusing to overwrite it ` +
        "(use --deployments-dir or PIECEPAY_DEPLOYMENTS_DIR to keep this chain's record elsewhere)",
    );
  }
  if (typeof record.contracts !== "object" || record.contracts === null) record.contracts = {};
  return record;
}

/** Writes the record atomically (a temporary file renamed over the old one). */
export async function writeRecord(dir: string, record: DeploymentRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = recordPath(dir, record.chainId);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temporary, file);
  return file;
}

/** keccak256 of runtime code with the bytes of its immutables zeroed (a plain keccak256 when there are none). */
export function runtimeCodeHash(code: string, immutableReferences: Artifact["immutableReferences"] = {}): string {
  const bytes = Uint8Array.from(getBytes(code));
  for (const references of Object.values(immutableReferences)) {
    for (const { start, length } of references) bytes.fill(0, start, start + length);
  }
  return keccak256(bytes);
}

/**
 * Reuses the contract the record names when its code matches the artifact; otherwise deploys the artifact (no
 * constructor arguments), waits for `ctx.confirmations` blocks, checks the code it finds and records it.
 */
export async function deployOrReuse(
  ctx: DeployContext,
  fullyQualifiedName: string,
): Promise<{ address: string; reused: boolean }> {
  const artifact = await ctx.readArtifact(fullyQualifiedName);
  const name = artifact.contractName;
  const wanted = runtimeCodeHash(artifact.deployedBytecode, artifact.immutableReferences);
  const previous = ctx.record.contracts[name];
  if (previous !== undefined) {
    const code = await ctx.provider.getCode(previous.address);
    if (code !== "0x" && runtimeCodeHash(code, artifact.immutableReferences) === wanted) {
      ctx.log(`${name}: reused ${previous.address} (tx ${previous.txHash}, block ${previous.blockNumber})`);
      return { address: previous.address, reused: true };
    }
    const why = code === "0x" ? "no code" : "other code";
    ctx.log(`${name}: ${why} at the recorded ${previous.address}; deploying afresh`);
  }

  const size = getBytes(artifact.deployedBytecode).length;
  if (size > MAX_CODE_SIZE) {
    throw new DeployError(
      `${name}: the artifact's runtime code is ${size} bytes, over the ${MAX_CODE_SIZE}-byte limit (EIP-170); ` +
        "if a coverage run left instrumented artifacts, run `npx hardhat build` first",
    );
  }
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, ctx.deployer);
  const request = await factory.getDeployTransaction();
  await requireFunds(ctx, name, await ctx.deployer.estimateGas(request));
  const sent = await ctx.deployer.sendTransaction(request);
  ctx.log(`${name}: sent ${sent.hash}, waiting for ${ctx.confirmations} confirmation(s)`);
  const receipt = await sent.wait(ctx.confirmations);
  if (receipt === null || receipt.status !== 1 || receipt.contractAddress === null) {
    throw new DeployError(`${name}: deploy transaction ${sent.hash} failed`);
  }
  const address = receipt.contractAddress;
  const code = await ctx.provider.getCode(address);
  if (code === "0x" || runtimeCodeHash(code, artifact.immutableReferences) !== wanted) {
    throw new DeployError(`${name}: the code at ${address} after ${sent.hash} is not the artifact's runtime code`);
  }
  ctx.record.contracts[name] = {
    address,
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    codeHash: keccak256(code),
  };
  await ctx.persist();
  ctx.log(`${name}: deployed ${address} (tx ${receipt.hash}, block ${receipt.blockNumber})`);
  return { address, reused: false };
}

/** Refuses before sending when the deployer cannot pay `gas` at the current maximum fee. */
async function requireFunds(ctx: DeployContext, name: string, gas: bigint): Promise<void> {
  const fees = await ctx.provider.getFeeData();
  const price = fees.maxFeePerGas ?? fees.gasPrice ?? 0n;
  const balance = await ctx.provider.getBalance(ctx.deployer.address);
  if (balance < gas * price) {
    throw new DeployError(
      `${name}: deployer ${ctx.deployer.address} holds ${formatEther(balance)} ETH on chain ${ctx.chainId}, ` +
        `but the deploy may cost up to ${formatEther(gas * price)} ETH (${gas} gas)`,
    );
  }
}
