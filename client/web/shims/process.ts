// The `process` global that webtorrent's browser build and its dependencies read (`process.browser`,
// `process.nextTick`, `process.env`): webtorrent's own polyfill (polyfills/process-fast.js, what its webpack build
// provides), under the name a bundler injects for the free identifier `process` (esbuild's `inject`). Only modules
// that name `process` get it; a page's own code is not changed. See docs/adr/0015-the-paid-session-in-a-browser.md.
import * as processFast from "webtorrent/polyfills/process-fast.js";

export { processFast as process };
