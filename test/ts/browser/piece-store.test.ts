// OpfsPieceStore in Chromium (client/web/piece-store.ts): the pieces a page holds are in the origin private file
// system and found again by a store opened later (a reload); a piece it does not hold is missing at once, with no
// file made for it, where fsa-chunk-store makes an empty file for every piece asked for (what made webtorrent's check
// of a fresh 64 MiB torrent take a second).
import { join } from "node:path";
import { expect } from "chai";
import { root } from "../helpers/nodes.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";

const PAGE = join(root, "test/ts/browser/pages/piece-store.ts");
const piece = (index: number) => Array(16).fill(index + 1);

describe("OpfsPieceStore: a page's pieces in the origin private file system", function () {
  this.timeout(60_000);
  let page: TestPage;

  before(async function () {
    // No chain: the harness forwards /rpc to nothing this test calls.
    page = await openPage(await bundleForBrowser(PAGE), "http://127.0.0.1:9");
    await page.page.waitForFunction(() => "pieceStore" in window);
  });
  after(async () => {
    await page?.close();
    await closeBrowser();
  });

  it("keeps what was written across stores, answers a missing piece without making a file for it", async function () {
    const run = await page.page.evaluate(() => window.pieceStore.run("OpfsPieceStore", "ours"));
    expect(run.before).to.deep.equal({ 0: piece(0), 1: "Index 1 does not exist" });
    expect(run.filesBefore, "no file for the missing piece 1").to.deep.equal(["0", "2"]);
    expect(run.reopened).to.deep.equal([piece(0), "Index 1 does not exist", piece(2), "Index 3 does not exist"]);
    expect(run.written).to.deep.equal(piece(3));
    expect(run.filesAfter).to.deep.equal(["0", "2", "3"]);
  });

  it("fsa-chunk-store itself makes an empty file for every missing piece it is asked for", async function () {
    const run = await page.page.evaluate(() => window.pieceStore.run("FSAChunkStore", "theirs"));
    expect(run.before).to.deep.equal({ 0: piece(0), 1: "Index 1 does not exist" });
    expect(run.filesBefore).to.deep.equal(["0", "1", "2"]);
    expect(run.reopened).to.deep.equal([piece(0), "Index 1 does not exist", piece(2), "Index 3 does not exist"]);
  });
});
