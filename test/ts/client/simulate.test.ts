// `piecepay simulate`: every scenario runs on the embedded chain through the library (as the CLI runs it) and its
// invariants hold, with the key figures to the wei and every channel with the run's challenge duration (for the
// torrent scenarios, whose leecher session opens the channel, also as the chain registered it); one child-process
// run checks the CLI's JSON and exit status; a scenario whose invariant fails makes the run fail. The same runs on
// separately started nodes are in simulate-rpc.test.ts.
import { execFile } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { SimulationChain } from "../../../client/simulate/context.js";
import {
  defaultChallengeDuration,
  exitStatus,
  runScenario,
  runSimulation,
  selectScenarios,
} from "../../../client/simulate/runner.js";
import type { Scenario } from "../../../client/simulate/scenario.js";
import { SCENARIOS } from "../../../client/simulate/scenarios/index.js";
import { root } from "../helpers/nodes.js";
import { expectScenarioPassed, PRICE, parseReport, registeredDurations } from "./simulate-helpers.js";

const BIN = path.join(root, "client/cli/bin.mjs");

describe("piecepay simulate", function () {
  this.timeout(90_000);
  let chain: SimulationChain;
  before(async () => {
    chain = await SimulationChain.embedded();
  });
  after(async () => {
    await chain.close();
  });

  describe("when each scenario runs on the embedded chain", function () {
    for (const scenario of SCENARIOS) {
      it(`${scenario.id}. ${scenario.title}`, async function () {
        const report = await runScenario(chain, scenario);
        expectScenarioPassed(report, defaultChallengeDuration(chain));
        // The swarm's channels all close cooperatively: nothing is registered; their duration, as the parties' stores
        // hold it, was checked above.
        if (scenario.torrent && scenario.name !== "swarm") {
          // the leecher's session opened the channel: its challenges were registered with the scenario's duration
          const ids = report.channels.map((c) => c.id);
          const durations = await registeredDurations(chain.provider, chain.adjudicator, ids);
          expect(durations.length).to.be.greaterThan(0);
          for (const d of durations) expect(d).to.equal(defaultChallengeDuration(chain));
        }
      });
    }
  });

  describe("when a scenario breaks an invariant", function () {
    it("fails the run with a non-zero exit status", async function () {
      const greedy: Scenario = {
        id: "x",
        name: "greedy",
        title: "a scenario that expects the seeder to be paid more than it is",
        async run(ctx) {
          const coop = SCENARIOS.find((s) => s.id === "5") as Scenario;
          await coop.run(ctx);
          ctx.entitled.set("seeder", 11n * PRICE);
        },
      };
      const broken: Scenario = {
        id: "y",
        name: "broken",
        title: "a scenario that throws",
        run: async () => Promise.reject(new Error("boom")),
      };
      const report = await runSimulation(chain, [greedy, broken]);
      expect(report.scenarios.map((s) => s.passed)).to.deep.equal([false, false]);
      expect(report.scenarios[1].error).to.equal("boom");
      expect(exitStatus(report)).to.equal(1);
      expect(exitStatus({ ...report, passed: true })).to.equal(0);
    });

    it("rejects an unknown scenario name", function () {
      expect(() => selectScenarios(["nope"])).to.throw(/unknown scenario "nope"/);
      expect(selectScenarios(["all"]).length).to.equal(SCENARIOS.length);
      expect(selectScenarios(["cooperative-close", "2"]).map((s) => s.id)).to.deep.equal(["5", "2"]);
    });
  });

  describe("when run as `piecepay simulate 5 --json`", function () {
    it("prints the report as JSON and exits 0", async function () {
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [BIN, "simulate", "5", "--json"], { cwd: root }, (error, out) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out }),
        );
      });
      expect(code).to.equal(0);
      const report = parseReport(stdout);
      expect(report.passed).to.equal(true);
      expect(report.chain).to.include({ kind: "embedded", canMoveTime: true });
      expect(report.challengeDuration).to.equal(3600n);
      expect(report.scenarios).to.have.length(1);
      const [five] = report.scenarios;
      expect(five.id).to.equal("5");
      expectScenarioPassed(five, 3600n);
      expect(five.parties.find((p) => p.name === "seeder")?.net).to.equal(10n * PRICE);
      expect(five.transactions).to.have.length(2);
    });
  });
});
