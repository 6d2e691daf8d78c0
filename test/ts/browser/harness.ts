// Runs code in a real headless Chromium (Debian's `chromium`, driven by playwright-core; no browser download):
// a page served from 127.0.0.1 with one script bundled by esbuild for the browser, and an injected EIP-1193
// provider (`window.ethereum`) that forwards to a local node's unlocked development accounts, which is what a real
// injected wallet looks like to a page. The page reaches the node through this server (`/rpc`), as a wallet
// extension would reach its own RPC.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { WEBTORRENT_SHIMS, webtorrentShims } from "../helpers/browser-bundle.js";

/** Where Chromium is: PIECEPAY_CHROMIUM, else Debian's /usr/bin/chromium; a clear error says how to install it. */
export function chromiumPath(): string {
  const candidates = [process.env.PIECEPAY_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p) => p !== undefined && p !== "" && existsSync(p));
  if (found === undefined) {
    throw new Error(
      "no Chromium found: install Debian's package (sudo apt-get install chromium; .ci/run does it) or set PIECEPAY_CHROMIUM",
    );
  }
  return found;
}

/**
 * `entry` and everything it imports, as one ES module for the browser; fails on anything only Node has. With
 * `webtorrent`, the shims webtorrent's browser build needs are in (WEBTORRENT_SHIMS in helpers/browser-bundle.ts).
 */
export async function bundleForBrowser(
  entry: string,
  plugins: Plugin[] = [],
  options: { webtorrent?: boolean } = {},
): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    ...(options.webtorrent ? { inject: WEBTORRENT_SHIMS.inject, define: WEBTORRENT_SHIMS.define } : {}),
    plugins: options.webtorrent ? [webtorrentShims(), ...plugins] : plugins,
  });
  return result.outputFiles[0].text;
}

/** The script the page runs before the bundle: an EIP-1193 provider over `/rpc`. */
const INJECTED_WALLET = `
window.ethereum = {
  isPiecepayTestWallet: true,
  _listeners: {},
  async request({ method, params }) {
    if (method === "eth_requestAccounts") method = "eth_accounts";
    const response = await fetch("/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params: params ?? [] }),
    });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
    return body.result;
  },
  on(event, listener) { (this._listeners[event] ??= []).push(listener); return this; },
  removeListener(event, listener) {
    this._listeners[event] = (this._listeners[event] ?? []).filter((l) => l !== listener); return this;
  },
};
`;

export interface TestPage {
  page: Page;
  url: string;
  /** Everything the page logged, for failure messages. */
  console: string[];
  /** Loads the page again (same origin, so IndexedDB survives). */
  reload(): Promise<void>;
  /** A second tab on the same page and origin (so the same IndexedDB), as a user opening the app twice. */
  openTab(): Promise<Page>;
  close(): Promise<void>;
}

/** A file the page's server also serves, at its path (e.g. a service worker at `/sw.min.js`, whose scope is `/`). */
export interface StaticFile {
  body: string | Uint8Array;
  type: string;
}

/**
 * A server for one page: `/` (the wallet, then `bundle` as a module), `/rpc` (forwarded to `nodeUrl`), and each of
 * `files` at its path.
 */
async function servePage(
  bundle: string,
  nodeUrl: string,
  files: Record<string, StaticFile> = {},
): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><meta charset="utf-8"><title>piecepay test page</title>
<script>${INJECTED_WALLET}</script><script type="module" src="/bundle.js"></script>`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "POST" && req.url === "/rpc") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        try {
          const upstream = await fetch(nodeUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: Buffer.concat(chunks),
          });
          res.writeHead(upstream.status, { "content-type": "application/json" });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        } catch (error) {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end(String(error));
        }
      });
      return;
    }
    if (req.url === "/bundle.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(bundle);
      return;
    }
    const file = req.url === undefined ? undefined : files[new URL(req.url, "http://page").pathname];
    if (file !== undefined) {
      res.writeHead(200, { "content-type": file.type });
      res.end(file.body);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

let browser: Browser | undefined;

/** How every Chromium of the harness starts. */
function launchOptions() {
  return {
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox. WebRTC with a Node peer needs no flag:
    // the page's host candidates are mDNS names that node-datachannel cannot resolve, but the Node peer's are
    // addresses, which Chromium checks (webrtc-session.test.ts passes without --disable-features=
    // WebRtcHideLocalIpsWithMdns).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  };
}

/** One Chromium for the whole run (about a second to start), closed by `closeBrowser`. */
async function sharedBrowser(): Promise<Browser> {
  browser ??= await chromium.launch(launchOptions());
  return browser;
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}

/**
 * Opens a fresh browser context (its own IndexedDB) on a page that runs `bundle` with the wallet injected; the
 * page's server also serves `files` (see StaticFile).
 */
export async function openPage(
  bundle: string,
  nodeUrl: string,
  files: Record<string, StaticFile> = {},
): Promise<TestPage> {
  const { server, url } = await servePage(bundle, nodeUrl, files);
  const opened = await openUrl(url);
  return {
    ...opened,
    async close() {
      await opened.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Opens `url` (e.g. the web app that `piecepay web` serves) in a fresh browser context (its own IndexedDB and
 * localStorage). With `injectWallet`, the page gets `window.ethereum` over its server's own /rpc, as in openPage;
 * `initScript` runs before the page's own scripts (e.g. a wallet that behaves otherwise). A context of the shared
 * Chromium is off the record, like a private window, and keeps the origin's private file system (OPFS) in the
 * browser process's memory; with `onDiskProfile`, the page gets a Chromium of its own on a new profile directory, as
 * a person's browser is, where OPFS is on disk (closing the page ends that Chromium and removes the directory).
 */
export async function openUrl(
  url: string,
  options: { injectWallet?: boolean; initScript?: string; onDiskProfile?: boolean } = {},
): Promise<TestPage> {
  const profile = options.onDiskProfile ? mkdtempSync(join(tmpdir(), "piecepay-chromium-")) : undefined;
  const context =
    profile === undefined
      ? await (await sharedBrowser()).newContext()
      : await chromium.launchPersistentContext(profile, launchOptions());
  if (options.injectWallet) await context.addInitScript(INJECTED_WALLET);
  if (options.initScript !== undefined) await context.addInitScript(options.initScript);
  // A Chromium of its own opens with a blank page: that one.
  const page = context.pages()[0] ?? (await context.newPage());
  const console: string[] = [];
  page.on("console", (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return {
    page,
    url,
    console,
    async reload() {
      await page.reload();
    },
    async openTab() {
      const tab = await context.newPage();
      tab.on("pageerror", (e) => console.push(`pageerror (tab): ${e.message}`));
      await tab.goto(url);
      return tab;
    },
    async close() {
      await context.close();
      if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
    },
  };
}
