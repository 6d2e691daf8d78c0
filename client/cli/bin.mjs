#!/usr/bin/env node
// The `piecepay` executable (package.json "bin"): runs client/cli/main.ts through tsx's loader in this very process,
// so that Ctrl-C reaches the command itself and no wrapper process is left behind.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
