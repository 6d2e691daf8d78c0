// The subcommands of `piecepay`, in the order `piecepay --help` lists them.
//
// Each is a `Command` (../command.ts) in its own file in this directory: a new one is imported and added to
// COMMANDS below. Its `run` gets the global options; `connectClient(globals)` in ../context.ts gives a PiecepayClient
// on --rpc with the deployment's addresses and the store in the data dir, and `out.progress(label)` in ../output.ts
// draws a progress line.
import type { Command } from "../command.js";
import { chain } from "./chain.js";
import { channels } from "./channels.js";
import { demo } from "./demo.js";
import { fund } from "./fund.js";
import { get } from "./get.js";
import { hub } from "./hub.js";
import { keygen } from "./keygen.js";
import { seed } from "./seed.js";
import { simulate } from "./simulate.js";
import { tracker } from "./tracker.js";
import { web } from "./web.js";
import { withdraw } from "./withdraw.js";

export const COMMANDS: Command[] = [
  // -- the paid torrent client --
  seed,
  get,
  web,
  demo,
  simulate,
  // -- local infrastructure --
  chain,
  fund,
  tracker,
  hub,
  // -- channels and accounts --
  channels,
  withdraw,
  keygen,
];
