// What a scenario is: one story told on a chain through a `ScenarioContext` (context.ts), which yields its report
// (types.ts). See client/README.md, "Simulations".
import type { ScenarioContext } from "./context.js";

/** One story told on a real chain with the real contracts, the real SDK and real signatures. */
export interface Scenario {
  /** "1" to "16": what `piecepay simulate <id>` selects. */
  id: string;
  /** A short name, also accepted on the command line (e.g. "cooperative-close"). */
  name: string;
  title: string;
  /** Whether it moves real torrent traffic between webtorrent peers. */
  torrent?: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}
