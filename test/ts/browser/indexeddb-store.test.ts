// IndexedDbChannelStore in a real Chromium: what it keeps survives a reload, and its check-then-write rules hold
// between two tabs of one origin racing on one database, which is what makes a voucher count once. Money terms:
// a payee credits `amount - previous` for each voucher the store kept; over any race the credits sum to the
// largest voucher, never more.
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { root } from "../helpers/nodes.js";
import { Random } from "../helpers/random.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "./harness.js";

const PAGE = path.join(root, "test/ts/browser/pages/indexeddb-store.ts");
const ID = `0x${"ab".repeat(32)}`;

describe("IndexedDbChannelStore in Chromium", function () {
  this.timeout(60_000);
  let page: TestPage;
  let tab: Page;

  before(async function () {
    // The store needs no chain: the page's wallet bridge points at nothing it will call.
    page = await openPage(await bundleForBrowser(PAGE), "http://127.0.0.1:9");
    await page.page.waitForFunction(() => "storeTest" in window);
    tab = await page.openTab();
    await tab.waitForFunction(() => "storeTest" in window);
  });
  after(async () => {
    await page?.close();
    await closeBrowser();
  });

  it("a channel and a received voucher written before a reload are there after it, bigints intact", async function () {
    await page.page.evaluate(([id]) => window.storeTest.putChannel(id, "1000000000000000000"), [ID]);
    await page.page.evaluate(
      ([id]) => window.storeTest.putVouchers("received", id, ["123456789012345678901234567890"]),
      [ID],
    );
    await page.reload();
    await page.page.waitForFunction(() => "storeTest" in window);
    expect(await page.page.evaluate(([id]) => window.storeTest.getChannel(id), [ID])).to.deep.equal({
      deposited: "1000000000000000000",
      phase: "open",
      nonce: "7",
    });
    expect(await page.page.evaluate(([id]) => window.storeTest.getVoucher("received", id), [ID])).to.equal(
      "123456789012345678901234567890",
    );
  });

  it("two tabs racing 2 x 60 received vouchers: the store ends at the largest, and the credits (amount - previous of each kept one) sum to exactly it", async function () {
    const id = `0x${"cd".repeat(32)}`;
    const random = new Random(21);
    const amounts = () => Array.from({ length: 60 }, () => String(1n + random.uint(40)));
    const [a, b] = [amounts(), amounts()];
    const [inA, inB] = await Promise.all([
      page.page.evaluate(([i, xs]) => window.storeTest.putVouchers("received", i, xs), [id, a] as [string, string[]]),
      tab.evaluate(([i, xs]) => window.storeTest.putVouchers("received", i, xs), [id, b] as [string, string[]]),
    ]);
    const max = [...a, ...b].map(BigInt).reduce((m, x) => (x > m ? x : m), 0n);
    const kept = [...inA, ...inB].filter((r) => r.kept);
    const credited = kept.reduce((sum, r) => sum + BigInt(r.amount) - BigInt(r.previous), 0n);
    expect(credited, "credits summed over both tabs").to.equal(max);
    for (const r of [...inA, ...inB]) {
      if (r.kept) expect(BigInt(r.amount) > BigInt(r.previous), `${r.amount} over ${r.previous}`).to.equal(true);
      else expect(BigInt(r.amount) <= BigInt(r.previous), `${r.amount} refused over ${r.previous}`).to.equal(true);
    }
    expect(await tab.evaluate(([i]) => window.storeTest.getVoucher("received", i), [id])).to.equal(max.toString());
    // The other direction is a separate voucher: untouched.
    expect(await tab.evaluate(([i]) => window.storeTest.getVoucher("sent", i), [id])).to.equal(null);
  });

  it("updateChannel is atomic across tabs: 2 x 40 concurrent increments of the deposit land 80", async function () {
    const id = `0x${"ef".repeat(32)}`;
    await page.page.evaluate(([i]) => window.storeTest.putChannel(i, "0"), [id]);
    await Promise.all([
      page.page.evaluate(([i]) => window.storeTest.bumpDeposit(i, 40), [id] as [string]),
      tab.evaluate(([i]) => window.storeTest.bumpDeposit(i, 40), [id] as [string]),
    ]);
    expect((await tab.evaluate(([i]) => window.storeTest.getChannel(i), [id]))?.deposited).to.equal("80");
  });

  it("the session key: two tabs racing to make it agree on one, and it is the same after a reload", async function () {
    const [inA, inB] = await Promise.all([
      page.page.evaluate(() => window.storeTest.sessionKeyAddresses(5)),
      tab.evaluate(() => window.storeTest.sessionKeyAddresses(5)),
    ]);
    const addresses = new Set([...inA, ...inB]);
    expect(addresses.size, [...addresses].join(", ")).to.equal(1);
    await page.reload();
    await page.page.waitForFunction(() => "storeTest" in window);
    expect(await page.page.evaluate(() => window.storeTest.sessionKeyAddresses(1))).to.deep.equal([...addresses]);
  });

  it("a database of schema 1 (before secrets) opens: its channel stays and a session key can be kept", async function () {
    const opened = await page.page.evaluate(() => window.storeTest.openSchema1("piecepay-schema-1"));
    expect(opened).to.be.an("object");
    expect((opened as { deposited: string }).deposited).to.equal("5");
    expect((opened as { key: string }).key).to.match(/^0x[0-9a-fA-F]{40}$/);
  });

  it("an event is handled once across tabs, and setPhase on an unknown channel says UNKNOWN_CHANNEL", async function () {
    const keys = Array.from({ length: 30 }, (_, i) => `log-${i % 10}`);
    const [x, y] = await Promise.all([
      page.page.evaluate(([k]) => window.storeTest.markEvents(k), [keys] as [string[]]),
      tab.evaluate(([k]) => window.storeTest.markEvents(k), [keys] as [string[]]),
    ]);
    expect([...x, ...y].filter(Boolean)).to.have.length(10);
    expect(await page.page.evaluate(() => window.storeTest.setPhaseOfUnknown())).to.equal("UNKNOWN_CHANNEL");
    expect(page.console.filter((l) => l.startsWith("pageerror"))).to.deep.equal([]);
  });
});
