// A browser as a paid seeder (issue 14): a page in headless Chromium seeds a file with webtorrent's browser build and
// the CLI's PaidSeeder (its session key and channels in IndexedDB, its payouts to the injected wallet's account),
// announcing to a WebSocket tracker the test starts, and answering offers only (numwant 0, as `seed --webrtc`).
// Two leechers download from it over WebRTC and pay per piece: the real CLI, `piecepay get --webrtc`, as a process on
// anvil; and a second page in its own browser context (its own IndexedDB and OPFS). The chain is the judge: after the
// cooperative close, PaidOut pays the seeder page's wallet price x pieces to the wei and the leecher the rest of its
// deposit, the balances agree after each side's gas, and the seeder's session key holds nothing. A seeder tab closed
// mid-transfer cost the leecher at most its credit window, and once opened again enforces what its vouchers say.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, parseEther } from "ethers";
import type { LeecherPeerStats, SeederPeerStats } from "../../../client/web/session.js";
import { fromJson, gasSpentSince, toDestination } from "../../../sdk/node.js";
import type { Adjudicator } from "../../../typechain-types/index.js";
import { cli, jsonLines } from "../client/cli-process.js";
import { type LocalNode, root, skipChallengeWaits, startAnvil } from "../helpers/nodes.js";
import { startWebSocketTracker, type WebSocketTracker } from "../helpers/webrtc-peers.js";
import { anvilAccount, deployForPages, type PageSettings } from "./anvil-contracts.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";
import type { Download } from "./pages/paid-leecher.js";
import type { SeederStats, Seeding } from "./pages/paid-seeder.js";

const SEEDER_PAGE = join(root, "test/ts/browser/pages/paid-seeder.ts");
const LEECHER_PAGE = join(root, "test/ts/browser/pages/paid-leecher.ts");
const CHAIN_ID = 31_337n;
const MiB = 1024 * 1024;
const PRICE = parseEther("0.0001");

describe("a browser seeds and is paid per piece over WebRTC", function () {
  this.timeout(60_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let tracker: WebSocketTracker;
  let adjudicator: Adjudicator;
  let settings: PageSettings;
  let bundles: { seeder: string; leecher: string };
  let dir: string;
  const pages: TestPage[] = [];

  before(async function () {
    this.timeout(120_000);
    let seeder: string;
    let leecher: string;
    [node, tracker, seeder, leecher] = await Promise.all([
      startAnvil(),
      // Announces every 5 s: a leecher whose first WebRTC connection is lost under load offers again soon.
      startWebSocketTracker(5),
      bundleForBrowser(SEEDER_PAGE, [], { webtorrent: true }),
      bundleForBrowser(LEECHER_PAGE, [], { webtorrent: true }),
    ]);
    bundles = { seeder, leecher };
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 100 });
    ({ adjudicator, settings } = await deployForPages(provider, CHAIN_ID));
    dir = mkdtempSync(join(tmpdir(), "piecepay-browser-seeder-"));
  });
  after(async () => {
    await closeBrowser();
    await tracker?.close();
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of pages) console.log(p.console.join("\n"));
    for (const p of pages.splice(0)) await p.close();
  });

  /** A page in a fresh browser context (its own IndexedDB and OPFS) running `bundle`, closed after the test. */
  async function page(bundle: string): Promise<TestPage> {
    const opened = await openPage(bundle, node.url);
    pages.push(opened);
    return opened;
  }

  /** A seeder page paid to anvil's account `account`, seeding `bytes` random bytes in pieces of `pieceLength`. */
  async function seederPage(account: number, name: string, bytes: number, pieceLength: number) {
    const seeder = await page(bundles.seeder);
    await seeder.page.waitForFunction(() => "seeder" in window);
    const keys = await seeder.page.evaluate(([s, a]) => window.seeder.start(s, a), [settings, account] as const);
    expect(keys.wallet).to.equal(anvilAccount(provider, account).address);
    const seeding = fromJson(
      await seeder.page.evaluate((request) => window.seeder.seed(request), {
        name,
        bytes,
        pieceLength,
        announce: tracker.announce,
        price: String(PRICE),
      }),
    ) as Seeding;
    // Every piece is in the origin private file system, one file a piece: not only in the page's memory.
    expect(seeding.store).to.equal("OpfsPieceStore");
    expect(seeding.opfs).to.deep.equal({ files: seeding.pieces, bytes });
    const stats = async () => fromJson(await seeder.page.evaluate(() => window.seeder.stats())) as SeederStats;
    return { ...keys, seeding, stats, tab: seeder };
  }

  /**
   * The chain after the close of `channelId`: PaidOut paid `seederWallet` `paid` and `payer` the rest of `deposited`;
   * each balance moved by that less its gas since `start`; the seeder's session key holds nothing.
   */
  async function expectSettled(
    channel: { channelId: string; deposited: bigint; paid: bigint },
    parties: { payer: string; seederWallet: string; seederKey: string },
    start: number,
    before: bigint[],
  ) {
    const { paid } = channel;
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(channel.channelId));
    // The adjudicator emits no PaidOut of 0: a leecher that bought the whole torrent deposited exactly its price.
    const expected: [string, bigint][] = [
      [toDestination(parties.payer), channel.deposited - paid],
      [toDestination(parties.seederWallet), paid],
    ];
    expect(new Map(events.map((e) => [e.args.destination, e.args.amount]))).to.deep.equal(
      new Map(expected.filter(([, amount]) => amount > 0n)),
    );
    const [payerGas, seederGas] = await gasSpentSince(provider, [parties.payer, parties.seederWallet], start);
    const after = await Promise.all([provider.getBalance(parties.payer), provider.getBalance(parties.seederWallet)]);
    expect(after[0] - before[0], "the leecher: its deposit back less what the seeder was paid, less its gas").to.equal(
      -paid - payerGas,
    );
    expect(after[1] - before[1], "the seeder's wallet: what it was paid, less its gas").to.equal(paid - seederGas);
    expect(await provider.getBalance(parties.seederKey), "the seeder's session key holds nothing").to.equal(0n);
  }

  it("piecepay get --webrtc downloads from the seeder page and pays it price x pieces to the wei", async function () {
    const leecherKey = anvilAccount(provider, 4);
    const dataDir = join(dir, "cli-leecher");
    mkdirSync(join(dataDir, "deployments"), { recursive: true });
    writeFileSync(
      join(dataDir, "deployments", "31337.json"),
      JSON.stringify({
        chainId: 31337,
        contracts: {
          Adjudicator: { address: settings.adjudicator },
          VoucherPaymentApp: { address: settings.voucherApp },
        },
      }),
    );
    const seeder = await seederPage(3, "clip.bin", 2 * MiB, 64 * 1024);
    expect(seeder.seeding.pieces).to.equal(32);
    const start = await provider.getBlockNumber();
    const before = await Promise.all([provider.getBalance(leecherKey.address), provider.getBalance(seeder.wallet)]);

    const out = join(dir, "cli-out");
    // The magnet's only tracker is the test's ws:// one: the CLI reaches the page over WebRTC or not at all.
    const got = await cli([
      "get",
      seeder.seeding.magnet,
      "--webrtc",
      "--max-price",
      "0.0001",
      "--budget",
      "0.01",
      "--out",
      out,
      "--timeout",
      "40",
      "--key",
      leecherKey.privateKey,
      "--rpc",
      node.url,
      "--data-dir",
      dataDir,
      "--json",
    ]);
    expect(got.code, got.stderr).to.equal(0);
    const file = readFileSync(join(out, "clip.bin"));
    expect(createHash("sha256").update(file).digest("hex")).to.equal(seeder.seeding.sha256);
    const lines = jsonLines(got.stdout);
    const settled = lines.filter((l) => l.event === "settled");
    expect(settled).to.have.length(1);
    expect(settled[0]).to.include({ delivered: 32, closed: true });
    expect(lines.find((l) => l.event === "done")).to.include({ paid: String(PRICE * 32n), channels: 1 });

    const stats = await seeder.stats();
    expect(stats.peerTypes, "the page's connections").to.deep.equal(["webrtc"]);
    expect(stats.served).to.equal(32);
    await expectSettled(
      {
        channelId: String(settled[0].channelId),
        deposited: BigInt(String(settled[0].deposited)),
        paid: PRICE * 32n,
      },
      { payer: leecherKey.address, seederWallet: seeder.wallet, seederKey: seeder.sessionKey },
      start,
      before,
    );
  });

  it("a leecher page downloads 16 MiB from the seeder page, in two browser contexts, paying per piece", async function () {
    const seeder = await seederPage(5, "film.bin", 16 * MiB, 256 * 1024);
    expect(seeder.seeding.pieces).to.equal(64);
    const leecher = await page(bundles.leecher);
    await leecher.page.waitForFunction(() => "leecher" in window);
    const { wallet, sessionKey } = await leecher.page.evaluate((s) => window.leecher.start(s), settings);
    expect(wallet).to.equal(anvilAccount(provider, 0).address);
    const start = await provider.getBlockNumber();
    const before = await Promise.all([provider.getBalance(wallet), provider.getBalance(seeder.wallet)]);

    const download = fromJson(
      await leecher.page.evaluate(
        ([magnet, price, budget]) => window.leecher.download(magnet, "film.bin", price, budget),
        [seeder.seeding.magnet, String(PRICE), String(parseEther("0.01"))],
      ),
    ) as Download;
    expect(download).to.deep.include({ bytes: 16 * MiB, sha256: seeder.seeding.sha256, pieces: 64, held: 64 });
    expect(download.peerTypes).to.deep.equal(["webrtc"]);
    expect(download.settled).to.have.length(1);
    const [channel] = download.settled;
    expect(channel).to.deep.include({ closed: true, delivered: 64, deposited: PRICE * 64n });
    expect((await seeder.stats()).served).to.equal(64);
    await expectSettled(
      { channelId: String(channel.channelId), deposited: channel.deposited, paid: PRICE * 64n },
      { payer: wallet, seederWallet: seeder.wallet, seederKey: seeder.sessionKey },
      start,
      before,
    );
    expect(await provider.getBalance(sessionKey), "the leecher's session key holds nothing").to.equal(0n);
  });

  it("a seeder tab closed mid-transfer, opened again, enforces its vouchers: the chain pays it what they say, the leecher risked at most its window", async function () {
    const WINDOW = 4;
    const stopSkipping = skipChallengeWaits(node.url, settings.adjudicator);
    try {
      const seeder = await seederPage(6, "cut.bin", 8 * MiB, 64 * 1024);
      const leecher = await page(bundles.leecher);
      await leecher.page.waitForFunction(() => "leecher" in window);
      const { wallet } = await leecher.page.evaluate((s) => window.leecher.start(s), settings);
      const start = await provider.getBlockNumber();
      const before = await Promise.all([provider.getBalance(wallet), provider.getBalance(seeder.wallet)]);
      // The download never ends (its only seeder goes): the page is closed after the test, which ends it.
      void leecher.page
        .evaluate(
          ([magnet, price, budget, maxWindow]) =>
            window.leecher.download(magnet, "cut.bin", price, budget, { maxWindow }),
          [seeder.seeding.magnet, String(PRICE), String(parseEther("0.1")), WINDOW] as const,
        )
        .catch(() => undefined);
      const deadline = Date.now() + 30_000;
      let served = (await seeder.stats()).served;
      while (served < 16) {
        if (Date.now() > deadline) throw new Error(`the seeder served ${served} pieces in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        served = (await seeder.stats()).served;
      }
      await seeder.tab.page.close(); // the tab is gone mid-transfer; its context (IndexedDB) stays
      const [paying] = fromJson(await leecher.page.evaluate(() => window.leecher.progress())) as LeecherPeerStats[];
      expect(paying.delivered).to.be.below(128);
      expect(paying.spent, "vouchers: at most the pieces delivered plus one window").to.be.at.most(
        PRICE * BigInt(paying.delivered + WINDOW),
      );

      const reopened = await seeder.tab.openTab();
      await reopened.waitForFunction(() => "seeder" in window);
      const keys = await reopened.evaluate(([s, a]) => window.seeder.start(s, a), [settings, 6] as const);
      expect(keys.sessionKey, "the same session key, from IndexedDB").to.equal(seeder.sessionKey);
      const enforced = fromJson(await reopened.evaluate(() => window.seeder.enforce(0))) as SeederPeerStats;
      const earned = enforced.earned ?? 0n;
      expect(enforced.channelId).to.equal(paying.channelId);
      expect(earned, "paid ahead for every piece it served").to.be.at.least(PRICE * BigInt(served));
      expect(earned, "no more than the leecher's vouchers").to.be.at.most(paying.spent);

      await expectSettled(
        { channelId: String(paying.channelId), deposited: paying.deposited, paid: earned },
        { payer: wallet, seederWallet: seeder.wallet, seederKey: seeder.sessionKey },
        start,
        before,
      );
    } finally {
      await stopSkipping();
    }
  });
});
