// `piecepay chain`: a local chain for development. Starts `hardhat node` (or anvil) as a child process, deploys
// the contracts (the adjudicator, the voucher app and the hub's two apps) through the project's deploy script
// (scripts/deploy.ts, run as a child process: nothing imports scripts/), prints what a client needs, and stays in the
// foreground until Ctrl-C, then stops the node. Like a testnet, the node mines a block every --block-time seconds,
// with or without transactions: the chain's clock moves, so a challenge finalizes and a seeder's enforcement
// completes without anyone sending a transaction to mine one.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { formatEther, getAddress } from "ethers";
import { CliError, type Command, intOption, UsageError } from "../command.js";
import { DEFAULT_RPC, ROOT, rpcCall } from "../context.js";
import { COMPILING, markBuilt, needsBuild } from "../ensure-built.mjs";

const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");
const ANVIL = path.join(ROOT, "node_modules/@foundry-rs/anvil/bin.mjs");
const DEPLOY = path.join(ROOT, "scripts/deploy.ts");

/** Seconds between blocks when --block-time is not given: a testnet's pace, quick enough for a first run. */
export const DEFAULT_BLOCK_TIME = 1;

export const chain: Command = {
  name: "chain",
  summary: "start a local chain with the contracts deployed, until Ctrl-C",
  usage: "chain [--port N] [--chain-id N] [--block-time S] [--host ADDR] [--node hardhat|anvil] [--skip-build]",
  description: [
    "Starts a local development chain (`hardhat node`, or anvil) as a child process, compiles the contracts when",
    "they changed since the last build, deploys the Adjudicator, the VoucherPaymentApp and the hub's two apps,",
    "LedgerApp and VirtualVoucherApp, with the project's deploy script (scripts/deploy.ts, the reuse rule in",
    "docs/contracts.md, Deploy), and writes the record to <data-dir>/deployments/<chainId>.json, where the other",
    "commands find it (they look in their own data dir, then in ./.piecepay and the repository's .piecepay; a record",
    "written before the hub's apps existed still serves everything but the hub). Prints the RPC URL, the chain id,",
    "the four addresses, a few funded development accounts (Hardhat's and anvil's default accounts, from the public",
    "test mnemonic: test ETH only, never use their keys elsewhere), and how to fund a new account from them",
    "(`piecepay fund ADDRESS --amount ETH`).",
    "",
    "Like a testnet, the node mines a block every --block-time seconds (default 1), whether or not a transaction",
    "waits: a transaction is in the next block, and the chain's clock moves on its own, so challenges finalize and",
    "a seeder's enforcement completes with nobody sending transactions. --block-time 0 mines one block per",
    "transaction and none otherwise (then the chain's clock stands still between transactions).",
    "",
    'Stays in the foreground; Ctrl-C stops the node. With --json it prints one line, {"event":"ready",...},',
    "once the contracts are deployed.",
  ].join("\n"),
  options: {
    port: { type: "string", default: "8545" },
    "chain-id": { type: "string", default: "31337" },
    "block-time": { type: "string", default: String(DEFAULT_BLOCK_TIME) },
    host: { type: "string", default: "127.0.0.1" },
    node: { type: "string", default: "hardhat" },
    "skip-build": { type: "boolean" },
  },
  optionHelp: [
    ["--port N", "the RPC port (default 8545)"],
    ["--chain-id N", "the chain id (default 31337)"],
    [
      "--block-time S",
      `seconds between blocks (default ${DEFAULT_BLOCK_TIME}); 0: a block per transaction, none otherwise`,
    ],
    ["--host ADDR", "the address to listen on (default 127.0.0.1; 0.0.0.0 to serve the LAN)"],
    ["--node NAME", "hardhat (default) or anvil (npm @foundry-rs/anvil)"],
    ["--skip-build", "do not compile, even when a contract changed since the last build"],
  ],
  examples: [
    "piecepay chain",
    "piecepay chain --port 8546 --chain-id 1337 --node anvil",
    "piecepay chain --block-time 2   # like a slower testnet",
    "piecepay chain --json --data-dir /tmp/pp   # one ready line, then runs until SIGINT",
  ],

  async run({ globals, values, out, signal }) {
    if (globals.rpc !== undefined) throw new UsageError("`piecepay chain` starts its own node: --rpc does not apply");
    const port = intOption(values, "port", 1, 65_535);
    const chainId = intOption(values, "chain-id", 1, 2 ** 53 - 1);
    const blockTime = intOption(values, "block-time", 0, 3_600);
    const host = values.host as string;
    const kind = values.node as string;
    if (kind !== "hardhat" && kind !== "anvil") throw new UsageError(`--node must be hardhat or anvil, not "${kind}"`);
    await assertPortFree(port, host);

    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    const args =
      kind === "hardhat"
        ? [HARDHAT, "node", "--port", String(port), "--hostname", host, "--chain-id", String(chainId)]
        : [ANVIL, "--port", String(port), "--host", host, "--chain-id", String(chainId), "--silent"];
    // anvil mines on an interval when started so; Hardhat's node is switched over by RPC once it answers.
    if (kind === "anvil" && blockTime > 0) args.push("--block-time", String(blockTime));
    const pace = blockTime > 0 ? `a block every ${blockTime} s` : "a block per transaction";
    out.note(`starting ${kind} node on ${url} (chain id ${chainId}, ${pace})`);
    const node = startChild(args);
    try {
      await waitForRpc(url, node, signal);
      if (kind === "hardhat" && blockTime > 0 && !signal.aborted) {
        await rpcCall(url, "evm_setAutomine", [false]);
        await rpcCall(url, "evm_setIntervalMining", [blockTime * 1000]);
      }
      // bin.mjs compiled already when the sources changed; `tsx client/cli/main.ts chain` did not.
      if (!signal.aborted && !values["skip-build"] && needsBuild()) {
        out.note(COMPILING);
        await runStep("hardhat build", [HARDHAT, "build", "--quiet"], {}, signal);
        if (!signal.aborted) markBuilt();
      }
      if (signal.aborted) return;
      out.note("deploying the contracts (scripts/deploy.ts)");
      const deploymentsDir = path.join(globals.dataDir, "deployments");
      await runStep(
        "the deploy",
        ["--import", "tsx", DEPLOY, "--network", "localhost", "--deployments-dir", deploymentsDir],
        { LOCALHOST_RPC_URL: url },
        signal,
      );
      if (signal.aborted) return;
      const recordFile = path.join(deploymentsDir, `${chainId}.json`);
      const record = JSON.parse(readFileSync(recordFile, "utf8")) as {
        contracts: Record<string, { address: string }>;
      };
      const contracts = Object.fromEntries(Object.entries(record.contracts).map(([n, c]) => [n, c.address]));
      const accounts = await devAccounts(url);

      out.result({
        event: "ready",
        rpc: url,
        chainId,
        node: kind,
        blockTime,
        pid: node.child.pid,
        contracts,
        deployments: recordFile,
        accounts,
      });
      const rows: [string, string][] = [["rpc", url], ...Object.entries(contracts), ["deployments", recordFile]];
      const width = Math.max(...rows.map(([label]) => label.length)) + 2;
      out.line(`piecepay chain: ${kind} node, chain id ${chainId}`);
      for (const [label, value] of rows) out.line(`  ${label.padEnd(width)}${value}`);
      out.line(
        "  funded dev accounts (the Hardhat/anvil default accounts of the public test mnemonic, test ETH only):",
      );
      for (const account of accounts) out.line(`    ${account.address}  ${formatEther(account.balance)} ETH`);
      out.line(`  blocks: ${pace}`);
      out.line("Fund a new account (e.g. one `piecepay keygen` made) from the first dev account:");
      out.line(`  ${invocation()} fund <address> --amount 10${url === DEFAULT_RPC ? "" : ` --rpc ${url}`}`);
      out.line("Ctrl-C stops the node.");

      const stopped = await Promise.race([
        node.exited.then(() => "exited" as const),
        new Promise<"signal">((resolve) => signal.addEventListener("abort", () => resolve("signal"), { once: true })),
      ]);
      if (stopped === "exited") {
        throw new CliError(`the ${kind} node exited unexpectedly (${node.status()})`, node.tail() || undefined);
      }
    } finally {
      await node.stop();
      out.note(`stopped the ${kind} node (pid ${node.child.pid})`);
    }
  },
};

/** How the user runs piecepay: through `npm run piecepay --` (npm says so in the environment) or as `piecepay`. */
function invocation(): string {
  return process.env.npm_lifecycle_event === "piecepay" ? "npm run piecepay --" : "piecepay";
}

/** Refuses early, with the flag to change, when something already listens on the port. */
async function assertPortFree(port: number, host: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "EADDRINUSE" ? `port ${port} on ${host} is in use (another node?)` : `cannot listen on ${host}:${port}`,
      "stop whatever holds it, or pass --port N",
      { cause: error },
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

interface Child {
  child: ChildProcess;
  exited: Promise<void>;
  status(): string;
  /** The last lines the child printed, without any line that shows a private key. */
  tail(): string;
  stop(): Promise<void>;
}

/**
 * `node ...args` in its own process group (stop() ends the group: anvil's wrapper and its binary), its output
 * drained into a short tail; stopped with SIGTERM, then SIGKILL after 5 s. Also killed if this process exits.
 */
function startChild(args: string[]): Child {
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);
  return {
    child,
    exited,
    status: () => (child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`),
    tail: () =>
      output
        .split("\n")
        .filter((line) => !/private key/i.test(line))
        .slice(-15)
        .join("\n")
        .trim(),
    async stop() {
      process.off("exit", onExit);
      if (!alive()) return;
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the node answers eth_chainId (60 s at most), or it exits, or we are interrupted. */
async function waitForRpc(url: string, node: Child, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!signal.aborted) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new CliError(`the node exited before it served ${url} (${node.status()})`, node.tail() || undefined);
    }
    try {
      await rpcCall(url, "eth_chainId", [], 1_000);
      return;
    } catch {
      if (Date.now() > deadline) throw new CliError(`the node did not answer on ${url} within 60 s`, node.tail());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Runs `node ...args` from the repository to completion; a failure shows the step's own output. */
async function runStep(name: string, args: string[], env: Record<string, string>, signal: AbortSignal): Promise<void> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    signal,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(null));
    child.once("close", (status) => resolve(status));
  });
  if (signal.aborted) return;
  if (code !== 0) {
    throw new CliError(`${name} failed (exit code ${code})`, output.trim().slice(-2_000) || undefined);
  }
}

/** The node's first three accounts and their balances (addresses only). */
async function devAccounts(url: string): Promise<{ address: string; balance: bigint }[]> {
  const addresses = (await rpcCall<string[]>(url, "eth_accounts")).slice(0, 3);
  return Promise.all(
    addresses.map(async (address) => ({
      address: getAddress(address),
      balance: BigInt(await rpcCall<string>(url, "eth_getBalance", [address, "latest"])),
    })),
  );
}
