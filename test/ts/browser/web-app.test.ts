// The web app in Chromium, driven by clicks as a person would: a seeder page and a leecher page, each with its own
// development account (a key the page keeps, funded by the server's faucet), exchange a 16 MiB file over WebRTC
// through the server's tracker, paying per piece. The chain is the judge: after the cooperative close, the seeder's
// account has earned price x pieces to the wei and the leecher's got the rest of its deposit back, less gas.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatEther, parseEther } from "ethers";
import { hasFfmpeg, makeSampleVideo } from "../../../client/cli/sample-media.js";
import { gasSpentSince, MemoryChannelStore, PiecepayClient, toDestination } from "../../../sdk/node.js";
import { cli, jsonLines, startCli } from "../client/cli-process.js";
import { fileBytes } from "../helpers/file-bytes.js";
import { seedOverWebRtc } from "../helpers/webrtc-peers.js";
import { anvilAccount } from "./anvil-contracts.js";
import type { TestPage } from "./harness.js";
import {
  connectDev,
  downloadState,
  paidOutTo,
  seedFile,
  startDownload,
  useWebApp,
  waitForDownload,
} from "./web-app.js";

const SIZE = 16 * 1024 * 1024;
const PRICE = "0.0001";

describe("the web app: a seeder page and a leecher page exchange a file over WebRTC and pay per piece", function () {
  this.timeout(180_000);
  const suite = useWebApp();

  it("seeds 16 MiB from one page, downloads it in another, and the chain pays the seeder price x pieces", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const seederPage = await suite.open(suite.app.url);
    const seeder = await connectDev(seederPage.page);
    const link = await seedFile(seederPage.page, { name: "sample.bin", bytes: fileBytes(SIZE, "web") }, PRICE);
    expect(link).to.match(/#magnet:\?xt=urn:btih:[0-9a-f]{40}/);

    const leecherPage = await suite.open(link);
    const leecher = await connectDev(leecherPage.page);
    expect(leecher).to.not.equal(seeder);
    const before = await Promise.all([provider.getBalance(leecher), provider.getBalance(seeder)]);
    await startDownload(leecherPage.page, PRICE, "1");
    await waitForDownload(leecherPage.page, "settled", 150_000);

    const { have, pieces } = await downloadState(leecherPage.page);
    expect(have).to.equal(pieces);
    expect(pieces).to.be.greaterThan(0);
    // Save: the browser's own download of the file, byte for byte what was seeded.
    const [saved] = await Promise.all([
      leecherPage.page.waitForEvent("download"),
      leecherPage.page.getByTestId("save").click(),
    ]);
    expect(saved.suggestedFilename()).to.equal("sample.bin");
    const savedBytes = readFileSync(await saved.path());
    expect(createHash("sha256").update(savedBytes).digest("hex")).to.equal(
      createHash("sha256").update(fileBytes(SIZE, "web")).digest("hex"),
    );
    const peers = leecherPage.page.getByTestId("peer");
    expect(await peers.first().getAttribute("data-agent"), "the seeder is a page").to.equal("browser");

    // The chain: every PaidOut to the seeder's and the leecher's accounts since the start.
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const paidTo = (address: string) => paidOutTo(events, address);
    // Other tests' channels may pay out meanwhile: count the channels that paid this seeder.
    const ours = events.filter((e) => e.args.destination === toDestination(seeder));
    expect(new Set(ours.map((e) => e.args.channelId)).size, "one channel").to.equal(1);
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

  it("a link shows its seeders and their prices before anything is paid; the terms filled in take the cheaper seeder, and only it is paid", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const bytes = fileBytes(2 * 1024 * 1024, "preview");
    const seederPage = await suite.open(suite.app.url);
    const cheap = await connectDev(seederPage.page);
    const link = await seedFile(seederPage.page, { name: "preview.bin", bytes }, PRICE);
    const pieces = Number(await seederPage.page.getByTestId("stats").first().getAttribute("data-pieces"));
    const price = parseEther(PRICE);
    // The same torrent from a Node seeder asking three times the price.
    const dearKey = anvilAccount(provider, 7);
    const dear = await seedOverWebRtc({
      client: await PiecepayClient.create({
        signer: dearKey,
        chainId: 31_337n,
        adjudicator: await adjudicator.getAddress(),
        voucherApp: suite.app.voucherApp,
        store: new MemoryChannelStore(),
        pollingIntervalMs: 200,
      }),
      files: { "preview.bin": bytes },
      name: "preview.bin",
      pieceLength: bytes.length / pieces,
      pricePerPiece: 3n * price,
      announce: suite.app.tracker,
    });
    try {
      expect(dear.torrent.magnetURI).to.include(link.match(/btih:([0-9a-f]{40})/)?.[1]);
      const page = await suite.open(link);
      const leecher = await connectDev(page.page);
      const before = await provider.getBalance(leecher);
      // The look-up: both seeders and their prices; the terms filled in from the cheaper (the dearer one cannot
      // raise them): its price, and a whole-file deposit.
      await page.page.locator('[data-testid="offers"][data-seeders="2"]').waitFor({ timeout: 60_000 });
      const prices = await page.page
        .getByTestId("peer")
        .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-price")));
      expect(prices.sort()).to.deep.equal([String(price), String(3n * price)].sort());
      expect(await page.page.getByTestId("max-price").inputValue()).to.equal(formatEther(price));
      expect(parseEther(await page.page.getByTestId("budget").inputValue())).to.equal(price * BigInt(pieces));
      // Nothing asked for, nothing sent: no piece, no transaction from the leecher's account.
      expect(await downloadState(page.page)).to.deep.equal({ state: "preview", have: 0, pieces });
      expect(await provider.getTransactionCount(leecher)).to.equal(0);
      expect(await provider.getBalance(leecher)).to.equal(before);

      // Download with the terms filled in: the dearer seeder is refused, the cheaper one paid for every piece.
      await page.page.getByTestId("download-start").click();
      await waitForDownload(page.page, "settled", 90_000);
      expect((await downloadState(page.page)).have).to.equal(pieces);
      const notes = (await page.page.getByTestId("notes").textContent()) ?? "";
      expect(notes).to.match(/not used: price \d+ per piece is above our maximum/);
      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      expect(paidOutTo(events, cheap), "the cheaper seeder: price x pieces").to.equal(price * BigInt(pieces));
      expect(paidOutTo(events, dearKey.address), "the dearer seeder: nothing").to.equal(0n);
      const [gas] = await gasSpentSince(provider, [leecher], start);
      expect((await provider.getBalance(leecher)) - before).to.equal(-price * BigInt(pieces) - gas);
    } finally {
      await dear.close();
    }
  });

  it("a page downloads from `piecepay seed --webrtc`: the peers table says Node, the chain pays the Node seeder", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-web-seed-"));
    const file = path.join(dir, "clip.bin");
    writeFileSync(file, fileBytes(2 * 1024 * 1024, "node seeder"));
    const seederKey = anvilAccount(provider, 1);
    const seeding = await startCli([
      "seed",
      file,
      "--webrtc",
      "--announce",
      suite.app.tracker,
      "--price",
      PRICE,
      "--piece-length",
      "64",
      "--key",
      seederKey.privateKey,
      "--rpc",
      suite.app.node.url,
      "--data-dir",
      suite.app.dataDir,
    ]);
    try {
      const page = await suite.open(`${suite.app.url}#${String(seeding.ready.magnet)}`);
      const leecher = await connectDev(page.page);
      const before = await provider.getBalance(leecher);
      await startDownload(page.page, PRICE, "1");
      await waitForDownload(page.page, "settled", 120_000);
      const { have, pieces } = await downloadState(page.page);
      expect([have, pieces]).to.deep.equal([32, 32]);
      expect(await page.page.getByTestId("peer").first().getAttribute("data-agent")).to.equal("Node");
      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      const paidTo = (address: string) => paidOutTo(events, address);
      expect(paidTo(seederKey.address), "the Node seeder: price x 32").to.equal(parseEther(PRICE) * 32n);
      // Its deposit was the whole file's price (32 pieces): nothing to give back, and nothing more spent but gas.
      const [gas] = await gasSpentSince(provider, [leecher], start);
      expect((await provider.getBalance(leecher)) - before, "the page: price x 32 and its gas").to.equal(
        -parseEther(PRICE) * 32n - gas,
      );
    } finally {
      seeding.child.kill("SIGINT");
      await seeding.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("`piecepay get --webrtc` downloads from a seeding page: the chain pays the page's account price x pieces", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const page = await suite.open(suite.app.url);
    const seeder = await connectDev(page.page);
    const data = fileBytes(3 * 1024 * 1024, "page seeder");
    const link = await seedFile(page.page, { name: "page.bin", bytes: data }, PRICE);
    const magnet = decodeURIComponent(link.slice(link.indexOf("#") + 1));
    const leecherKey = anvilAccount(provider, 2);
    const out = mkdtempSync(path.join(tmpdir(), "piecepay-web-get-"));
    try {
      const got = await cli([
        "get",
        magnet,
        "--webrtc",
        "--announce",
        suite.app.tracker,
        "--max-price",
        PRICE,
        "--budget",
        "1",
        "--out",
        out,
        "--key",
        leecherKey.privateKey,
        "--rpc",
        suite.app.node.url,
        "--data-dir",
        suite.app.dataDir,
        "--json",
      ]);
      expect(got.code, got.stderr).to.equal(0);
      expect(readFileSync(path.join(out, "page.bin")).equals(Buffer.from(data))).to.equal(true);
      const done = jsonLines(got.stdout).find((l) => l.event === "done");
      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      const paidTo = (address: string) => paidOutTo(events, address);
      const pieces = BigInt(Number((await page.page.getByTestId("stats").first().getAttribute("data-pieces")) ?? 0));
      expect(pieces > 0n).to.equal(true);
      expect(paidTo(seeder), "the page's account: price x pieces").to.equal(parseEther(PRICE) * pieces);
      expect(done).to.include({ paid: String(parseEther(PRICE) * pieces), channels: 1 });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("a reload of the leecher page at half-way resumes the download and its channel: no piece paid twice", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const seederPage = await suite.open(suite.app.url);
    const seeder = await connectDev(seederPage.page);
    // A slow seeder (webtorrent's own throttle, 1 MiB/s), so that half-way is a moment the test can catch.
    await seederPage.page.evaluate(() =>
      (window as unknown as Throttled).piecepay.peer.torrents.throttleUpload(1024 * 1024),
    );
    const link = await seedFile(seederPage.page, { name: "reload.bin", bytes: fileBytes(SIZE / 2, "reload") }, PRICE);
    const leecherPage = await suite.open(link);
    await connectDev(leecherPage.page);
    await startDownload(leecherPage.page, PRICE, "1");
    await leecherPage.page.waitForFunction(
      () => {
        const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
        const have = Number(stats?.getAttribute("data-have"));
        const pieces = Number(stats?.getAttribute("data-pieces"));
        return pieces > 0 && have >= pieces / 2;
      },
      undefined,
      { timeout: 60_000, polling: 50 },
    );
    const atReload = await downloadState(leecherPage.page);
    expect(atReload.have, "not done yet").to.be.lessThan(atReload.pieces);

    await leecherPage.reload();
    // The page reconnects the development account by itself and resumes the download it remembered.
    await waitForDownload(leecherPage.page, "settled", 120_000);
    const { have, pieces } = await downloadState(leecherPage.page);
    expect(have).to.equal(pieces);

    // Other tests' channels may pay out meanwhile: only the channels that paid this seeder count.
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const ours = events.filter((e) => e.args.destination === toDestination(seeder));
    expect(new Set(ours.map((e) => e.args.channelId)).size, "the channel continued, not a second one").to.equal(1);
    const toSeeder = ours.reduce((sum, e) => sum + e.args.amount, 0n);
    expect(toSeeder, "price x pieces: each piece paid once").to.equal(parseEther(PRICE) * BigInt(pieces));
  });

  it("plays a video while it downloads: its currentTime advances before half of it has arrived", async function () {
    if (!hasFfmpeg()) this.skip(); // .ci/run installs Debian's ffmpeg
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-web-video-"));
    try {
      const video = makeSampleVideo(path.join(dir, "sample.webm"), { seconds: 30, bitrate: 600 });
      const { provider, adjudicator } = suite.app;
      const start = await provider.getBlockNumber();
      const seederPage = await suite.open(suite.app.url);
      const seeder = await connectDev(seederPage.page);
      // 256 KiB/s: the 2.4 MB video takes about ten seconds to arrive.
      await seederPage.page.evaluate(() =>
        (window as unknown as Throttled).piecepay.peer.torrents.throttleUpload(256 * 1024),
      );
      const link = await seedFile(seederPage.page, { name: "sample.webm", bytes: readFileSync(video.path) }, PRICE);
      const leecherPage = await suite.open(link);
      await connectDev(leecherPage.page);
      await startDownload(leecherPage.page, PRICE, "1");
      await leecherPage.page.getByTestId("play").click();
      const playing = await leecherPage.page.waitForFunction(
        () => {
          const media = document.querySelector('[data-testid="media"]') as HTMLVideoElement | null;
          const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
          const have = Number(stats?.getAttribute("data-have"));
          const pieces = Number(stats?.getAttribute("data-pieces"));
          return media !== null && media.currentTime > 0.5 ? { have, pieces, time: media.currentTime } : false;
        },
        undefined,
        { timeout: 60_000, polling: 50 },
      );
      const at = (await playing.jsonValue()) as { have: number; pieces: number; time: number };
      expect(at.have, `pieces held when the video had played ${at.time} s`).to.be.lessThan(at.pieces / 2);
      // The page mid-download, as the README shows it (PIECEPAY_SCREENSHOT=docs/images/web-app.png writes it there).
      const shot = process.env.PIECEPAY_SCREENSHOT ?? path.join(dir, "mid-download.png");
      await leecherPage.page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).to.be.greaterThan(10_000);
      await waitForDownload(leecherPage.page, "settled", 120_000);
      // Paid per piece like any download: the chain paid the seeding tab price x pieces.
      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      expect(paidOutTo(events, seeder)).to.equal(parseEther(PRICE) * BigInt(at.pieces));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The page's model, as the app exposes it on `window.piecepay` (web-peer.ts). */
interface Throttled {
  piecepay: { peer: { torrents: { throttleUpload(rate: number): void } } };
}

describe("the web app: a seeder's tab closes mid-transfer", function () {
  this.timeout(240_000);
  const suite = useWebApp();

  it("the other seeder finishes the download; the gone seeder's channel is closed on chain and withdrawn from the channels panel, and the leecher loses at most its credit window", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const bytes = fileBytes(SIZE / 2, "two seeders");
    const seeders: { page: TestPage; address: string }[] = [];
    let link = "";
    for (let i = 0; i < 2; i++) {
      const page = await suite.open(suite.app.url);
      const address = await connectDev(page.page);
      await page.page.evaluate(() =>
        (window as unknown as Throttled).piecepay.peer.torrents.throttleUpload(512 * 1024),
      );
      link = await seedFile(page.page, { name: "shared.bin", bytes }, PRICE);
      seeders.push({ page, address });
    }
    const leecherPage = await suite.open(link);
    const leecher = await connectDev(leecherPage.page);
    const before = await provider.getBalance(leecher);
    await startDownload(leecherPage.page, PRICE, "1");
    // Both seeders are paid and serve; past a quarter of the file the first one's tab closes.
    await leecherPage.page.waitForFunction(
      () => {
        const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
        const serving = [...document.querySelectorAll('[data-testid="peer"]')].filter(
          (row) => Number(row.getAttribute("data-pieces")) > 0,
        );
        const quarter = Number(stats?.getAttribute("data-have")) >= Number(stats?.getAttribute("data-pieces")) / 4;
        return serving.length === 2 && quarter;
      },
      undefined,
      { timeout: 60_000, polling: 50 },
    );
    const [gone, staying] = seeders;
    await gone.page.close();
    await waitForDownload(leecherPage.page, "settled", 180_000);
    const { have, pieces } = await downloadState(leecherPage.page);
    expect(have).to.equal(pieces);
    const goneRow = leecherPage.page.locator('[data-testid="peer"][data-gone="yes"]');
    const fromGone = Number(await goneRow.getAttribute("data-pieces"));

    // The channels panel: the gone seeder's channel is still open; the person turns off withdrawing by itself,
    // closes the channel on chain (a challenge with its best state), sees the countdown, and once the chain's clock
    // passes it, withdraws with the button.
    await leecherPage.page.getByTestId("tab-channels").click();
    await leecherPage.page.getByTestId("auto-withdraw").uncheck();
    const open = leecherPage.page.locator('[data-testid="channel"][data-phase="open"]');
    await open.waitFor({ timeout: 30_000 });
    const channelId = String(await open.getAttribute("data-id"));
    await open.getByTestId("close").click();
    await leecherPage.page
      .locator(`[data-testid="channel"][data-id="${channelId}"] [data-testid="challenge"]`)
      .waitFor({
        timeout: 60_000,
      });
    await provider.send("evm_increaseTime", [3600]);
    await provider.send("evm_mine", []);
    const row = leecherPage.page.locator(`[data-testid="channel"][data-id="${channelId}"]`);
    await row.getByTestId("withdraw").click({ timeout: 60_000 });
    await row.getByTestId("payout").waitFor({ timeout: 60_000 });
    expect(await row.getAttribute("data-phase")).to.equal("withdrawn");

    // The chain: the staying seeder got exactly its pieces x price; the gone one at most its pieces and one credit
    // window (256 pieces); both channels hold nothing; the leecher paid exactly what the two were paid, and gas.
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const paidTo = (address: string) => paidOutTo(events, address);
    const price = parseEther(PRICE);
    expect(paidTo(staying.address), "the staying seeder").to.equal(price * BigInt(pieces - fromGone));
    expect(paidTo(gone.address) <= price * BigInt(fromGone + 256), "the gone seeder: at most a window more").to.equal(
      true,
    );
    for (const id of new Set(events.map((e) => e.args.channelId))) {
      expect(await adjudicator.holdings("0x0000000000000000000000000000000000000000", id)).to.equal(0n);
    }
    const [gas] = await gasSpentSince(provider, [leecher], start);
    expect((await provider.getBalance(leecher)) - before).to.equal(
      -paidTo(staying.address) - paidTo(gone.address) - gas,
    );
  });
});
