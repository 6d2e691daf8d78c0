// What the universal SDK entry point (sdk/index.ts) costs a web page, and what it does there, measured in one run:
// - its browser bundle (esbuild, platform browser, minified, as a web app's bundler would build it) with ethers and
//   with ethers left to the app, in bytes and gzipped; target: at most 60 KiB gzipped without ethers; the largest
//   inputs show where the bytes go (test/ts/browser/bundle.test.ts holds the same bundle to the target); and the
//   bundle of a page that imports only a payer's and a payee's actions (`pay`, `receive`, `createPiecepayContext`
//   from piecepay/sdk/actions) next to one that imports `PiecepayClient`, without ethers;
// - voucher verifications and signatures per second, one core each: in headless Chromium (the universal bundle, so
//   @noble/curves) and in Node (libsecp256k1 through sdk/node.ts, and @noble/curves), over the same vouchers;
//   targets: at least 1,000 verifications per second in the browser, and Node's native figure no lower than the
//   13,000 per second measured before the SDK became universal. Chromium is the browser tests' (their harness).
// Usage: tsx scripts/bench-sdk.ts [--json] [--top N] [--seconds S]
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Wallet } from "ethers";
import { signVoucher, useSignatureBackend } from "../sdk/node.js";
import { bundleForBrowser, closeBrowser, openPage } from "../test/ts/browser/harness.js";
import { bundleSdk } from "../test/ts/helpers/browser-bundle.js";
import { signaturesPerSecond, type VoucherTuple, verificationsPerSecond } from "./bench-sdk/voucher-rates.js";

const USAGE = `Usage: npm run bench:sdk -- [--json] [--top N] [--seconds S]

Measured in this run:
- the browser bundle of sdk/index.ts (esbuild, platform browser, minified), with and without ethers: bytes and
  gzipped bytes, against the target of 60 KiB gzipped without ethers; --top N lists the N largest inputs of the
  bundle without ethers (default 5);
- voucher verifications and signatures per second, S seconds each (default 2), in headless Chromium (@noble/curves)
  and in Node (libsecp256k1, and @noble/curves), against the targets of 1,000/s in the browser and 13,000/s native
  in Node. Needs Chromium as the browser tests do (docs/testing.md). Measure on a quiet machine: the load average
  is printed with the figures.
--json prints one JSON object.`;

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    top: { type: "string", default: "5" },
    seconds: { type: "string", default: "2" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const top = Number(values.top);
if (!Number.isInteger(top) || top < 0) throw new Error("--top must be a whole number");
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error("--seconds must be a positive number of seconds");

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TARGET_GZIP_BYTES = 60 * 1024;
const TARGET_BROWSER_VERIFY_PER_S = 1_000;
/** `bench:vouchers` measured 13,000 to 14,800/s before the SDK split into entry points (docs/benchmarks.md). */
const TARGET_NODE_NATIVE_VERIFY_PER_S = 13_000;

/** Signed vouchers of one channel, by a key in Node: every runtime verifies the same ones. */
async function signedVouchers(count: number): Promise<{ payer: string; vouchers: VoucherTuple[] }> {
  const key = Wallet.createRandom();
  const channelId = `0x${"c3".repeat(32)}`;
  const vouchers: VoucherTuple[] = [];
  for (let i = 1; i <= count; i++) {
    const v = await signVoucher(key, channelId, BigInt(i) * 16_384n);
    vouchers.push([v.channelId, v.amount.toString(), v.signature]);
  }
  return { payer: key.address, vouchers };
}

/** The voucher rates in Node, with each signature backend, then in a Chromium page. */
async function voucherRates() {
  const { payer, vouchers } = await signedVouchers(256);
  useSignatureBackend("native");
  const nodeNative = await verificationsPerSecond(payer, vouchers, seconds);
  useSignatureBackend("js");
  const nodeJs = await verificationsPerSecond(payer, vouchers, seconds);
  useSignatureBackend("native");
  const nodeSign = await signaturesPerSecond(seconds);
  // The page needs no chain: its wallet bridge points at nothing it will call.
  const page = await openPage(await bundleForBrowser(`${ROOT}scripts/bench-sdk/page.ts`), "http://127.0.0.1:9");
  try {
    await page.page.waitForFunction(() => "sdkBench" in window);
    const backend = await page.page.evaluate(() => window.sdkBench.signatureBackend());
    if (backend !== "js") throw new Error(`the page's signature backend is ${backend}, not @noble/curves`);
    const browserVerify = await page.page.evaluate(([p, v, s]) => window.sdkBench.verificationsPerSecond(p, v, s), [
      payer,
      vouchers,
      seconds,
    ] as [string, VoucherTuple[], number]);
    const browserSign = await page.page.evaluate((s) => window.sdkBench.signaturesPerSecond(s), seconds);
    return {
      nodeNative,
      nodeJs,
      nodeSign,
      browserVerify,
      browserSign,
      chromium: page.page.context().browser()?.version() ?? "unknown",
    };
  } finally {
    await page.close();
  }
}

const withEthers = await bundleSdk();
const withoutEthers = await bundleSdk({ externalEthers: true });
const PAY_ACTIONS = 'export { createPiecepayContext, pay, receive } from "piecepay/sdk/actions";';
const payActions = await bundleSdk({ source: PAY_ACTIONS, externalEthers: true });
const wholeClient = await bundleSdk({ source: 'export { PiecepayClient } from "piecepay/sdk";', externalEthers: true });
const load = loadavg()[0];
const rates = await voucherRates();
const browserVersion = rates.chromium;
await closeBrowser();
const ratio = (x: number, target: number) => Number((x / target).toFixed(2));
const result = {
  "bundle-with-ethers-bytes": withEthers.bytes,
  "bundle-with-ethers-gzip-bytes": withEthers.gzipBytes,
  "bundle-without-ethers-bytes": withoutEthers.bytes,
  "bundle-without-ethers-gzip-bytes": withoutEthers.gzipBytes,
  "target-without-ethers-gzip-bytes": TARGET_GZIP_BYTES,
  "meets-target": withoutEthers.gzipBytes <= TARGET_GZIP_BYTES,
  "largest-inputs-without-ethers": withoutEthers.largest.slice(0, top),
  "pay-receive-actions-gzip-bytes": payActions.gzipBytes,
  "client-only-gzip-bytes": wholeClient.gzipBytes,
  "browser-verify-noble-per-s": Math.round(rates.browserVerify),
  "browser-sign-per-s": Math.round(rates.browserSign),
  "node-verify-native-per-s": Math.round(rates.nodeNative),
  "node-verify-noble-per-s": Math.round(rates.nodeJs),
  "node-sign-per-s": Math.round(rates.nodeSign),
  "target-browser-verify-per-s": TARGET_BROWSER_VERIFY_PER_S,
  "browser-verify-vs-target": ratio(rates.browserVerify, TARGET_BROWSER_VERIFY_PER_S),
  "meets-browser-verify-target": rates.browserVerify >= TARGET_BROWSER_VERIFY_PER_S,
  "target-node-verify-native-per-s": TARGET_NODE_NATIVE_VERIFY_PER_S,
  "node-verify-native-vs-target": ratio(rates.nodeNative, TARGET_NODE_NATIVE_VERIFY_PER_S),
  "meets-node-verify-target": rates.nodeNative >= TARGET_NODE_NATIVE_VERIFY_PER_S,
  "seconds-per-figure": seconds,
  "load-average-1m-at-start": Number(load.toFixed(2)),
  cores: cpus().length,
  node: process.version,
  chromium: browserVersion,
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
  console.log(`  pay, receive and createPiecepayContext alone, without ethers: gzipped ${kib(payActions.gzipBytes)}`);
  console.log(`  PiecepayClient alone, without ethers:                       gzipped ${kib(wholeClient.gzipBytes)}`);
  if (top > 0) console.log("  largest inputs without ethers (minified bytes):");
  for (const { path, bytes } of result["largest-inputs-without-ethers"])
    console.log(`    ${kib(bytes).padStart(10)}  ${path}`);
  const n = (x: number) => x.toLocaleString("en");
  const met = (ok: boolean) => (ok ? "met" : "MISSED");
  const rows: [string, string][] = [
    [`verify, Chromium ${browserVersion} (@noble/curves)`, n(result["browser-verify-noble-per-s"])],
    [`verify, Node ${process.version} (libsecp256k1)`, n(result["node-verify-native-per-s"])],
    [`verify, Node ${process.version} (@noble/curves)`, n(result["node-verify-noble-per-s"])],
    ["sign (ethers Wallet), Chromium", n(result["browser-sign-per-s"])],
    ["sign (ethers Wallet), Node", n(result["node-sign-per-s"])],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`Vouchers per second, one core, ${seconds} s each, measured in this run:`);
  for (const [label, figure] of rows) console.log(`  ${label.padEnd(width)}  ${figure.padStart(7)}`);
  console.log(
    `  browser verify / target ${n(TARGET_BROWSER_VERIFY_PER_S)}: ${result["browser-verify-vs-target"]}, ` +
      met(result["meets-browser-verify-target"]),
  );
  console.log(
    `  Node native verify / target ${n(TARGET_NODE_NATIVE_VERIFY_PER_S)}: ${result["node-verify-native-vs-target"]}, ` +
      met(result["meets-node-verify-target"]),
  );
  console.log(`  load average (1 min) at the start: ${result["load-average-1m-at-start"]} on ${result.cores} cores`);
}
