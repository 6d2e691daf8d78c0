// The web app as its tests use it: anvil mining a block a second (as a testnet does), the contracts deployed, the
// app served by `piecepay web` (page, tracker, /rpc, faucet; it builds the app with Vite when needed); and what a person does in
// the page, by clicking: connect the development account, seed a file, open a link and download.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import type { Page } from "playwright-core";
import { toDestination } from "../../../sdk/node.js";
import { type Adjudicator, type SixDecimalToken, SixDecimalToken__factory } from "../../../typechain-types/index.js";
import { type Running, startCli } from "../client/cli-process.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { anvilAccount, deployForPages } from "./anvil-contracts.js";
import { closeBrowser, openUrl, type TestPage } from "./harness.js";

const CHAIN_ID = 31_337n;

export interface WebApp {
  node: LocalNode;
  provider: JsonRpcProvider;
  adjudicator: Adjudicator;
  voucherApp: string;
  /** The test token, when asked for. */
  token?: SixDecimalToken;
  /** The page's URL and the tracker's, as `piecepay web --json` printed them. */
  url: string;
  tracker: string;
  /** A data dir holding the deployment record, for other CLI commands on this chain. */
  dataDir: string;
  web: Running;
  /** Between `piecepay web` (the pages' /rpc and the faucet) and anvil: a test cuts the pages' chain with it. */
  rpcProxy: TcpProxy;
  close(): Promise<void>;
}

/**
 * anvil (`--block-time 1`) behind a TCP proxy, the contracts, and `piecepay web` on a free port (it builds the app when needed); with
 * `token`, a 6-decimal test token (USD6) is deployed too and offered by the page (`--token`).
 */
export async function startWebApp(options: { token?: boolean } = {}): Promise<WebApp> {
  const node = await startAnvil(["--block-time", "1"]);
  const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 });
  const { adjudicator, settings } = await deployForPages(provider, CHAIN_ID);
  const token = options.token
    ? await (await new SixDecimalToken__factory(anvilAccount(provider, 9)).deploy()).waitForDeployment()
    : undefined;
  const tokenArgs = token === undefined ? [] : ["--token", await token.getAddress()];
  const dataDir = mkdtempSync(path.join(tmpdir(), "piecepay-web-"));
  mkdirSync(path.join(dataDir, "deployments"));
  writeFileSync(
    path.join(dataDir, "deployments", `${CHAIN_ID}.json`),
    JSON.stringify({
      chainId: Number(CHAIN_ID),
      contracts: {
        Adjudicator: { address: settings.adjudicator },
        VoucherPaymentApp: { address: settings.voucherApp },
      },
    }),
  );
  const rpcProxy = await TcpProxy.start(node.url);
  const web = await startCli(
    ["web", "--port", "0", "--rpc", rpcProxy.url, "--data-dir", dataDir, ...tokenArgs],
    120_000,
  );
  return {
    node,
    provider,
    adjudicator,
    voucherApp: settings.voucherApp,
    ...(token === undefined ? {} : { token }),
    url: String(web.ready.url),
    tracker: String(web.ready.tracker),
    dataDir,
    web,
    rpcProxy,
    close: async () => {
      web.child.kill("SIGINT");
      await web.exited;
      await rpcProxy.stop();
      provider.destroy();
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Connects the page's development account; resolves with its address. */
export async function connectDev(page: Page): Promise<string> {
  await page.getByTestId("connect-dev").click();
  const wallet = page.getByTestId("wallet");
  await wallet.waitFor({ timeout: 30_000 });
  const address = await wallet.locator("code").getAttribute("title");
  expect(address).to.match(/^0x[0-9a-fA-F]{40}$/);
  return address as string;
}

/** Seeds one file at `price` (in ETH, as typed); resolves with the share link. */
export async function seedFile(
  page: Page,
  file: { name: string; bytes: Uint8Array },
  price: string,
  asset?: string,
): Promise<string> {
  await page.getByTestId("tab-seed").click();
  if (asset !== undefined) await page.getByTestId("asset").selectOption(asset);
  await page.getByTestId("seed-files").setInputFiles({
    name: file.name,
    mimeType: "application/octet-stream",
    buffer: Buffer.from(file.bytes),
  });
  await page.getByTestId("seed-price").fill(price);
  await page.getByTestId("seed-start").click();
  const link = page.getByTestId("share-link");
  await link.waitFor({ timeout: 60_000 });
  return link.inputValue();
}

/** Starts the download of the page's link (its magnet is already in the form) at most `maxPrice` within `budget`. */
export async function startDownload(page: Page, maxPrice: string, budget: string, asset?: string): Promise<void> {
  await page.getByTestId("tab-download").click();
  if (asset !== undefined) await page.getByTestId("asset").selectOption(asset);
  await page.getByTestId("max-price").fill(maxPrice);
  await page.getByTestId("budget").fill(budget);
  await page.getByTestId("download-start").click();
}

/** The download's card: its state and the pieces held, as the page shows them. */
export async function downloadState(page: Page): Promise<{ state: string; have: number; pieces: number }> {
  const card = page.locator('[data-testid="transfer"][data-kind="download"]').first();
  const stats = card.getByTestId("stats");
  return {
    state: (await card.getAttribute("data-state")) ?? "",
    have: Number(await stats.getAttribute("data-have")),
    pieces: Number(await stats.getAttribute("data-pieces")),
  };
}

/** Waits until the page's download reaches `state` ("settled": every channel closed). */
export async function waitForDownload(page: Page, state: string, timeoutMs = 90_000): Promise<void> {
  await page
    .locator(`[data-testid="transfer"][data-kind="download"][data-state="${state}"]`)
    .waitFor({ timeout: timeoutMs });
}

/** The enclosing `describe`'s app and pages: `app` once started, `open(url)` a page closed after the suite. */
export interface WebAppSuite {
  readonly app: WebApp;
  open(url: string, options?: { initScript?: string }): Promise<TestPage>;
  readonly pages: TestPage[];
}

/**
 * Starts the web app before the enclosing `describe` and stops it, its pages and Chromium after; a failed test
 * prints what each page showed and logged.
 */
export function useWebApp(options: { token?: boolean } = {}): WebAppSuite {
  let app: WebApp | undefined;
  const pages: TestPage[] = [];
  before(async () => {
    app = await startWebApp(options);
  });
  after(async () => {
    for (const page of pages.splice(0)) await page.close();
    await closeBrowser();
    await app?.close();
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") await printPages(pages);
  });
  return {
    get app() {
      return app ?? expect.fail("the web app did not start");
    },
    pages,
    async open(url, openOptions = {}) {
      const page = await openUrl(url, openOptions);
      pages.push(page);
      return page;
    },
  };
}

/** What each page showed and logged, for the failure's reader. */
async function printPages(pages: TestPage[]): Promise<void> {
  for (const page of pages) {
    const body = page.page.locator("body");
    // biome-ignore lint/performance/useDomNodeTextContent: the page as a person reads it, one line per block
    const text = await body.innerText({ timeout: 2000 }).catch(() => "(closed)");
    console.log(`--- ${page.url}\n${text}\n${page.console.join("\n")}`);
  }
}

/** What `PaidOut` events (read from the chain) paid `address`, summed. */
export function paidOutTo(events: { args: { destination: string; amount: bigint } }[], address: string): bigint {
  return events
    .filter((e) => e.args.destination === toDestination(address))
    .reduce((sum, e) => sum + e.args.amount, 0n);
}
