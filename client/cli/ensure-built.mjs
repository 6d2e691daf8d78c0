// Compiles the contracts (`hardhat build`, which also writes typechain-types/) when the CLI needs them and they
// are missing or older than their sources, saying so first: a first compile downloads solc and takes minutes, and
// `hardhat build --quiet` alone prints nothing but a solc warning meanwhile. Plain JavaScript, so that it runs before
// anything imports the SDK (which imports typechain-types/): from client/cli/bin.mjs, and as a script from the npm
// scripts that build first (`node client/cli/ensure-built.mjs --always`: build in any case, announce when stale).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The line printed before a compile. */
export const COMPILING = "compiling contracts… (hardhat build: a minute or more the first time, while solc downloads)";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HARDHAT = path.join(ROOT, "node_modules/hardhat/dist/src/cli.js");
/** Written after each build this module runs: a build that compiled nothing leaves the artifacts' times alone. */
const STAMP = path.join(ROOT, "cache/piecepay-built");

/** The newest modification time (ms) of the files under `dir` whose names pass `keep`; 0 when there are none. */
function newest(dir, keep) {
  if (!existsSync(dir)) return 0;
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) time = Math.max(time, newest(file, keep));
    else if (keep(entry.name)) time = Math.max(time, statSync(file).mtimeMs);
  }
  return time;
}

/** Whether typechain-types/ or the artifacts are missing, or older than a contract or the Hardhat config. */
export function needsBuild() {
  if (!existsSync(path.join(ROOT, "typechain-types/index.ts"))) return true;
  const built = Math.max(
    newest(path.join(ROOT, "artifacts/build-info"), (name) => name.endsWith(".json")),
    existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0,
  );
  if (built === 0) return true;
  const sources = Math.max(
    newest(path.join(ROOT, "contracts"), (name) => name.endsWith(".sol")),
    statSync(path.join(ROOT, "hardhat.config.ts")).mtimeMs,
  );
  return sources > built;
}

/**
 * Runs `hardhat build --quiet` (its output on stderr) when needed, or always with `always`, printing COMPILING first
 * when the build is needed. Exits the process with the build's code when it fails.
 */
export function ensureBuilt({ always = false } = {}) {
  const stale = needsBuild();
  if (!stale && !always) return;
  if (stale) process.stderr.write(`${COMPILING}\n`);
  const result = spawnSync(process.execPath, [HARDHAT, "build", "--quiet"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  if (result.status !== 0) {
    process.stderr.write("error: compiling the contracts failed (see above)\n");
    process.exit(result.status ?? 1);
  }
  markBuilt();
}

/** Records that a build just succeeded (one that compiled nothing leaves the artifacts' times alone). */
export function markBuilt() {
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureBuilt({ always: process.argv.includes("--always") });
}
