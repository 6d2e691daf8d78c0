// client/README.md's "First run on a local chain", typed as a new user types it: its shell block is parsed from that
// file (so this test breaks when the documented flow changes) and each line runs through `sh -c` and
// `npm run piecepay`, as child processes, in a scratch package whose `piecepay` script is the repository's (npm runs
// scripts from the package root: the very thing that made seed and get share one store). What differs from a terminal,
// and nothing else:
// - the chain listens on a free port (`--port P` appended to `chain`, `--rpc` to the others) instead of 8545;
// - PORT in `--peer 127.0.0.1:PORT` becomes the port `seed` printed, as the flow says to do;
// - the password, asked at a terminal, comes from PIECEPAY_PASSWORD.
// Long-running commands (chain, seed) are stopped with SIGINT to their process group, as Ctrl-C does.
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatEther, getAddress, JsonRpcProvider, parseEther } from "ethers";
import { gasSpentSince } from "../../../sdk/index.js";
import { freePort, rpc, startAnvil, startPublicRpcProxy } from "../helpers/nodes.js";

const root = new URL("../../../", import.meta.url).pathname;
const PASSWORD = "readme-flow-password";

/** The commands of client/README.md's "First run on a local chain" block, continuation lines joined. */
function readmeCommands(): string[] {
  const readme = readFileSync(path.join(root, "client/README.md"), "utf8");
  const heading = readme.indexOf("\n## First run on a local chain\n");
  expect(heading, "client/README.md has its 'First run on a local chain' section").to.be.greaterThan(-1);
  const section = readme.slice(heading);
  const block = section.slice(section.indexOf("```sh\n") + 6, section.indexOf("\n```", section.indexOf("```sh\n")));
  return block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

interface Shell {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Every shell started, so that a failing test leaves no process behind. */
const started: Shell[] = [];

/** `sh -c line` in `cwd`, in its own process group, with a clean environment. */
function shell(line: string, cwd: string): Shell {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PIECEPAY_")));
  const child = spawn("sh", ["-c", line], {
    cwd,
    detached: true,
    env: { ...env, PIECEPAY_PASSWORD: PASSWORD },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const sh = { child, stdout: () => out, stderr: () => err, exited };
  started.push(sh);
  return sh;
}

/** Runs `line` to its end (Ctrl-C after `ms`); fails the test unless it exits 0, showing what it printed. */
async function run(line: string, cwd: string, ms = 60_000): Promise<string> {
  const sh = shell(line, cwd);
  const timer = setTimeout(() => stop(sh), ms);
  const code = await sh.exited;
  clearTimeout(timer);
  expect(code, `${line}\n${sh.stdout()}\n${sh.stderr()}`).to.equal(0);
  return sh.stdout();
}

/** Starts `line` and resolves once its stdout matches `ready` (within `ms`). */
async function start(
  line: string,
  cwd: string,
  ready: RegExp,
  ms = 90_000,
): Promise<Shell & { match: RegExpMatchArray }> {
  const sh = shell(line, cwd);
  const deadline = Date.now() + ms;
  for (;;) {
    const match = sh.stdout().match(ready);
    if (match) return { ...sh, match };
    if (sh.child.exitCode !== null || Date.now() > deadline) {
      stop(sh);
      throw new Error(`${line} did not print ${ready}:\n${sh.stdout()}\n${sh.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ctrl-C: SIGINT to the process group. */
function stop(sh: Shell, signal: NodeJS.Signals = "SIGINT"): void {
  try {
    if (sh.child.pid !== undefined) process.kill(-sh.child.pid, signal);
  } catch {
    // already gone
  }
}

describe("the README's first run on a local chain, typed as written", function () {
  this.timeout(150_000);
  const commands = readmeCommands();
  let work: string;
  let port: number;
  let url: string;
  let chain: Shell | undefined;
  let provider: JsonRpcProvider;

  before(async function () {
    expect(commands.length, "the first run's block has commands").to.be.greaterThan(5);
    for (const line of commands)
      expect(line, "each line is `npm run piecepay -- ...`").to.match(/^npm run piecepay -- /);
    // A scratch package root: the repository's `piecepay` script (as an absolute command), client/README.md (the file
    // the flow seeds) and README.md (seeded by the test of another data dir).
    work = mkdtempSync(path.join(tmpdir(), "piecepay-readme-"));
    const script = `'${process.execPath}' '${path.join(root, "client/cli/bin.mjs")}'`;
    writeFileSync(
      path.join(work, "package.json"),
      JSON.stringify({ name: "readme-flow", private: true, scripts: { piecepay: script } }),
    );
    copyFileSync(path.join(root, "README.md"), path.join(work, "README.md"));
    mkdirSync(path.join(work, "client"));
    copyFileSync(path.join(root, "client/README.md"), path.join(work, "client/README.md"));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 200 });
  });
  after(async function () {
    provider?.destroy();
    // The chain last: whatever a failed test left running is stopped like Ctrl-C, then killed after 10 s.
    for (const sh of [...started.filter((s) => s !== chain), ...(chain ? [chain] : [])]) {
      if (sh.child.exitCode !== null || sh.child.signalCode !== null) continue;
      stop(sh);
      const timer = setTimeout(() => stop(sh, "SIGKILL"), 10_000);
      await sh.exited;
      clearTimeout(timer);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("chain, keygen, fund, seed and get in separate terminals: the file arrives and the seeder's balance on chain rises by exactly pieces delivered x price", async function () {
    const [chainLine, ...rest] = commands;
    expect(chainLine).to.match(/ chain$/);
    chain = await start(`${chainLine} --port ${port}`, work, /^Ctrl-C stops the node\.$/m);
    expect(chain.stdout()).to.include("npm run piecepay -- fund <address> --amount"); // how to fund an account

    const addresses = new Map<string, string>();
    let seeding: (Shell & { match: RegExpMatchArray }) | undefined;
    let seedLine = "";
    try {
      for (const line of rest) {
        const withRpc = `${line} --rpc ${url}`;
        const keystore = line.match(/--keystore (\S+)/)?.[1] ?? "";
        if (/ -- keygen /.test(line)) {
          const printed = await run(withRpc, work);
          const address = printed.match(/^(0x[0-9a-fA-F]{40})$/m)?.[1];
          expect(address, printed).to.be.a("string");
          addresses.set(keystore, getAddress(address as string));
        } else if (/ -- fund /.test(line)) {
          const printed = await run(withRpc, work);
          const amount = parseEther(line.match(/--amount (\S+)/)?.[1] ?? "");
          expect(printed).to.include(`funded ${addresses.get(keystore)} with`);
          expect(await provider.getBalance(addresses.get(keystore) as string)).to.equal(amount); // a new account
        } else if (/ -- seed /.test(line)) {
          seedLine = line;
          seeding = await start(withRpc, work, /^peers:\s+127\.0\.0\.1:(\d+)$/m);
        } else if (/ -- get /.test(line)) {
          if (seeding === undefined) throw new Error("the README gets before it seeds");
          const seeder = addresses.get(seedLine.match(/--keystore (\S+)/)?.[1] ?? "") as string;
          const leecher = addresses.get(keystore) as string;
          const price = parseEther(seedLine.match(/--price (\S+)/)?.[1] ?? "");
          const pieces = BigInt(seeding.stdout().match(/\((\d+) pieces\)/)?.[1] ?? "0");
          expect(pieces > 1n, `more than one piece to pay for: ${seeding.stdout()}`).to.equal(true);
          const start = await provider.getBlockNumber();
          const before = await Promise.all([seeder, leecher].map((a) => provider.getBalance(a)));

          const printed = await run(withRpc.replace("127.0.0.1:PORT", `127.0.0.1:${seeding.match[1]}`), work);
          const each = `${formatEther(price)} ETH`;
          const paid = `${formatEther(pieces * price)} ETH`;
          expect(printed).to.match(
            new RegExp(`: ${pieces} pieces at ${literal(each)}: paid ${literal(paid)} on chain$`, "m"),
          );
          expect(printed).to.match(/^done: README\.md, \d+ bytes, .* paid on chain to 1 seeder\(s\)$/m);
          const out = line.match(/--out (\S+)/)?.[1] ?? "";
          const file = path.join(work, out, "README.md");
          const seeded = path.join(work, seedLine.match(/ -- seed (\S+)/)?.[1] ?? "");
          expect(readFileSync(file).equals(readFileSync(seeded)), "the file arrived").to.equal(true);
          // Money, from the chain: the seeder gained pieces x price (less any gas it paid), the leecher lost it.
          const [seederGas, leecherGas] = await gasSpentSince(provider, [seeder, leecher], start);
          const after = await Promise.all([seeder, leecher].map((a) => provider.getBalance(a)));
          expect(after[0] - before[0] + seederGas, "the seeder's gain").to.equal(pieces * price);
          expect(before[1] - after[1] - leecherGas, "the leecher's cost").to.equal(pieces * price);
          // One store per account in the one data dir.
          for (const account of [seeder, leecher]) {
            expect(existsSync(path.join(work, ".piecepay", "channels", `${account}.db`)), account).to.equal(true);
          }
        } else {
          throw new Error(`a command this test does not know: ${line}`);
        }
      }
      expect(seeding, "the README seeds").to.not.equal(undefined);
    } finally {
      if (seeding !== undefined) {
        stop(seeding);
        await seeding.exited;
      }
    }
  });

  it("seed with another --data-dir uses the chain's record, skipping a stale one there whose contracts are not on this chain", async function () {
    const elsewhere = path.join(work, "elsewhere");
    const stale = path.join(elsewhere, "deployments");
    const record = JSON.parse(readFileSync(path.join(work, ".piecepay/deployments/31337.json"), "utf8"));
    const adjudicator = getAddress(record.contracts.Adjudicator.address);
    record.contracts.Adjudicator.address = "0x000000000000000000000000000000000000dEaD";
    mkdirSync(stale, { recursive: true });
    writeFileSync(path.join(stale, "31337.json"), JSON.stringify(record));
    const keystore = commands.find((line) => / -- seed /.test(line))?.match(/--keystore (\S+)/)?.[1];
    const seeding = await start(
      `npm run piecepay -- seed README.md --price 0.0001 --keystore ${keystore} --data-dir ${elsewhere} --rpc ${url} --json`,
      work,
      /^\{"event":"seeding".*\}$/m,
    );
    try {
      expect(JSON.parse(seeding.match[0])).to.include({ adjudicator, chainId: "31337" });
      expect(existsSync(path.join(elsewhere, "README.md.torrent"))).to.equal(true);
    } finally {
      stop(seeding);
      await seeding.exited;
    }
  });

  it("the chain mines a block every second with no transaction, and its clock moves with them", async function () {
    const first = await provider.getBlock("latest");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const second = await provider.getBlock("latest");
    if (first === null || second === null) throw new Error("no block");
    expect(second.number - first.number).to.be.within(2, 3);
    expect(second.timestamp - first.timestamp, "the chain's clock moved").to.be.within(2, 4);
    for (let n = first.number + 1; n <= second.number; n++) {
      expect((await provider.getBlock(n))?.transactions, `block ${n}`).to.deep.equal([]);
    }
  });

  it("fund refuses a chain that is not a local development chain, sending nothing: anvil as Sepolia, a public-like RPC", async function () {
    const sepolia = await startAnvil(["--chain-id", "11155111", "--block-time", "1"]);
    // The README's chain (31337, Hardhat's node) behind an RPC that, like a public one, lists no accounts.
    const proxy = await startPublicRpcProxy(url);
    const target = "0x000000000000000000000000000000000000bEEF";
    try {
      for (const [rpcUrl, why] of [
        [sepolia.url, "its chain id is 11155111"],
        [proxy.url, "its node holds no development accounts"],
      ]) {
        const sh = shell(`npm run piecepay -- fund ${target} --amount 1 --rpc ${rpcUrl}`, work);
        expect(await sh.exited, sh.stderr()).to.equal(1);
        expect(sh.stderr()).to.include(`error: the chain at ${rpcUrl} is not a local development chain: ${why}`);
        expect(sh.stderr()).to.match(/^hint: `piecepay fund` only spends the test ETH of a local node/m);
        expect(BigInt(await rpc<string>(rpcUrl, "eth_getBalance", [target, "latest"]))).to.equal(0n);
      }
    } finally {
      await proxy.stop();
      await sepolia.stop();
    }
  });
});

/** `text` as a literal inside a RegExp. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
