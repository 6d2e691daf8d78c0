// The universal SDK entry point (sdk/index.ts) bundled for the browser with esbuild, as a web app's bundler would:
// its size minified and gzipped, and what of Node or Hardhat its import graph reaches (nothing, if the entry point is
// truly universal). For test/ts/browser/bundle.test.ts, which holds it to its budget, and scripts/bench-sdk.ts,
// which prints the figures.
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NODE_BUILTINS = new Set(builtinModules);

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

/** Records, and leaves out, every import of a Node built-in or of Hardhat instead of failing on the first. */
function forbiddenImports(found: Forbidden[]): Plugin {
  return {
    name: "forbidden-imports",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, "").split("/")[0];
        const node = args.path.startsWith("node:") || NODE_BUILTINS.has(bare);
        if (!node && !HARDHAT.test(args.path)) return undefined;
        found.push({ path: args.path, importer: args.importer.replace(ROOT, "") });
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Bundles `entry` (default sdk/index.ts), or the module `source` (as an app's own file at the repository's root
 * would, e.g. `export * from "piecepay/sdk"`), for the browser, minified; with `externalEthers`, ethers is left out
 * (an app that already uses ethers pays only for the SDK). Rejects when something cannot be resolved.
 * @example const { gzipBytes, forbidden } = await bundleSdk({ externalEthers: true })
 */
export async function bundleSdk(
  options: { entry?: string; source?: string; externalEthers?: boolean } = {},
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
    plugins: [forbiddenImports(forbidden)],
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
