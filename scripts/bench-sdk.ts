// What the universal SDK entry point (sdk/index.ts) costs a web page: its browser bundle (esbuild, platform browser,
// minified, as a web app's bundler would build it) with ethers and with ethers left to the app, in bytes and gzipped,
// measured in this run; target: at most 60 KiB gzipped without ethers. Also the largest inputs, to show where the
// bytes go. (test/ts/sdk/browser-bundle.test.ts checks the same bundle for Node and Hardhat imports, and the target.)
// Usage: tsx scripts/bench-sdk.ts [--json] [--top N]
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const USAGE = `Usage: npm run bench:sdk -- [--json] [--top N]

The browser bundle of sdk/index.ts (esbuild, platform browser, minified), with and without ethers: bytes and gzipped
bytes, measured in this run, against the target of 60 KiB gzipped without ethers; --top N lists the N largest
inputs of the bundle without ethers (default 5). --json prints one JSON object.`;

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    top: { type: "string", default: "5" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const top = Number(values.top);
if (!Number.isInteger(top) || top < 0) throw new Error("--top must be a whole number");

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TARGET_GZIP_BYTES = 60 * 1024;

/** The minified browser bundle of sdk/index.ts: bytes, gzipped bytes (level 9), and each input's bytes in it. */
async function measure(externalEthers: boolean) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["sdk/index.ts"],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
    external: externalEthers ? ["ethers"] : [],
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  return {
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    largest: Object.entries(inputs)
      .map(([path, { bytesInOutput }]) => ({
        path: path.replace(/^.*node_modules\//, "node_modules/"),
        bytes: bytesInOutput,
      }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

const withEthers = await measure(false);
const withoutEthers = await measure(true);
const result = {
  "bundle-with-ethers-bytes": withEthers.bytes,
  "bundle-with-ethers-gzip-bytes": withEthers.gzipBytes,
  "bundle-without-ethers-bytes": withoutEthers.bytes,
  "bundle-without-ethers-gzip-bytes": withoutEthers.gzipBytes,
  "target-without-ethers-gzip-bytes": TARGET_GZIP_BYTES,
  "meets-target": withoutEthers.gzipBytes <= TARGET_GZIP_BYTES,
  "largest-inputs-without-ethers": withoutEthers.largest.slice(0, top),
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log("Browser bundle of sdk/index.ts (esbuild, minified), measured in this run:");
  console.log(`  with ethers      ${kib(withEthers.bytes).padStart(10)}, gzipped ${kib(withEthers.gzipBytes)}`);
  console.log(`  without ethers   ${kib(withoutEthers.bytes).padStart(10)}, gzipped ${kib(withoutEthers.gzipBytes)}`);
  console.log(
    `  target: <= ${kib(TARGET_GZIP_BYTES)} gzipped without ethers: ${result["meets-target"] ? "met" : "MISSED"}`,
  );
  if (top > 0) console.log("  largest inputs without ethers (minified bytes):");
  for (const { path, bytes } of result["largest-inputs-without-ethers"])
    console.log(`    ${kib(bytes).padStart(10)}  ${path}`);
}
