// Streaming in a browser page, paid per piece: headless Chromium plays a WebM video (made by Debian's ffmpeg,
// client/cli/sample-media.ts) while it downloads it over WebRTC from a PaidSeeder in this Node process, through
// webtorrent's service worker (client/web/streaming.ts), paying with the CLI's PaidLeecher. The seeder sends no
// faster than 256 KiB/s, so the 2.4 MB download takes about 10 s: the video must start playing (its currentTime
// advances) before half of its pieces have arrived, and a seek near the end must play there before the pieces
// between have arrived (webtorrent asks for the pieces a range request needs first, and the paid leecher grants
// them in that order). The chain is the judge: after the cooperative close, the seeder has earned price x pieces
// delivered to the wei, and the page's wallet paid exactly that plus its gas.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther } from "ethers";
import { makeSampleVideo } from "../../../client/cli/sample-media.js";
import { fromJson, gasSpentSince, PiecepayClient, SqliteChannelStore, toDestination } from "../../../sdk/node.js";
import type { Adjudicator } from "../../../typechain-types/index.js";
import { type LocalNode, root, startAnvil } from "../helpers/nodes.js";
import {
  seedOverWebRtc,
  startWebSocketTracker,
  type WebRtcSeeder,
  type WebSocketTracker,
} from "../helpers/webrtc-peers.js";
import { anvilAccount, deployForPages } from "./anvil-contracts.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";
import type { LeecherSettings } from "./pages/paid-leecher.js";
import type { Finished, Seek, StreamStatus } from "./pages/streaming-leecher.js";

const PAGE = join(root, "test/ts/browser/pages/streaming-leecher.ts");
const SERVICE_WORKER = join(root, "node_modules/webtorrent/dist/sw.min.js");
const CHAIN_ID = 31_337n;
const PIECE_LENGTH = 64 * 1024;
const SECONDS = 30;
/** About 10 s for the whole file: the video (80 kB/s) plays on while it downloads, yet half takes about 5 s. */
const UPLOAD_BYTES_PER_SECOND = 256 * 1024;
const PRICE = parseEther("0.0001");
/**
 * The pieces the page pays ahead at most (the default is 256): fewer than lie between the playback and the seek
 * target, as in a film of a few GiB, so that the seek's pieces are not granted already; the leecher must grant them
 * when the stream asks (client/session/leecher.ts, grantUrgent). Granting from the lowest on, as it did, the seek
 * played only once 36 of the 38 pieces were in (window 4).
 */
const MAX_WINDOW = 16;
const BUDGET = parseEther("0.01");

describe("streaming in Chromium: a page plays a video while it downloads it over WebRTC, paying per piece", function () {
  this.timeout(90_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let store: SqliteChannelStore;
  let adjudicator: Adjudicator;
  let tracker: WebSocketTracker;
  let seeding: WebRtcSeeder;
  let page: TestPage;
  let settings: LeecherSettings;
  let video: Uint8Array;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "piecepay-streaming-"));
    video = readFileSync(makeSampleVideo(join(dir, "sample.webm"), { seconds: SECONDS, bitrate: 600 }).path);
    let bundle: string;
    [node, bundle, tracker] = await Promise.all([
      startAnvil(),
      bundleForBrowser(PAGE, [], { webtorrent: true }),
      startWebSocketTracker(),
    ]);
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 100 });
    ({ adjudicator, settings } = await deployForPages(provider, CHAIN_ID));
    store = new SqliteChannelStore(join(dir, "seeder.db"));
    const client = await PiecepayClient.create({
      signer: anvilAccount(provider, 1),
      chainId: CHAIN_ID,
      adjudicator: settings.adjudicator,
      voucherApp: settings.voucherApp,
      store,
      pollingIntervalMs: 100,
    });
    seeding = await seedOverWebRtc({
      client,
      files: { "sample.webm": video },
      name: "sample.webm",
      pieceLength: PIECE_LENGTH,
      pricePerPiece: PRICE,
      announce: tracker.announce,
      uploadBytesPerSecond: UPLOAD_BYTES_PER_SECOND,
    });
    page = await openPage(bundle, node.url, {
      "/sw.min.js": { body: readFileSync(SERVICE_WORKER), type: "text/javascript" },
    });
  });
  after(async () => {
    await page?.close();
    await closeBrowser();
    await seeding?.close();
    await tracker?.close();
    await store?.close();
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(page?.console.join("\n"));
  });

  it("plays before half the pieces arrived, seeks to the end ahead of the download, and pays price x pieces", async function () {
    const seederAddress = (seeding.seeder ?? expect.fail("a paid seeder")).options.client.address;
    await page.page.waitForFunction(() => "streamer" in window);
    const start = await provider.getBlockNumber();
    const { wallet } = await page.page.evaluate((s) => window.streamer.start(s), settings);
    const before = await Promise.all([provider.getBalance(wallet), provider.getBalance(seederAddress)]);

    const { pieces, workerMs } = await page.page.evaluate(
      ([magnet, price, budget, maxWindow]) => window.streamer.stream(magnet, price, budget, Number(maxWindow)),
      [seeding.torrent.magnetURI, String(PRICE), String(BUDGET), String(MAX_WINDOW)],
    );
    expect(pieces).to.equal(Math.ceil(video.length / PIECE_LENGTH));
    console.log(`      the streaming worker registered, active and in control after ${Math.round(workerMs)} ms`);

    // A stream URL of a torrent the page does not have, or of a file the torrent does not hold, is not served.
    const missing = await page.page.evaluate(
      async ([infoHash]) =>
        Promise.all(
          [`/webtorrent/${"0".repeat(40)}/sample.webm`, `/webtorrent/${infoHash}/other.webm`].map(
            async (url) => (await fetch(url)).status,
          ),
        ),
      [seeding.torrent.infoHash],
    );
    expect(missing).to.deep.equal([404, 404]);
    // The file's own stream answers a range, and tells no other origin it may read it (the
    // server allows the page's origin only).
    const served = await page.page.evaluate(
      async ([infoHash]) => {
        const response = await fetch(`/webtorrent/${infoHash}/sample.webm`, { headers: { range: "bytes=0-0" } });
        await response.body?.cancel();
        return [response.status, response.headers.get("access-control-allow-origin")];
      },
      [seeding.torrent.infoHash],
    );
    expect(served).to.deep.equal([206, null]);

    await page.page.waitForFunction(
      () => window.streamer.status().advancedAt !== undefined || !!window.streamer.status().error,
      undefined,
      { timeout: 30_000 },
    );
    const playing = (await page.page.evaluate(() => window.streamer.status())) as StreamStatus;
    expect(playing.error).to.equal(undefined);
    const heldAtPlaying = playing.heldAtPlaying as number;
    const heldAtAdvance = playing.heldAtAdvance as number;
    expect(heldAtAdvance, "pieces held when currentTime passed 0.5 s").to.be.below(pieces / 2);
    console.log(
      `      playing ${Math.round(playing.playingAt as number)} ms after the torrent was added, with ${heldAtPlaying}/${pieces} pieces (${((100 * heldAtPlaying) / pieces).toFixed(0)}%); currentTime passed 0.5 s at ${Math.round(playing.advancedAt as number)} ms with ${heldAtAdvance}/${pieces}`,
    );

    // Seek near the end while the download is still in the first part of the file.
    const target = SECONDS - 4;
    const seek = (await page.page.evaluate((t) => window.streamer.seek(t), target)) as Seek;
    const held = new Set(seek.heldAfter);
    const firstMissing = [...Array(pieces).keys()].find((i) => !held.has(i)) as number;
    const nearEnd = seek.heldAfter.filter((i) => i >= Math.floor(pieces * 0.8));
    expect(nearEnd.length, "pieces of the last fifth held when the seek played").to.be.above(0);
    expect(firstMissing, "a piece before them still missing: they came first").to.be.below(Math.min(...nearEnd));
    console.log(
      `      seek to ${target} s: seeked after ${Math.round(seek.seekedMs)} ms, played 0.5 s past it after ${Math.round(seek.advancedMs)} ms, with ${held.size}/${pieces} pieces held (first missing ${firstMissing}, held in the last fifth: ${nearEnd.join(",")})`,
    );

    const finished = fromJson(await page.page.evaluate(() => window.streamer.finish())) as Finished;
    expect(finished.bytes).to.equal(video.length);
    expect(finished.sha256).to.equal(createHash("sha256").update(video).digest("hex"));
    expect(finished.held).to.equal(pieces);
    expect(finished.settled).to.have.length(1);
    const [channel] = finished.settled;
    expect(channel.closed, "closed cooperatively").to.equal(true);
    expect(channel.delivered).to.equal(pieces);
    expect(channel.deposited, "the whole torrent's price").to.equal(PRICE * BigInt(pieces));
    const paid = PRICE * BigInt(pieces);
    // The chain: what the adjudicator paid out of the channel, per destination. The page wanted every piece, so
    // the seeder gets the whole deposit and the wallet nothing (a payout of 0 emits no PaidOut).
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(channel.channelId as string));
    expect(new Map(events.map((e) => [e.args.destination, e.args.amount]))).to.deep.equal(
      new Map([[toDestination(seederAddress), paid]]),
    );
    // A page outside the worker's scope, or a worker URL that serves no script, is told so.
    expect(await page.page.evaluate(() => window.streamer.startStreamingError("/sw.min.js", "/elsewhere/"))).to.equal(
      "StreamingError: this page (/) is outside the streaming worker's scope /elsewhere/: serve the worker from the app's root",
    );
    expect(await page.page.evaluate(() => window.streamer.startStreamingError("/no-worker.js"))).to.match(
      /^StreamingError: the streaming worker \/no-worker\.js did not register \(.+\): serve webtorrent's dist\/sw\.min\.js there$/,
    );
    const [walletGas, seederGas] = await gasSpentSince(provider, [wallet, seederAddress], start);
    const after = await Promise.all([provider.getBalance(wallet), provider.getBalance(seederAddress)]);
    expect(after[0] - before[0], "the wallet: price x pieces, and its gas").to.equal(-paid - walletGas);
    expect(after[1] - before[1], "the seeder: price x pieces, less the gas of what it sent").to.equal(paid - seederGas);
  });
});
