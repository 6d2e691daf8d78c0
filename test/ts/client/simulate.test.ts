// `piecepay simulate`: every scenario runs on the embedded chain through the library (as the CLI runs it) and its
// invariants hold, with the key figures to the wei; one child-process run checks the CLI's JSON and exit status;
// a scenario whose invariant fails makes the run fail.
import { execFile } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { parseEther } from "ethers";
import { SimulationChain } from "../../../client/simulate/context.js";
import { exitStatus, runScenario, runSimulation, selectScenarios } from "../../../client/simulate/runner.js";
import { SCENARIOS } from "../../../client/simulate/scenarios/index.js";
import type { Scenario, ScenarioReport } from "../../../client/simulate/types.js";
import { root } from "../helpers/nodes.js";

const PRICE = parseEther("0.0001");
const BIN = path.join(root, "client/cli/bin.mjs");

const net = (report: ScenarioReport, party: string) => report.parties.find((p) => p.name === party)?.net;

/** What each scenario must show beyond the common invariants, to the wei. */
const FIGURES: Record<string, (r: ScenarioReport) => void> = {
  "1": (r) => {
    const enforced = BigInt(r.figures["voucher enforced (wei)"]);
    expect(enforced >= BigInt(r.figures["pieces served"]) * PRICE).to.equal(true);
    expect(net(r, "seeder")).to.equal(enforced);
    expect(net(r, "leecher")).to.equal(-enforced);
  },
  "2": (r) => {
    expect(net(r, "seeder")).to.equal(10n * PRICE);
    expect(net(r, "leecher")).to.equal(-10n * PRICE);
  },
  "3": (r) => {
    const lost = BigInt(r.figures["paid ahead and lost (wei)"]);
    expect(lost >= 0n && lost <= 8n * PRICE, `${lost} within one window`).to.equal(true);
    expect(net(r, "leecher")).to.equal(-BigInt(r.figures["voucher paid out (wei)"]));
  },
  "4": (r) => {
    const acked = BigInt(r.figures["acknowledged before the kill (wei)"]);
    expect(acked >= 10n * PRICE).to.equal(true);
    expect(BigInt(r.figures["held after the restart (wei)"]) >= acked).to.equal(true);
    expect(net(r, "seeder")).to.equal(20n * PRICE);
  },
  "5": (r) => {
    expect(net(r, "seeder")).to.equal(10n * PRICE);
    expect(net(r, "leecher")).to.equal(-10n * PRICE);
    expect(r.transactions.map((t) => t.what)).to.deep.equal(["deposit", "concludeAndTransferAllAssets"]);
  },
  "6": (r) => {
    expect(net(r, "seeder")).to.equal(10n * PRICE);
    expect(r.transactions.filter((t) => t.reverted).map((t) => t.party)).to.deep.equal([
      "leecher",
      "leecher",
      "leecher",
    ]);
    expect(Number(r.figures["defender (seeder): dispute transactions"])).to.equal(2); // one answer, one payout
  },
  "7": (r) => {
    expect(net(r, "seeder")).to.equal(0n);
    expect(net(r, "leecher")).to.equal(0n);
    expect(r.figures["seeder's loss (wei): every voucher it held"]).to.equal(String(10n * PRICE));
  },
  "8": (r) => {
    expect(net(r, "seeder")).to.equal(5n * PRICE);
    expect(r.checks.filter((c) => c.name.startsWith("rejected:")).length).to.equal(4);
  },
};

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
        expect(report.error).to.equal(undefined);
        for (const check of report.checks)
          expect(check.holds, `${check.name}: ${check.detail}`).to.equal(check.expected);
        for (const name of ["total paid out equals total deposited", "nothing is paid twice"]) {
          expect(report.checks.some((c) => c.name === name && c.holds)).to.equal(true);
        }
        expect(report.passed).to.equal(true);
        FIGURES[scenario.id]?.(report);
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
      const report = JSON.parse(stdout);
      expect(report.passed).to.equal(true);
      expect(report.scenarios).to.have.length(1);
      const [five] = report.scenarios;
      expect(five.id).to.equal("5");
      expect(five.parties.find((p: { name: string }) => p.name === "seeder").net).to.equal(String(10n * PRICE));
      expect(five.transactions).to.have.length(2);
      expect(five.checks.every((c: { holds: boolean; expected: boolean }) => c.holds === c.expected)).to.equal(true);
    });
  });
});
