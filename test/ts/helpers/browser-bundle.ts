// The universal SDK entry point (sdk/index.ts), or a page's entry that also takes webtorrent (client/web/session.ts),
// bundled for the browser with esbuild, as a web app's bundler would: its size minified and gzipped, and what of Node
// or Hardhat its import graph reaches (nothing, if the entry point is truly universal). For
// test/ts/browser/bundle.test.ts and session-bundle.test.ts, which hold them to it, scripts/bench-sdk.ts, which prints
// the figures, and the browser tests' page bundles (harness.ts).
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NODE_BUILTINS = new Set(builtinModules);

/**
 * What webtorrent 3's browser build needs from a bundler beyond `platform: "browser"` (which follows each package's
 * "browser" field: webtorrent's maps its Node-only modules to nothing and fs-chunk-store to fsa-chunk-store). These
 * are what webtorrent's own webpack build (scripts/browser.webpack.js) sets, found by bundling client/web/session.ts
 * and running it in Chromium; a web app's build sets the same (docs/adr/0015-the-paid-session-in-a-browser.md):
 * - `events` (webtorrent, bittorrent-tracker, torrent-discovery, lru, and streamx through events-universal import
 *   it): client/web/shims/events.ts, bare-events (already in the tree through streamx) made callable as
 *   `EventEmitter.call(this)` as lru needs. webtorrent's build takes the npm `events` package, not in our tree.
 * - `path` (webtorrent, parse-torrent, create-torrent): client/web/shims/path.ts (webtorrent's build: path-esm).
 * - the free identifier `process` (`process.browser`, `process.nextTick`): webtorrent's own polyfill, injected
 *   through client/web/shims/process.ts.
 * - the free identifier `global` (webtorrent reads `global.WEBTORRENT_ANNOUNCE`): `globalThis`.
 */
export const WEBTORRENT_SHIMS = {
  modules: {
    events: `${ROOT}client/web/shims/events.ts`,
    path: `${ROOT}client/web/shims/path.ts`,
  } as Record<string, string>,
  inject: [`${ROOT}client/web/shims/process.ts`],
  define: { global: "globalThis" },
};

/** Resolves the modules of WEBTORRENT_SHIMS (`events`, `path`, with or without `node:`) to their shims. */
export function webtorrentShims(): Plugin {
  return {
    name: "webtorrent-shims",
    setup(b) {
      b.onResolve({ filter: /^(node:)?(events|path)$/ }, (args) => ({
        path: WEBTORRENT_SHIMS.modules[args.path.replace(/^node:/, "")],
      }));
    },
  };
}

/** A module the browser does not have, and who imported it. */
export interface Forbidden {
  path: string;
  importer: string;
}

export interface SdkBundle {
  /** Bytes of the minified bundle, and of it gzipped (level 9). */
  bytes: number;
  gzipBytes: number;
  /** `node:*` and bare Node built-ins ("fs"), and Hardhat packages, that the graph imports (statically or not). */
  forbidden: Forbidden[];
  /** Every file of the graph, relative to the repository (node_modules/... for packages). */
  inputs: string[];
  /** The inputs' bytes in the bundle, largest first. */
  largest: { path: string; bytes: number }[];
}

const HARDHAT = /^(hardhat|@nomicfoundation\/)/;

const RESOLVING = Symbol("resolving");
const DISABLED = "disabled-by-browser-field";

/**
 * Records, and leaves out, every import of a Node built-in or of Hardhat instead of failing on the first. A bare
 * built-in name that the importing package's "browser" field maps is not Node's: that package's browser build
 * takes something else (a module of its own) or nothing at all (webtorrent's `"fs": false`, an empty module, as
 * esbuild and webpack make it).
 */
function forbiddenImports(found: Forbidden[]): Plugin {
  return {
    name: "forbidden-imports",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === RESOLVING) return undefined;
        const bare = args.path.replace(/^node:/, "").split("/")[0];
        const prefixed = args.path.startsWith("node:");
        if (!prefixed && !NODE_BUILTINS.has(bare) && !HARDHAT.test(args.path)) return undefined;
        if (!prefixed && NODE_BUILTINS.has(bare)) {
          const { importer, resolveDir, kind } = args;
          const mapped = await b.resolve(args.path, { importer, resolveDir, kind, pluginData: RESOLVING });
          // esbuild answers a module mapped to `false` with an empty namespace, one mapped to a file with its path.
          if (mapped.errors.length === 0 && mapped.namespace === "") return { path: args.path, namespace: DISABLED };
          if (mapped.errors.length === 0 && mapped.namespace === "file") return mapped;
        }
        found.push({ path: args.path, importer: args.importer.replace(ROOT, "") });
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: DISABLED }, () => ({ contents: "module.exports = {};", loader: "js" }));
    },
  };
}

/**
 * Bundles `entry` (default sdk/index.ts), or the module `source` (as an app's own file at the repository's root
 * would, e.g. `export * from "piecepay/sdk"`), for the browser, minified; with `externalEthers`, ethers is left out
 * (an app that already uses ethers pays only for the SDK); with `webtorrent`, the shims webtorrent's browser build
 * needs are in (WEBTORRENT_SHIMS). Rejects when something cannot be resolved.
 * @example const { gzipBytes, forbidden } = await bundleSdk({ externalEthers: true })
 */
export async function bundleSdk(
  options: { entry?: string; source?: string; externalEthers?: boolean; webtorrent?: boolean } = {},
): Promise<SdkBundle> {
  const forbidden: Forbidden[] = [];
  const result = await build({
    absWorkingDir: ROOT,
    ...(options.source === undefined
      ? { entryPoints: [options.entry ?? "sdk/index.ts"] }
      : { stdin: { contents: options.source, resolveDir: ROOT, sourcefile: "app.ts", loader: "ts" } }),
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
    external: options.externalEthers ? ["ethers"] : [],
    ...(options.webtorrent ? { inject: WEBTORRENT_SHIMS.inject, define: WEBTORRENT_SHIMS.define } : {}),
    plugins: [...(options.webtorrent ? [webtorrentShims()] : []), forbiddenImports(forbidden)],
  });
  const code = result.outputFiles[0].contents;
  const metafile = result.metafile as Metafile;
  const output = Object.values(metafile.outputs)[0];
  return {
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    forbidden,
    inputs: Object.keys(metafile.inputs),
    largest: Object.entries(output.inputs)
      .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}
