// What a web page imports for the paid session (client/web/session.ts) loads in a browser: bundled by esbuild for
// `platform: "browser"`, with webtorrent's browser build (its package.json "browser" field) and the shims that build
// needs (WEBTORRENT_SHIMS in helpers/browser-bundle.ts), its import graph holds no Node built-in and nothing of
// Hardhat. The check is shown to catch what it looks for: without the shims, webtorrent's `events` and `path` are
// Node's. test/ts/browser/webrtc-session.test.ts runs such a bundle in Chromium.
import { expect } from "chai";
import { bundleSdk } from "../helpers/browser-bundle.js";

const ENTRY = "client/web/session.ts";

/** A bundle input or importer as `node_modules/<package>/...` wherever node_modules is (it may be a symlink). */
const packaged = (path: string) => path.replace(/^(\(disabled\):)?.*?(?=node_modules\/)/, "$1");

describe("the browser bundle of client/web/session.ts (the paid session, webtorrent included)", function () {
  this.timeout(60_000);

  it("reaches no Node built-in: the sessions, the wire, webtorrent's browser build and the SDK", async function () {
    const bundle = await bundleSdk({ entry: ENTRY, webtorrent: true });
    expect(bundle.forbidden, "Node or Hardhat imports").to.deep.equal([]);
    const inputs = bundle.inputs.map(packaged);
    expect(inputs).to.include.members([
      "client/session/seeder.ts",
      "client/session/leecher.ts",
      "client/session/emitter.ts",
      "client/wire/guard.ts",
      "sdk/index.ts",
      "node_modules/webtorrent/index.js",
      "node_modules/bare-events/index.js",
      "client/web/shims/events.ts",
      "client/web/shims/path.ts",
      "client/web/shims/process.ts",
      // webtorrent's "browser" field: pieces in the browser's file system, WebRTC from the browser itself
      "node_modules/fsa-chunk-store/index.js",
      "node_modules/webrtc-polyfill/browser.js",
    ]);
    // ... and no TCP or uTP connection pool (empty modules in their place), no native WebRTC.
    expect(inputs).to.include.members([
      "(disabled):node_modules/webtorrent/lib/conn-pool.js",
      "(disabled):node_modules/webtorrent/lib/utp.cjs",
    ]);
    const loaded = inputs.filter((path) => !path.startsWith("(disabled):"));
    expect(loaded.filter((path) => /node-datachannel|conn-pool|utp/.test(path))).to.deep.equal([]);
  });

  it("catches what it looks for: without the shims, webtorrent's events and path are Node's", async function () {
    const bundle = await bundleSdk({ entry: ENTRY });
    const byImporter = bundle.forbidden.map((f) => `${f.path} <- ${packaged(f.importer)}`);
    expect(byImporter).to.include.members([
      "events <- node_modules/webtorrent/index.js",
      "path <- node_modules/webtorrent/index.js",
    ]);
  });
});
