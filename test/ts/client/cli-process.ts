// The `piecepay` CLI as a user runs it, for the tests: client/cli/bin.mjs as a child process with a clean
// environment (no PIECEPAY_ variable of the machine). `cli` runs a command to its end; `startCli` starts a
// long-running one with --json and resolves with its first line (the ready event).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "../helpers/nodes.js";

export const BIN = path.join(root, "client/cli/bin.mjs");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without any PIECEPAY_ variable of the machine, plus `env`. */
export function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PIECEPAY_"))),
    ...env,
  };
}

/** Runs `piecepay ...args` to completion; never rejects. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: root, env: cleanEnv(env) }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    );
  });
}

export const jsonLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

export interface Running {
  child: ChildProcess;
  ready: Record<string, unknown>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Everything it printed on stdout so far (the ready line included). */
  stdout(): string;
}

/** Starts a long-running `piecepay ...args --json` and resolves with its first JSON line (the ready event). */
export function startCli(args: string[], timeoutMs = 60_000): Promise<Running> {
  const child = spawn(process.execPath, [BIN, ...args, "--json"], { cwd: root, env: cleanEnv({}) });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ready line within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline >= 0) {
        clearTimeout(timer);
        resolve({
          child,
          ready: JSON.parse(stdout.slice(0, newline)),
          exited,
          stderr: () => stderr,
          stdout: () => stdout,
        });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`piecepay ${args.join(" ")} exited with ${code} before it was ready:\n${stderr}`));
    });
  });
}

/**
 * Scratch directories for the enclosing `describe` (a fresh one per call, named `prefix`...), removed after it.
 * @example const scratch = useScratchDirs("piecepay-cli-"); const dir = scratch();
 */
export function useScratchDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
