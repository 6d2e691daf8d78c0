// `npm run demo:web` as a person uses it: the one command starts a chain, the page and a Node seeder of a sample
// video, and prints a link; in Chromium the link shows the seeder and its price, the development account downloads
// the video paying per piece and plays it while it arrives, and the channels panel shows the channel closed and paid
// out. The chain is the judge: the seeder's account was paid price x pieces. Ctrl-C stops everything.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther } from "ethers";
import { hasFfmpeg } from "../../../client/cli/sample-media.js";
import { gasSpentSince } from "../../../sdk/node.js";
import { Adjudicator__factory } from "../../../typechain-types/index.js";
import { freePort } from "../helpers/nodes.js";
import { closeBrowser, openUrl, type TestPage } from "./harness.js";
import { connectDev, downloadState, paidOutTo, waitForDownload } from "./web-app.js";

const root = new URL("../../../", import.meta.url).pathname;
const tsx = path.join(root, "node_modules/.bin/tsx");
/** demo-web.ts's seeder: account 1 of the development mnemonic, at 0.00001 ETH a piece. */
const SEEDER = HDNodeWallet.fromPhrase(
  "test test test test test test test test test test test junk",
  undefined,
  "m/44'/60'/0'/0/1",
);
const PRICE = parseEther("0.00001");

describe("npm run demo:web: the one command, then the printed link in Chromium", function () {
  this.timeout(300_000);
  let demo: ChildProcess | undefined;
  let page: TestPage | undefined;
  let dir = "";
  let output = "";

  afterEach(async function () {
    if (this.currentTest?.state !== "failed") return;
    const body = page?.page.locator("body");
    // biome-ignore lint/performance/useDomNodeTextContent: the page as a person reads it, one line per block
    const text = await body?.innerText({ timeout: 2000 }).catch(() => "(closed)");
    console.log(`--- the page\n${text}\n${page?.console.join("\n")}\n--- demo:web\n${output}`);
  });

  after(async () => {
    await page?.close();
    await closeBrowser();
    if (demo && demo.exitCode === null) demo.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("the link shows the Node seeder and its price; Download and Play: the video plays while it arrives, the channel closes, and the chain pays the seeder price x pieces", async function () {
    if (!hasFfmpeg()) this.skip(); // .ci/run installs Debian's ffmpeg
    dir = mkdtempSync(path.join(tmpdir(), "piecepay-demo-web-"));
    demo = spawn(tsx, ["scripts/demo-web.ts", "--port", String(await freePort()), "--data-dir", dir], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    demo.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output = `${stdout}\n${stderr}`;
    });
    demo.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      output = `${stdout}\n${stderr}`;
    });
    const exited = new Promise<number | null>((resolve) => demo?.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 180_000;
    let link: string | undefined;
    while (link === undefined) {
      link = /^\s+(http:\/\/\S+#magnet:\S+)$/m.exec(stdout)?.[1];
      if (demo.exitCode !== null || Date.now() > deadline)
        expect.fail(`demo:web printed no link\n${stdout}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const rpc = /chain (http:\/\/\S+),/.exec(stdout)?.[1] ?? expect.fail(`no chain in\n${stdout}`);
    const provider = new JsonRpcProvider(rpc, undefined, { cacheTimeout: -1, pollingInterval: 200 });
    try {
      const record = JSON.parse(readFileSync(path.join(dir, "deployments", "31337.json"), "utf8"));
      const adjudicator = Adjudicator__factory.connect(record.contracts.Adjudicator.address, provider);
      const start = await provider.getBlockNumber();

      page = await openUrl(link);
      const leecher = await connectDev(page.page);
      // The look-up: one seeder, a Node one, at the demo's price; the terms filled in from its offer.
      await page.page.locator('[data-testid="offers"][data-seeders="1"]').waitFor({ timeout: 60_000 });
      const peer = page.page.getByTestId("peer").first();
      expect(await peer.getAttribute("data-agent")).to.equal("Node");
      expect(await peer.getAttribute("data-price")).to.equal(String(PRICE));
      expect(await page.page.getByTestId("max-price").inputValue()).to.equal("0.00001");
      const before = await provider.getBalance(leecher);

      await page.page.getByTestId("download-start").click();
      await page.page.getByTestId("play").click();
      const playing = await page.page.waitForFunction(
        () => {
          const media = document.querySelector('[data-testid="media"]') as HTMLVideoElement | null;
          return media !== null && media.currentTime > 0.5;
        },
        undefined,
        { timeout: 90_000, polling: 100 },
      );
      expect(await playing.jsonValue()).to.equal(true);
      await waitForDownload(page.page, "settled", 180_000);
      const { have, pieces } = await downloadState(page.page);
      expect(have).to.equal(pieces);

      // The channels panel: the channel closed, paid out to both sides.
      await page.page.getByTestId("tab-channels").click();
      const channel = page.page.locator('[data-testid="channel"][data-role="payer"]');
      await channel.locator('[data-testid="payout"]').waitFor({ timeout: 30_000 });
      expect(await channel.count()).to.equal(1);
      expect(await channel.getAttribute("data-phase")).to.equal("withdrawn");

      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      expect(paidOutTo(events, SEEDER.address), "the Node seeder: price x pieces").to.equal(PRICE * BigInt(pieces));
      const [gas] = await gasSpentSince(provider, [leecher], start);
      expect(before - (await provider.getBalance(leecher)), "the page: price x pieces and its gas").to.equal(
        PRICE * BigInt(pieces) + gas,
      );
    } finally {
      provider.destroy();
    }

    // Ctrl-C stops the seeder, the page and the chain.
    demo.kill("SIGINT");
    expect(await exited).to.equal(0);
    const chainGone = await fetch(rpc, { method: "POST", body: "{}" }).then(
      () => false,
      () => true,
    );
    expect(chainGone, "the chain stopped with it").to.equal(true);
  });
});
