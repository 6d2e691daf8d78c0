// Runs the end-to-end suites (test/ts/{scripts,deploy,nodes,client}) as two `hardhat test mocha` processes at once,
// then the WebRTC suites alone.
// Most of their time is spent waiting on real chains (block times, challenge durations, RPC cuts), not computing, so
// two halves side by side take little more than the longer half: this keeps `npm test` within its budget on
// 2 cores. Each half's output is printed whole when it ends (not interleaved); the exit code is non-zero if
// either half failed.
//
// The WebRTC suites run by themselves after the halves: two Node peers over node-datachannel on a loaded machine
// were seen to lose their first connection (a piece failing its hash, or no connection at all), and webtorrent
// then waits for the tracker's next announce (client/README.md, "One swarm over WebRTC").
//
//   npm run test:e2e                 both halves at once, then the WebRTC suites (what npm test runs)
//   npm run test:e2e -- --serial     one after the other, for a machine that is busy with something else
//   npm run test:e2e -- FILE...      only these files, in one process
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const root = new URL("..", import.meta.url).pathname;
const HARDHAT = path.join(root, "node_modules/hardhat/dist/src/cli.js");

function suites(dir: string): string[] {
  return readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => `${dir}/${f}`);
}

const all = ["test/ts/scripts", "test/ts/deploy", "test/ts/nodes", "test/ts/client"].flatMap(suites);
// The CLI's child-process suites (about half of the waiting) run in one half, everything else in the other.
const cliHalf = (file: string) =>
  /^test\/ts\/(scripts\/|client\/(cli[-.]|readme-flow|chain-clock|resume\.|stores\.|simulate-rpc\.))/.test(file);
const alone = (file: string) => /^test\/ts\/client\/webrtc[-.]/.test(file);

/** Runs `hardhat test mocha files`; resolves with its exit code and everything it printed. */
function run(
  name: string,
  files: string[],
  buffered: boolean,
  options: { grep?: string; phase?: string } = {},
): Promise<{ name: string; code: number; output: string }> {
  return new Promise((resolve) => {
    const grep = options.grep === undefined ? [] : ["--grep", options.grep];
    // --no-compile: `npm run test:e2e` built just before, and two processes saving Hardhat's compile cache at once
    // race on its temporary file (a CI run failed on the rename).
    const child = spawn(process.execPath, [HARDHAT, "test", "mocha", "--no-compile", ...files, ...grep], {
      cwd: root,
      stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit",
      // PIECEPAY_E2E_PHASE=halves: a test that must run alone skips itself there and runs in the WebRTC phase.
      env: options.phase === undefined ? process.env : { ...process.env, PIECEPAY_E2E_PHASE: options.phase },
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), output }));
  });
}

const args = process.argv.slice(2);
const serial = args.includes("--serial");
const only = args.filter((a) => !a.startsWith("--"));
let failed = false;
if (only.length > 0) {
  failed = (await run("selected", only, false)).code !== 0;
} else {
  const halves: [string, string[]][] = [
    ["e2e (CLI processes)", all.filter((f) => cliHalf(f) && !alone(f))],
    ["e2e (nodes, sessions, swarms)", all.filter((f) => !cliHalf(f) && !alone(f))],
  ];
  const started = Date.now();
  const pending = serial
    ? halves.map(
        ([name, files]) =>
          () =>
            run(name, files, false, { phase: "halves" }),
      )
    : halves.map(([name, files]) => {
        const running = run(name, files, true, { phase: "halves" });
        return () => running;
      });
  for (const next of pending) {
    const { name, code, output } = await next();
    if (output) process.stdout.write(`\n===== ${name} =====\n${output}`);
    console.log(`===== ${name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`}`);
    failed ||= code !== 0;
  }
  // Then, alone: the WebRTC suites, and the CLI's WebRTC test (skipped in its half).
  for (const next of [
    () => run("e2e (WebRTC, alone)", all.filter(alone), true),
    () => run("e2e (CLI over WebRTC, alone)", ["test/ts/client/cli.test.ts"], true, { grep: "seed --webrtc and get" }),
  ]) {
    const { name, code, output } = await next();
    process.stdout.write(`\n===== ${name} =====\n${output}`);
    console.log(`===== ${name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`}`);
    failed ||= code !== 0;
  }
  console.log(`===== e2e: ${((Date.now() - started) / 1000).toFixed(0)} s, ${failed ? "FAILED" : "passed"}`);
}
process.exit(failed ? 1 : 0);
