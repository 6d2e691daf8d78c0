// Builds the web app (client/web/app/) into client/web/dist/ (not committed; here at the root, as a build tool's
// config, because client/web/ holds only what runs in a page): `npm run build:web`, which `npm test`
// runs, and which `piecepay web` runs when the build is missing or older than the app's sources. webtorrent's
// browser build needs from a bundler what its own webpack build sets (docs/adr/0015-the-paid-session-in-a-browser.md):
// `events` and `path` modules (our shims), the free identifiers `process` (webtorrent's own polyfill) and `global`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const WEB_ROOT = here("./client/web/app");
export const WEB_DIST = here("./client/web/dist");

/**
 * webtorrent's service worker (dist/sw.min.js) at the app's root, where its scope covers the page and the stream
 * URLs (client/web/streaming.ts, docs/adr/0017-streaming-in-the-page.md).
 */
function streamingWorker(): Plugin {
  const file = createRequire(import.meta.url).resolve("webtorrent/dist/sw.min.js");
  return {
    name: "webtorrent-service-worker",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "sw.min.js", source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  plugins: [streamingWorker()],
  root: WEB_ROOT,
  base: "./",
  logLevel: "warn",
  publicDir: false,
  resolve: {
    alias: [
      { find: /^(node:)?events$/, replacement: here("./client/web/shims/events.ts") },
      { find: /^(node:)?path$/, replacement: here("./client/web/shims/path.ts") },
    ],
  },
  define: { global: "globalThis" },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: WEB_DIST,
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // webtorrent's process polyfill has no hrtime; limiter and speed-limiter check for it and fall back to Date.
      onwarn(warning, warn) {
        if (warning.code === "IMPORT_IS_UNDEFINED" && warning.message.includes("process-fast")) return;
        warn(warning);
      },
      transform: { inject: { process: [here("./client/web/shims/process.ts"), "process"] } },
    },
  },
});
