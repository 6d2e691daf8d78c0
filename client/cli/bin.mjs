#!/usr/bin/env node
// The `piecepay` executable (package.json "bin"): runs client/cli/main.ts through tsx's loader in this very process,
// so that Ctrl-C reaches the command itself and no wrapper process is left behind. The contracts are compiled first
// when they have never been, or changed since (main.ts imports the SDK, which imports typechain-types/).
import { register } from "tsx/esm/api";
import { ensureBuilt } from "./ensure-built.mjs";

ensureBuilt();
register();
try {
  await import("./main.ts");
} catch (error) {
  // webtorrent's tracker client imports WebRTC for Node as it loads (simple-peer -> webrtc-polyfill ->
  // node-datachannel, a native addon), so an addon without a binary for this platform stops every command here.
  if (!/node[-_]datachannel/.test(String(error?.stack ?? error))) throw error;
  const reason = String(error?.message ?? error).split("\n")[0];
  process.stderr.write(
    `error: node-datachannel (the native WebRTC addon that webtorrent loads) did not load: ${reason}\n` +
      "hint: reinstall it on a platform it ships binaries for (`npm rebuild node-datachannel`)\n",
  );
  process.exit(1);
}
