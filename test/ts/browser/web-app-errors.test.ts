// The web app's errors, as a person meets them: each is one sentence in the page (no stack trace, no library's raw
// text), and nothing is lost. The wallets here are scripts injected into the page that behave as a wallet extension
// would (EIP-1193 over the server's /rpc, anvil's unlocked accounts): one that is missing, one whose user rejects,
// one on another chain, one whose account holds too little.

import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { parseEther, toQuantity } from "ethers";
import { gasSpentSince, MemoryChannelStore, PiecepayClient, toDestination } from "../../../sdk/node.js";
import { fileBytes } from "../helpers/file-bytes.js";
import { seedOverWebRtc } from "../helpers/webrtc-peers.js";
import { anvilAccount } from "./anvil-contracts.js";
import type { TestPage } from "./harness.js";
import { connectDev, downloadState, seedFile, startDownload, useWebApp, waitForDownload } from "./web-app.js";

/** An injected wallet on anvil's account `account`, through the page's /rpc; `behaviour` changes one thing. */
function wallet(account: number, behaviour: "reject" | "wrong-chain" | "plain"): string {
  return `
window.walletLog = [];
let onChain = ${behaviour === "wrong-chain" ? '"0x1"' : "undefined"};
async function rpc(method, params) {
  const response = await fetch("/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params: params ?? [] }),
  });
  const body = await response.json();
  if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
  return body.result;
}
window.ethereum = {
  async request({ method, params }) {
    window.walletLog.push(method);
    if (method === "eth_requestAccounts" && ${behaviour === "reject"}) {
      throw Object.assign(new Error("User rejected the request."), { code: 4001 });
    }
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [(await rpc("eth_accounts"))[${account}]];
    if (method === "eth_chainId" && onChain !== undefined) return onChain;
    if (method === "wallet_switchEthereumChain") { onChain = undefined; return null; }
    return rpc(method, params);
  },
  on() { return this; },
  removeListener() { return this; },
};`;
}

/** The page's error banner, once it shows. */
async function banner(page: TestPage): Promise<string> {
  const error = page.page.getByTestId("error");
  await error.waitFor({ timeout: 30_000 });
  return (await error.textContent()) ?? "";
}

/** The download card's notes, once one matches `pattern`. */
async function noteMatching(page: TestPage, pattern: RegExp): Promise<string> {
  const notes = page.page.locator('[data-testid="transfer"][data-kind="download"] [data-testid="notes"]');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = (await notes.textContent({ timeout: 60_000 }).catch(() => "")) ?? "";
    if (pattern.test(text) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Caps what a page sends, over all its peers (bytes per second; -1: no cap), through the app's `window.piecepay`. */
function throttleUpload(page: TestPage, rate: number): Promise<void> {
  return page.page.evaluate(
    (r) =>
      (
        window as unknown as { piecepay: { peer: { torrents: { throttleUpload(rate: number): void } } } }
      ).piecepay.peer.torrents.throttleUpload(r),
    rate,
  );
}

/** What must never reach the page: a library's raw error text. */
const RAW = /could not coalesce|transaction=|info=|code=[A-Z_]+|version=6|"jsonrpc"|at [\w.]+ \(/;

describe("the web app's errors: one sentence a person can act on, nothing lost", function () {
  this.timeout(120_000);
  const suite = useWebApp();
  const open = (url: string, initScript?: string) => suite.open(url, initScript === undefined ? {} : { initScript });
  let link = "";

  before(async () => {
    // A seeding page at 0.0001 ETH a piece, for the tests that download.
    const seeder = await open(suite.app.url);
    await connectDev(seeder.page);
    link = await seedFile(seeder.page, { name: "errors.bin", bytes: fileBytes(2 * 1024 * 1024, "errors") }, "0.0001");
  });

  it("no wallet: says so, and offers the development account", async () => {
    const page = await open(suite.app.url);
    await page.page.getByTestId("connect-wallet").click();
    const text = await banner(page);
    expect(text).to.match(/no wallet found: install a browser wallet such as MetaMask, or use the development account/);
    expect(text).to.not.match(RAW);
  });

  it("a rejected prompt: nothing was sent, and the page stays unconnected", async () => {
    const page = await open(suite.app.url, wallet(3, "reject"));
    await page.page.getByTestId("connect-wallet").click();
    const text = await banner(page);
    expect(text).to.match(/you rejected the request in your wallet; nothing was sent/);
    expect(text).to.not.match(RAW);
    expect(await page.page.getByTestId("wallet").count()).to.equal(0);
  });

  it("a wallet on another chain is asked to switch, then connects", async () => {
    const page = await open(suite.app.url, wallet(3, "wrong-chain"));
    await page.page.getByTestId("connect-wallet").click();
    await page.page.getByTestId("wallet").waitFor({ timeout: 30_000 });
    const log = (await page.page.evaluate(() => (window as unknown as { walletLog: string[] }).walletLog)) as string[];
    expect(log).to.include("wallet_switchEthereumChain");
  });

  it("no seeder at or below the maximum price: the seeder's price is named, nothing deposited", async () => {
    const page = await open(link);
    const address = await connectDev(page.page);
    const before = await suite.app.provider.getBalance(address);
    await startDownload(page.page, "0.00001", "1");
    const notes = await noteMatching(page, /not used/);
    expect(notes).to.match(/not used: .*price/i);
    expect(notes).to.not.match(RAW);
    expect(await suite.app.provider.getBalance(address), "nothing spent").to.equal(before);
  });

  it("too little ETH for the deposit and gas: says so; nothing is deposited", async () => {
    // anvil's account 4, left with 0.001 ETH: less than the 128 pieces x 0.0001 ETH deposit.
    const [, , , , poor] = (await suite.app.provider.send("eth_accounts", [])) as string[];
    await suite.app.provider.send("anvil_setBalance", [poor, toQuantity(parseEther("0.001"))]);
    const page = await open(link, wallet(4, "plain"));
    await page.page.getByTestId("connect-wallet").click();
    await page.page.getByTestId("wallet").waitFor({ timeout: 30_000 });
    await startDownload(page.page, "0.0001", "1");
    const notes = await noteMatching(page, /too little/);
    expect(notes).to.match(/your wallet has too little for the deposit plus gas/);
    expect(notes).to.not.match(RAW);
    expect(await suite.app.provider.getBalance(poor), "nothing deposited, no gas spent").to.equal(parseEther("0.001"));
    // Nor did it get a piece: a paid seeder serves nobody unpaid, and no downloader's page shares what it bought.
    expect((await downloadState(page.page)).have).to.equal(0);
  });

  it("a seeder that sends bad pieces is dropped unpaid; the honest seeder delivers every piece and is paid for each", async () => {
    const { provider, adjudicator } = suite.app;
    const start = await provider.getBlockNumber();
    const seederPage = suite.pages[0];
    const honest = String(await seederPage.page.getByTestId("wallet").locator("code").getAttribute("title"));
    const pieces = Number(await seederPage.page.getByTestId("stats").first().getAttribute("data-pieces"));
    // The same torrent from a Node seeder whose disk went bad: every block it sends is garbage.
    const client = await PiecepayClient.create({
      signer: anvilAccount(provider, 6),
      chainId: 31_337n,
      adjudicator: await adjudicator.getAddress(),
      voucherApp: suite.app.voucherApp,
      store: new MemoryChannelStore(),
      pollingIntervalMs: 200,
    });
    const bad = await seedOverWebRtc({
      client,
      files: { "errors.bin": fileBytes(2 * 1024 * 1024, "errors") },
      name: "errors.bin",
      pieceLength: (2 * 1024 * 1024) / pieces,
      pricePerPiece: parseEther("0.0001"),
      announce: suite.app.tracker,
    });
    expect(bad.torrent.magnetURI).to.include(link.match(/btih:([0-9a-f]{40})/)?.[1]);
    bad.torrent.on("wire", (wire: Wire) => {
      const piece = wire.piece.bind(wire);
      wire.piece = (index, offset, buffer) => piece(index, offset, new Uint8Array(buffer.length).fill(0xee));
    });
    // Only the two seeders are met: the pages of the tests above are closed.
    for (const other of suite.pages.splice(1)) await other.close();
    const throttle = (rate: number) => throttleUpload(seederPage, rate);
    // The honest page trickles (16 KiB/s, a piece a second) until the bad seeder has sent a bad piece, so that the
    // download cannot end before the bad seeder is met; then it sends at full speed.
    await throttle(16 * 1024);
    try {
      const page = await open(link);
      await connectDev(page.page);
      await startDownload(page.page, "0.0001", "1");
      const failed = await noteMatching(page, /failed verification/);
      await throttle(-1);
      await waitForDownload(page.page, "settled", 90_000);
      expect((await downloadState(page.page)).have).to.equal(pieces);
      const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
      const toHonest = events
        .filter((e) => e.args.destination === toDestination(honest))
        .reduce((sum, e) => sum + e.args.amount, 0n);
      expect(toHonest, "the honest page: price x every piece").to.equal(parseEther("0.0001") * BigInt(pieces));
      expect(failed, "the bad seeder's piece failed, unpaid, and it was dropped").to.match(
        /failed verification: not paid, (peer dropped|banned)/,
      );
      expect(failed).to.not.match(RAW);
    } finally {
      await bad.close();
    }
  });

  it("the faucet sends nothing for a malformed request, and nothing to a key that holds enough", async () => {
    const faucet = (body: string) =>
      fetch(new URL("faucet", suite.app.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    expect((await faucet("{}")).status).to.equal(400);
    expect((await faucet('{"address":"0x1234"}')).status).to.equal(400);
    expect((await faucet("not json")).status).to.equal(400);
    const [rich] = (await suite.app.provider.send("eth_accounts", [])) as string[];
    const before = await suite.app.provider.getBalance(rich);
    const answer = await faucet(JSON.stringify({ address: rich }));
    expect(await answer.json()).to.deep.include({ sent: "0" });
    expect(await suite.app.provider.getBalance(rich)).to.equal(before);
  });

  it("a seeding page that opens its own link and clicks Download: nothing starts, no error, still seeding", async () => {
    const seeder = suite.pages[0];
    await seeder.page.evaluate((url) => {
      location.hash = new URL(url).hash;
    }, link);
    await startDownload(seeder.page, "0.0001", "1");
    await seeder.page.waitForTimeout(500);
    expect(await seeder.page.getByTestId("error").count(), "no error banner").to.equal(0);
    expect(
      seeder.console.filter((line) => line.startsWith("pageerror")),
      "no page error",
    ).to.deep.equal([]);
    expect(await seeder.page.locator('[data-testid="transfer"][data-kind="download"]').count()).to.equal(0);
    await seeder.page.getByTestId("tab-seed").click();
    expect(await seeder.page.locator('[data-testid="transfer"][data-kind="seed"]').count()).to.equal(1);
  });

  it("the chain cut mid-download: the page says so and goes on; once it is back the close goes through once, and the seeder is paid price x pieces", async () => {
    const { provider, adjudicator, rpcProxy } = suite.app;
    const seederPage = suite.pages[0];
    const honest = String(await seederPage.page.getByTestId("wallet").locator("code").getAttribute("title"));
    const throttle = (rate: number) => throttleUpload(seederPage, rate);
    await throttle(128 * 1024);
    const page = await open(link);
    const leecher = await connectDev(page.page);
    const start = await provider.getBlockNumber();
    const before = await provider.getBalance(leecher);
    const nonces = await Promise.all([leecher, honest].map((a) => provider.getTransactionCount(a)));
    try {
      await startDownload(page.page, "0.0001", "1");
      // A quarter of the pieces, paid for: the deposit is on chain (the seeder serves nothing before it sees it), so
      // the cut falls mid-download. Until the metadata arrives the card holds 0 of 0 pieces (and before it renders,
      // nothing), which is no quarter: counted as one, the cut came before the deposit on a slow machine, and the
      // download waited for the chain until the wait for its last piece timed out.
      await page.page.waitForFunction(
        () => {
          const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
          const pieces = Number(stats?.getAttribute("data-pieces"));
          return pieces > 0 && Number(stats?.getAttribute("data-have")) >= pieces / 4;
        },
        undefined,
        { timeout: 60_000, polling: 100 },
      );
      expect(await provider.getTransactionCount(leecher), "the deposit mined before the cut").to.equal(nonces[0] + 1);
      // Every connection to the chain is reset, from the page's server on, until the rest of the download has arrived
      // and its close has been tried for a few seconds inside the cut.
      const cut = rpcProxy.cut(120_000, "reset");
      const outage = page.page.getByTestId("rpc-outage");
      await outage.waitFor({ timeout: 10_000 });
      expect(await outage.textContent()).to.match(/the chain does not answer \(.+\) for \d+ s: trying again/);
      await throttle(-1);
      await page.page.waitForFunction(
        () => {
          const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
          return Number(stats?.getAttribute("data-have")) === Number(stats?.getAttribute("data-pieces"));
        },
        undefined,
        { timeout: 60_000, polling: 100 },
      );
      expect(rpcProxy.cutting, "every piece arrived during the cut").to.equal(true);
      await page.page.waitForFunction(
        () =>
          document.querySelector('[data-testid="transfer"][data-kind="download"]')?.getAttribute("data-state") ===
          "settling",
        undefined,
        { timeout: 30_000, polling: 100 },
      );
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // the close, tried and retried inside the cut
      expect(await outage.isVisible(), "still saying so while the close waits").to.equal(true);
      rpcProxy.heal();
      await cut;
      await waitForDownload(page.page, "settled", 90_000);
      await outage.waitFor({ state: "detached", timeout: 30_000 });
    } finally {
      await throttle(-1);
    }
    // The chain: the seeder got price x pieces; the leecher's page sent one transaction (the deposit) and the
    // seeder's one (the close, sent during the cut and retried until the chain answered); the leecher paid what the
    // seeder got plus its deposit's gas.
    const { pieces } = await downloadState(page.page);
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const toHonest = events
      .filter((e) => e.args.destination === toDestination(honest))
      .reduce((sum, e) => sum + e.args.amount, 0n);
    expect(toHonest).to.equal(parseEther("0.0001") * BigInt(pieces));
    expect(await Promise.all([leecher, honest].map((a) => provider.getTransactionCount(a)))).to.deep.equal([
      nonces[0] + 1,
      nonces[1] + 1,
    ]);
    const [gas] = await gasSpentSince(provider, [leecher], start);
    expect((await provider.getBalance(leecher)) - before).to.equal(-toHonest - gas);
  });

  it("the chain unreachable: says so", async () => {
    await suite.app.node.stop();
    const page = await open(link);
    await page.page.getByTestId("connect-dev").click();
    const text = await banner(page);
    expect(text).to.match(/does not answer/);
    expect(text).to.not.match(RAW);
  });
});
