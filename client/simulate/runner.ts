// Runs scenarios one after another on one chain, each with fresh accounts, and gathers their reports. A scenario
// that throws is reported as failed (with what it got to), and the others still run.
import {
  type ScenarioContext as Context,
  MIN_CHALLENGE_DURATION,
  ScenarioContext,
  type SimulationChain,
} from "./context.js";
import type { Scenario } from "./scenario.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { ScenarioReport, SimulationReport } from "./types.js";

export interface RunOptions {
  /** The channels' challenge duration in seconds (default: an hour where time moves, else the minimum). */
  challengeDuration?: bigint;
  /** Receives progress lines (for stderr). */
  note?: (text: string) => void;
}

/**
 * The scenarios named by `selectors`: ids ("5"), names ("cooperative-close") or "all".
 * @throws Error naming the unknown selector
 */
export function selectScenarios(selectors: string[], scenarios: Scenario[] = SCENARIOS): Scenario[] {
  if (selectors.length === 0 || selectors.includes("all")) return scenarios;
  return selectors.map((s) => {
    const found = scenarios.find((x) => x.id === s || x.name === s);
    if (!found) throw new Error(`unknown scenario "${s}" (${scenarios.map((x) => `${x.id} ${x.name}`).join(", ")})`);
    return found;
  });
}

/** The default challenge duration on `chain`. */
export function defaultChallengeDuration(chain: SimulationChain): bigint {
  return chain.canMoveTime ? 3600n : MIN_CHALLENGE_DURATION;
}

/** Runs one scenario in a fresh context. */
export async function runScenario(
  chain: SimulationChain,
  scenario: Scenario,
  options: RunOptions = {},
): Promise<ScenarioReport> {
  const duration = options.challengeDuration ?? defaultChallengeDuration(chain);
  const ctx: Context = new ScenarioContext(chain, duration, options.note);
  options.note?.(`scenario ${scenario.id}: ${scenario.title}`);
  let failure: unknown;
  try {
    await scenario.run(ctx);
  } catch (error) {
    failure = error;
  }
  return ctx.finish({ id: scenario.id, name: scenario.name, title: scenario.title }, failure);
}

/** Runs `scenarios` in order on `chain`. */
export async function runSimulation(
  chain: SimulationChain,
  scenarios: Scenario[],
  options: RunOptions = {},
): Promise<SimulationReport> {
  const reports: ScenarioReport[] = [];
  for (const scenario of scenarios) reports.push(await runScenario(chain, scenario, options));
  return {
    chain: {
      chainId: chain.chainId,
      kind: chain.kind,
      canMoveTime: chain.canMoveTime,
      adjudicator: chain.adjudicator,
      voucherApp: chain.voucherApp,
    },
    challengeDuration: options.challengeDuration ?? defaultChallengeDuration(chain),
    scenarios: reports,
    passed: reports.every((r) => r.passed),
  };
}

/** The exit status of a run: 0 when every scenario passed, 1 when an invariant failed or a scenario threw. */
export function exitStatus(report: SimulationReport): number {
  return report.passed ? 0 : 1;
}
