// The paying swarm of `piecepay simulate swarm` (client/simulate/scenarios/09-swarm.ts), measured: one origin and
// eight downloaders that buy what they lack and resell what they have, on the embedded chain over loopback. Prints,
// from one run, the origin's share of all bytes delivered (goal <= 40%) and each downloader's paid, earned and net
// on chain against the file's list price (pieces x P), with its gas; and whether every invariant held.
// Usage: tsx scripts/bench-swarm.ts [--runs N] [--json]
import { loadavg } from "node:os";
import { formatEther } from "ethers";
import { SimulationChain } from "../client/simulate/context.js";
import { runScenario } from "../client/simulate/runner.js";
import type { Scenario } from "../client/simulate/scenario.js";
import { ORIGIN_SHARE_GOAL, runSwarm, type SwarmResult, swarm } from "../client/simulate/scenarios/09-swarm.js";
import { benchArgs } from "./bench-args.js";

const USAGE =
  "Usage: npm run bench:swarm -- [--runs N] [--json]\n\n" +
  "Runs the paying swarm (piecepay simulate swarm) N times (default 1) on the embedded chain and prints, for each\n" +
  "run: the origin's share of the bytes delivered (goal <= 40%), each downloader's paid, earned and net on chain\n" +
  "against the list price (pieces x P), its gas, the swarm's time and whether every invariant held.";
const { json, counts } = benchArgs(USAGE, { runs: "1" });
const runs = counts.runs ?? 1;

interface Run {
  passed: boolean;
  failed: string[];
  originShare: number;
  originPieces: number;
  pieces: number;
  listPriceWei: string;
  swarmSeconds: number;
  settleSeconds: number;
  transactions: number;
  downloaders: {
    name: string;
    sellsAtWei: string;
    bought: number;
    sold: number;
    paidWei: string;
    earnedWei: string;
    /** Balance change plus gas: what the chain moved to or from it. */
    netWei: string;
    netOverListPrice: number;
    gasWei: string;
    gasUnits: string;
    downloadSeconds: number;
    /** Pieces the origin delivered to it, and of those how many a downloader connected to it had by then. */
    fromOrigin: number;
    fromOriginAvailableElsewhere: number;
  }[];
}

async function once(chain: SimulationChain): Promise<Run> {
  let result: SwarmResult | undefined;
  const measured: Scenario = {
    ...swarm,
    async run(ctx) {
      result = await runSwarm(ctx);
    },
  };
  const report = await runScenario(chain, measured);
  if (!result) throw new Error(report.error ?? "the swarm did not finish");
  const r = result;
  return {
    passed: report.passed,
    failed: report.checks.filter((c) => c.holds !== c.expected).map((c) => c.name),
    originShare: r.originShare,
    originPieces: r.origin.sold,
    pieces: r.pieces,
    listPriceWei: r.listPrice.toString(),
    swarmSeconds: r.swarmMs / 1000,
    settleSeconds: report.settle.wallSeconds,
    transactions: report.transactions.length,
    downloaders: r.downloaders.map((d) => {
      const party = report.parties.find((p) => p.name === d.name);
      const net = party?.net ?? 0n;
      const units = report.transactions.filter((t) => t.party === d.name).reduce((a, t) => a + t.gasUsed, 0n);
      return {
        name: d.name,
        sellsAtWei: d.price.toString(),
        bought: d.bought,
        sold: d.sold,
        paidWei: d.paid.toString(),
        earnedWei: d.earned.toString(),
        netWei: net.toString(),
        netOverListPrice: Number(net) / Number(r.listPrice),
        gasWei: (party?.gas ?? 0n).toString(),
        gasUnits: units.toString(),
        downloadSeconds: (d.doneMs - d.arrivedMs) / 1000,
        fromOrigin: d.fromOrigin,
        fromOriginAvailableElsewhere: d.fromOriginAvailableElsewhere,
      };
    }),
  };
}

const chain = await SimulationChain.embedded();
const results: Run[] = [];
try {
  for (let i = 0; i < runs; i++) results.push(await once(chain));
} finally {
  await chain.close();
}
const load = loadavg().map((l) => l.toFixed(2));
if (json) {
  console.log(JSON.stringify({ runs: results, originShareGoal: ORIGIN_SHARE_GOAL, loadAverage: load }));
} else {
  const eth = (wei: string) => formatEther(BigInt(wei));
  for (const [i, r] of results.entries()) {
    const met = r.originShare <= ORIGIN_SHARE_GOAL ? "met" : "NOT met";
    console.log(
      `Run ${i + 1}: 1 origin and ${r.downloaders.length} paying downloaders that resell, ${r.pieces} pieces, list price ${eth(r.listPriceWei)} ETH; invariants ${r.passed ? "held" : `FAILED (${r.failed.join("; ")})`}`,
    );
    console.log(
      `  origin's share of the bytes delivered: ${(100 * r.originShare).toFixed(1)}% (${r.originPieces} of ${r.pieces * r.downloaders.length} pieces); goal <= ${100 * ORIGIN_SHARE_GOAL}%: ${met}`,
    );
    console.log(
      "  downloader  sells at   bought sold  paid (ETH)  earned (ETH)  net (ETH)   net / list  gas (ETH)   gas units  download",
    );
    for (const d of r.downloaders) {
      console.log(
        `  ${d.name.padEnd(10)}  ${eth(d.sellsAtWei).padEnd(9)}  ${String(d.bought).padStart(6)} ${String(d.sold).padStart(4)}  ${eth(d.paidWei).padEnd(10)}  ${eth(d.earnedWei).padEnd(12)}  ${eth(d.netWei).padEnd(10)}  ${d.netOverListPrice.toFixed(3).padStart(10)}  ${eth(d.gasWei).slice(0, 10).padEnd(10)}  ${d.gasUnits.padStart(9)}  ${d.downloadSeconds.toFixed(2).padStart(6)} s  ${d.fromOrigin} (${d.fromOriginAvailableElsewhere})`,
      );
    }
    console.log(
      `  first arrival -> last finish ${r.swarmSeconds.toFixed(2)} s; settling ${r.settleSeconds.toFixed(2)} s; ${r.transactions} transactions`,
    );
  }
  console.log(`load average (1, 5, 15 min) at the end: ${load.join(", ")}`);
}
if (results.some((r) => !r.passed)) process.exitCode = 1;
