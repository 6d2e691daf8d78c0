// The paid session in a browser page, over WebRTC: headless Chromium runs webtorrent's browser build with the CLI's
// PaidLeecher (client/web/session.ts) and the SDK (its session key and channels in IndexedDB, its deposit and close
// through the injected wallet, anvil's account 0); a PaidSeeder in this Node process serves over node-datachannel;
// they meet through a WebSocket tracker the test starts. The torrent holds two files and the page wants one: the
// leecher deposits what the whole torrent would cost, and pays for the pieces it got. The chain is the judge: after
// the cooperative close, the seeder has earned price x pieces delivered to the wei, the page's wallet got the rest
// of its deposit back, and the session key, which signed every voucher, holds nothing.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther } from "ethers";
import { fromJson, gasSpentSince, PiecepayClient, SqliteChannelStore, toDestination } from "../../../sdk/node.js";
import type { Adjudicator } from "../../../typechain-types/index.js";
import { fileBytes } from "../helpers/file-bytes.js";
import { type LocalNode, root, startAnvil } from "../helpers/nodes.js";
import {
  seedOverWebRtc,
  startWebSocketTracker,
  type WebRtcSeeder,
  type WebSocketTracker,
} from "../helpers/webrtc-peers.js";
import { anvilAccount, deployForPages } from "./anvil-contracts.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";
import type { Download, LeecherSettings } from "./pages/paid-leecher.js";

const PAGE = join(root, "test/ts/browser/pages/paid-leecher.ts");
const CHAIN_ID = 31_337n;
const PIECE_LENGTH = 64 * 1024;
/** The page wants the first file (20 pieces, 1.25 MiB), not the second (12 pieces): 2 MiB in all. */
const WANTED = { name: "video.bin", pieces: 20 };
const OTHER = { name: "extra.bin", pieces: 12 };
const PIECES = WANTED.pieces + OTHER.pieces;
const PRICE = parseEther("0.0001");
const BUDGET = parseEther("0.01");

describe("the paid session in Chromium: a page downloads from a Node seeder over WebRTC and pays per piece", function () {
  this.timeout(120_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let store: SqliteChannelStore;
  let adjudicator: Adjudicator;
  let tracker: WebSocketTracker;
  let seeding: WebRtcSeeder;
  let page: TestPage;
  let settings: LeecherSettings;
  const wanted = fileBytes(WANTED.pieces * PIECE_LENGTH, WANTED.name);
  const other = fileBytes(OTHER.pieces * PIECE_LENGTH, OTHER.name);

  const account = (i: number) => anvilAccount(provider, i);

  before(async function () {
    let bundle: string;
    [node, bundle, tracker] = await Promise.all([
      startAnvil(),
      bundleForBrowser(PAGE, [], { webtorrent: true }),
      startWebSocketTracker(),
    ]);
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 100 });
    ({ adjudicator, settings } = await deployForPages(provider, CHAIN_ID));
    dir = mkdtempSync(join(tmpdir(), "piecepay-webrtc-seeder-"));
    store = new SqliteChannelStore(join(dir, "seeder.db"));
    const client = await PiecepayClient.create({
      signer: account(1),
      chainId: CHAIN_ID,
      adjudicator: settings.adjudicator,
      voucherApp: settings.voucherApp,
      store,
      pollingIntervalMs: 100,
    });
    seeding = await seedOverWebRtc({
      client,
      files: { [WANTED.name]: wanted, [OTHER.name]: other },
      name: "two files",
      pieceLength: PIECE_LENGTH,
      pricePerPiece: PRICE,
      announce: tracker.announce,
    });
    page = await openPage(bundle, node.url);
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

  it("downloads a file over WebRTC, pays price x pieces to the wei, and the wallet gets the rest of its deposit back", async function () {
    const seederAddress = account(1).address;
    const start = await provider.getBlockNumber();
    await page.page.waitForFunction(() => "leecher" in window);
    const { wallet, sessionKey } = await page.page.evaluate((s) => window.leecher.start(s), settings);
    expect(wallet).to.equal(account(0).address);
    const before = await Promise.all([provider.getBalance(wallet), provider.getBalance(seederAddress)]);

    const download = fromJson(
      await page.page.evaluate(
        ([magnet, only, price, budget]) => window.leecher.download(magnet, only, price, budget),
        [seeding.torrent.magnetURI, WANTED.name, String(PRICE), String(BUDGET)],
      ),
    ) as Download;

    expect(download.bytes).to.equal(wanted.length);
    expect(download.sha256).to.equal(createHash("sha256").update(wanted).digest("hex"));
    expect(download.pieces).to.equal(PIECES);
    expect(download.held, "the wanted file's pieces, none of the other's").to.equal(WANTED.pieces);
    expect(new Set(download.peerTypes), "the page's connections").to.deep.equal(new Set(["webrtc"]));
    expect(download.settled).to.have.length(1);
    const [channel] = download.settled;
    expect(channel.closed, "closed cooperatively").to.equal(true);
    expect(channel.deposited, "the whole torrent's price").to.equal(PRICE * BigInt(PIECES));
    expect(channel.delivered).to.equal(WANTED.pieces);
    const paid = PRICE * BigInt(WANTED.pieces);

    // The chain: what the adjudicator paid out of the channel, per destination.
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(channel.channelId as string));
    expect(new Map(events.map((e) => [e.args.destination, e.args.amount]))).to.deep.equal(
      new Map([
        [toDestination(wallet), channel.deposited - paid],
        [toDestination(seederAddress), paid],
      ]),
    );
    const [walletGas, seederGas] = await gasSpentSince(provider, [wallet, seederAddress], start);
    const after = await Promise.all([provider.getBalance(wallet), provider.getBalance(seederAddress)]);
    expect(after[0] - before[0], "the wallet: its deposit back less price x pieces, less its gas").to.equal(
      -paid - walletGas,
    );
    expect(after[1] - before[1], "the seeder: price x pieces, less the gas of what it sent").to.equal(paid - seederGas);
    expect(await provider.getBalance(sessionKey), "the session key holds nothing").to.equal(0n);
  });
});
