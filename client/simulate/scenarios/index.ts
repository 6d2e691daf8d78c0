// Every scenario, in the order `piecepay simulate all` runs them.
import type { Scenario } from "../scenario.js";
import { leecherVanishes } from "./01-leecher-vanishes.js";
import { staleChallenge } from "./02-stale-challenge.js";
import { seederVanishes } from "./03-seeder-vanishes.js";
import { seederRestart } from "./04-seeder-restart.js";
import { cooperativeClose } from "./05-cooperative-close.js";
import { griefing } from "./06-griefing.js";
import { watcherOffline } from "./07-watcher-offline.js";
import { foreignSignatures } from "./08-foreign-signatures.js";
import { swarm } from "./09-swarm.js";
import { hubVanishes } from "./10-hub-vanishes.js";
import { hubStaleLedger } from "./11-hub-stale-ledger.js";
import { hubRefusesClose } from "./12-hub-refuses-close.js";
import { hubLeecherVanishes } from "./13-hub-leecher-vanishes.js";
import { hubSeederVanishes } from "./14-hub-seeder-vanishes.js";
import { hubRestartsMidOpen } from "./15-hub-restarts-mid-open.js";
import { hubCrowd } from "./16-hub-crowd.js";

export const SCENARIOS: Scenario[] = [
  leecherVanishes,
  staleChallenge,
  seederVanishes,
  seederRestart,
  cooperativeClose,
  griefing,
  watcherOffline,
  foreignSignatures,
  swarm,
  hubVanishes,
  hubStaleLedger,
  hubRefusesClose,
  hubLeecherVanishes,
  hubSeederVanishes,
  hubRestartsMidOpen,
  hubCrowd,
];
