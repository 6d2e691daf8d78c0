// `npm run demo:web`: everything a person needs to try the web app on one machine, each part the real command:
//   1. `piecepay chain`: a local chain (a block a second) with the contracts deployed;
//   2. a sample video (ffmpeg's test pattern; a WAV tone where there is no ffmpeg);
//   3. `piecepay web`: the page, its tracker and the chain's RPC on one port;
//   4. `piecepay seed --webrtc`: a Node seeder of the sample, announcing to the page's tracker.
// It prints the link to open (the page with the sample's magnet) and runs until Ctrl-C, which stops all three.
//
//   npm run demo:web [-- --port 8080] [--data-dir DIR]    (default data dir: .piecepay/demo-web)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { HDNodeWallet } from "ethers";
import { hasFfmpeg, makeSampleAudio, makeSampleVideo } from "../client/cli/sample-media.js";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = path.join(ROOT, "client/cli/bin.mjs");
/** Hardhat's and anvil's public test mnemonic: the chain's development accounts (test ETH only). */
const PHRASE = "test test test test test test test test test test test junk";
const PRICE = "0.00001";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8080" },
    "data-dir": { type: "string", default: path.join(ROOT, ".piecepay", "demo-web") },
  },
});
const dataDir = path.resolve(values["data-dir"]);
mkdirSync(dataDir, { recursive: true });
const children: ChildProcess[] = [];

/** Starts `piecepay ...args --json` and resolves with its first JSON line (its ready event). */
function start(args: string[], label: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [BIN, ...args, "--json", "--data-dir", dataDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let stdout = "";
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      child.stdout?.off("data", onData); // later lines are the command's progress, not its ready event
      child.stdout?.resume();
      resolve(JSON.parse(stdout.slice(0, newline)));
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${label} exited (${code}) before it was ready:\n${stderr}`)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function stopAll(): void {
  for (const child of children.reverse()) if (child.exitCode === null) child.kill("SIGINT");
}
process.on("SIGINT", stopAll);
process.on("SIGTERM", stopAll);

try {
  console.error("starting a local chain and deploying the contracts (piecepay chain)…");
  const chain = await start(["chain", "--port", String(await freePort())], "piecepay chain");
  const rpc = String(chain.rpc);

  let sample: string;
  if (hasFfmpeg()) {
    sample = makeSampleVideo(path.join(dataDir, "sample.webm"), { seconds: 60, bitrate: 800 }).path;
  } else {
    sample = path.join(dataDir, "sample-tone.wav");
    writeFileSync(sample, makeSampleAudio(60));
    console.error("no ffmpeg here: the sample is a WAV tone instead of a video (apt-get install ffmpeg for a video)");
  }

  const web = await start(["web", "--port", String(values.port), "--rpc", rpc], "piecepay web");
  const seederKey = HDNodeWallet.fromPhrase(PHRASE, undefined, "m/44'/60'/0'/0/1").privateKey;
  const seeding = await start(
    ["seed", sample, "--webrtc", "--announce", String(web.tracker), "--price", PRICE, "--key", seederKey, "--rpc", rpc],
    "piecepay seed",
  );
  const link = `${String(web.url)}#${String(seeding.magnet)}`;
  console.log(
    [
      "",
      `piecepay web demo: chain ${rpc}, page ${String(web.url)}, a Node seeder of ${path.basename(sample)} at ${PRICE} ETH a piece`,
      "",
      "Open this link in a browser, choose \u201cUse the development account (test money)\u201d, then Download (and Play):",
      `  ${link}`,
      "",
      "Or seed a file of your own from the Seed tab, and open its link in another browser profile.",
      "Ctrl-C stops the seeder, the page and the chain.",
    ].join("\n"),
  );
  await Promise.race(children.map((child) => new Promise((resolve) => child.once("exit", resolve))));
} catch (error) {
  console.error(`demo:web failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  stopAll();
}
