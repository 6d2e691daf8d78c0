// The web app in Chromium, driven by clicks as a person would: a seeder page and a leecher page, each with its own
// development account (a key the page keeps, funded by the server's faucet), exchange a 16 MiB file over WebRTC
// through the server's tracker, paying per piece. The chain is the judge: after the cooperative close, the seeder's
// account has earned price x pieces to the wei and the leecher's got the rest of its deposit back, less gas.
import { expect } from "chai";
import { parseEther } from "ethers";
import { gasSpentSince, toDestination } from "../../../sdk/node.js";
import { fileBytes } from "../helpers/file-bytes.js";
import { closeBrowser, openUrl, type TestPage } from "./harness.js";
import {
  connectDev,
  downloadState,
  seedFile,
  startDownload,
  startWebApp,
  type WebApp,
  waitForDownload,
} from "./web-app.js";

const SIZE = 16 * 1024 * 1024;
const PRICE = "0.0001";

describe("the web app: a seeder page and a leecher page exchange a file over WebRTC and pay per piece", function () {
  this.timeout(180_000);
  let app: WebApp;
  const pages: TestPage[] = [];

  before(async () => {
    app = await startWebApp();
  });
  after(async () => {
    for (const page of pages) await page.close();
    await closeBrowser();
    await app?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") for (const page of pages) console.log(page.console.join("\n"));
  });

  it("seeds 16 MiB from one page, downloads it in another, and the chain pays the seeder price x pieces", async () => {
    const { provider, adjudicator } = app;
    const start = await provider.getBlockNumber();
    const seederPage = await openUrl(app.server.url);
    pages.push(seederPage);
    const seeder = await connectDev(seederPage.page);
    const link = await seedFile(seederPage.page, { name: "sample.bin", bytes: fileBytes(SIZE, "web") }, PRICE);
    expect(link).to.match(/#magnet:\?xt=urn:btih:[0-9a-f]{40}/);

    const leecherPage = await openUrl(link);
    pages.push(leecherPage);
    const leecher = await connectDev(leecherPage.page);
    expect(leecher).to.not.equal(seeder);
    const before = await Promise.all([provider.getBalance(leecher), provider.getBalance(seeder)]);
    await startDownload(leecherPage.page, PRICE, "1");
    await waitForDownload(leecherPage.page, "settled", 150_000);

    const { have, pieces } = await downloadState(leecherPage.page);
    expect(have).to.equal(pieces);
    expect(pieces).to.be.greaterThan(0);
    const peers = leecherPage.page.getByTestId("peer");
    expect(await peers.first().getAttribute("data-agent"), "the seeder is a page").to.equal("browser");

    // The chain: every PaidOut to the seeder's and the leecher's accounts since the start.
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const paidTo = (address: string) =>
      events.filter((e) => e.args.destination === toDestination(address)).reduce((sum, e) => sum + e.args.amount, 0n);
    const deposits = events.map((e) => e.args.channelId);
    expect(new Set(deposits).size, "one channel").to.equal(1);
    const price = parseEther(PRICE);
    expect(paidTo(seeder), "the seeder: price x pieces").to.equal(price * BigInt(pieces));
    const [leecherGas, seederGas] = await gasSpentSince(provider, [leecher, seeder], start);
    const after = await Promise.all([provider.getBalance(leecher), provider.getBalance(seeder)]);
    expect(after[0] - before[0], "the leecher: price x pieces and its gas").to.equal(
      -price * BigInt(pieces) - leecherGas,
    );
    expect(after[1] - before[1], "the seeder: price x pieces less its gas").to.equal(
      price * BigInt(pieces) - seederGas,
    );
    // What the page showed as paid is what the chain paid.
    const shown = await leecherPage.page
      .locator('[data-testid="transfer"][data-kind="download"]')
      .getByTestId("total")
      .getAttribute("data-wei");
    expect(BigInt(shown ?? "-1")).to.equal(price * BigInt(pieces));
  });
});
