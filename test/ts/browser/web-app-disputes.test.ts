// The page defends its channels by itself while it is open. A seeding page is paid per piece by a Node leecher over
// WebRTC; the leecher then turns hostile and challenges the channel with a stale state (the funding state, which
// pays the seeder nothing). The page's watcher sees the challenge, shows it with its countdown in the channels panel,
// and answers with its latest voucher; once the chain's clock passes the deadline, the payout pays the page exactly
// what the vouchers said: price x pieces, read from the chain's PaidOut events.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { loadNodeWebRtc } from "../../../client/cli/webrtc.js";
import { createTorrentClient } from "../../../client/session/guarded-client.js";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { MemoryChannelStore, PiecepayClient, toDestination } from "../../../sdk/node.js";
import { fileBytes } from "../helpers/file-bytes.js";
import { anvilAccount } from "./anvil-contracts.js";

import { connectDev, seedFile, useWebApp } from "./web-app.js";

const PRICE = "0.0001";

describe("the web app defends its channels: a leecher challenges with a stale state, the page answers", function () {
  this.timeout(180_000);
  const suite = useWebApp();

  it("the page answers the challenge with its voucher, and the payout pays it price x pieces", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const page = await suite.open(suite.app.url);
    const seeder = await connectDev(page.page);
    const link = await seedFile(page.page, { name: "dispute.bin", bytes: fileBytes(1024 * 1024, "dispute") }, PRICE);
    const magnet = decodeURIComponent(link.slice(link.indexOf("#") + 1));

    // A Node leecher over WebRTC, paying per piece as any leecher does.
    const client = await PiecepayClient.create({
      signer: anvilAccount(provider, 7),
      chainId: 31_337n,
      adjudicator: await adjudicator.getAddress(),
      voucherApp: suite.app.voucherApp,
      store: new MemoryChannelStore(),
      pollingIntervalMs: 200,
    });
    const torrents = createTorrentClient({
      dht: false,
      lsd: false,
      utp: false,
      webSeeds: false,
      tracker: { wrtc: await loadNodeWebRtc(), rtcConfig: { iceServers: [] } },
    });
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-dispute-"));
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => torrents.destroy(() => resolve()));
    };
    try {
      const leecher = new PaidLeecher({
        client,
        maxPricePerPiece: parseEther(PRICE),
        budget: parseEther("1"),
        asset: ZeroAddress,
      });
      // A fresh folder: webtorrent's default one keeps an earlier run's file, which would verify without a download.
      const torrent: Torrent = torrents.add(magnet, { path: dir });
      leecher.attach(torrent);
      await new Promise<void>((resolve, reject) => {
        torrent.once("done", () => resolve());
        torrent.once("error", reject);
      });
      const [stats] = leecher.stats().filter((s) => s.channelId !== undefined);
      const channelId = String(stats.channelId);
      const pieces = torrent.pieces.length;
      // The page holds the leecher's voucher for every piece before it serves it: wait until it has them all.
      const paid = parseEther(PRICE) * BigInt(pieces);
      await page.page.waitForFunction(
        (wei) =>
          document.querySelector('[data-testid="transfer"] [data-testid="total"]')?.getAttribute("data-wei") === wei,
        String(paid),
        { timeout: 30_000 },
      );

      // Hostile: instead of closing, the leecher leaves and registers the funding state, which pays the seeder nothing.
      await stop();
      await client.challenge(channelId);
      await page.page.getByTestId("tab-channels").click();
      const row = page.page.locator(`[data-testid="channel"][data-id="${channelId}"]`);
      await row.getByTestId("challenge").waitFor({ timeout: 30_000 });
      // The page's watcher answers by itself; then the chain's clock passes the deadline, and the payout follows.
      await page.page
        .getByTestId("watcher")
        .getByText(new RegExp(`answered ${channelId}`, "i"))
        .waitFor({ timeout: 30_000 });
      await provider.send("evm_increaseTime", [3600]);
      await provider.send("evm_mine", []);
      await row.getByTestId("payout").waitFor({ timeout: 60_000 });

      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(channelId), start);
      const toSeeder = events
        .filter((e) => e.args.destination === toDestination(seeder))
        .reduce((sum, e) => sum + e.args.amount, 0n);
      expect(toSeeder, "the page: what its vouchers say, price x pieces").to.equal(paid);
      expect(await adjudicator.holdings(ZeroAddress, channelId), "nothing left in the channel").to.equal(0n);
    } finally {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
