#!/usr/bin/env node
// The `piecepay` executable (package.json "bin"): runs client/cli/main.ts through tsx's loader in this very process,
// so that Ctrl-C reaches the command itself and no wrapper process is left behind. The contracts are compiled first
// when they have never been, or changed since (main.ts imports the SDK, which imports typechain-types/).
import { register } from "tsx/esm/api";
import { ensureBuilt } from "./ensure-built.mjs";

ensureBuilt();
register();
await import("./main.ts");
