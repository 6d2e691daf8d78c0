// What the simulation tests share: the figures each scenario must show (to the wei), the checks every report must
// pass, the CLI's JSON report read back with its bigints, and each channel's challenge duration read from the chain.
import { expect } from "chai";
import { type Provider, parseEther } from "ethers";
import type { ScenarioReport, SimulationReport } from "../../../client/simulate/types.js";
import { Adjudicator__factory } from "../../../typechain-types/index.js";

export const PRICE = parseEther("0.0001");

const net = (report: ScenarioReport, party: string) => report.parties.find((p) => p.name === party)?.net;

/** What each scenario must show beyond the common invariants, to the wei. */
export const FIGURES: Record<string, (r: ScenarioReport) => void> = {
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
  "9": (r) => {
    const held = (name: string) => r.checks.find((c) => c.name === name)?.holds;
    expect(
      held("every seller was paid exactly what it delivered at its price, on every channel (from the chain)"),
    ).to.equal(true);
    expect(held("the pieces delivered are exactly the pieces the downloaders needed")).to.equal(true);
    expect(held("every channel was closed by its buyer's settle, none left for the sellers' goodbye")).to.equal(true);
    const leechers = r.parties.filter((p) => p.name.startsWith("leecher-"));
    expect(leechers).to.have.lengthOf(8);
    for (const p of leechers) expect(held(`${p.name} got the whole file`), p.name).to.equal(true);
    // Nothing created or lost among the parties, and the origin earned exactly what its pieces cost at its price.
    expect(r.parties.reduce((a, p) => a + p.net, 0n)).to.equal(0n);
    const originPieces = Number(
      /\((\d+) of \d+ pieces\)/.exec(r.figures["origin's share of all bytes delivered"])?.[1],
    );
    expect(net(r, "origin")).to.equal(BigInt(originPieces) * PRICE);
    // One deposit and one cooperative close per channel.
    const what = (w: string) => r.transactions.filter((t) => t.what === w && !t.reverted).length;
    expect(what("deposit")).to.equal(r.channels.length);
    expect(what("concludeAndTransferAllAssets")).to.equal(r.channels.length);
  },
  // The hub scenarios: p = ten vouchers, the hub's fee 25 bps of it.
  "10": (r) => {
    expectHubSplit(r);
    expect(r.transactions.filter((t) => t.party === "seeder").map((t) => t.what)).to.deep.equal([
      "challenge",
      "virtual challenge",
      "reclaim",
      "ledger transferAllAssets",
    ]);
    expect(r.transactions.filter((t) => t.party === "leecher").map((t) => t.what)).to.deep.equal([
      "ledger deposit",
      "challenge",
      "reclaim",
      "ledger transferAllAssets",
    ]);
  },
  "11": (r) => {
    expectHubSplit(r);
    expect(r.transactions.filter((t) => t.party === "hub").map((t) => t.what)).to.deep.equal([
      "ledger deposit",
      "stale ledger challenge",
    ]);
    expect(r.checks.find((c) => c.name === "the stale state was overruled by the leecher's latest")?.holds).to.equal(
      true,
    );
  },
  "12": (r) => {
    expectHubSplit(r);
    expect(r.checks.find((c) => c.name.startsWith("V finalized on the seeder's voucher state"))?.holds).to.equal(true);
  },
  "13": (r) => {
    expectHubSplit(r);
    expect(r.figures["seeder's transactions to settle"]).to.equal("0");
    expect(r.transactions.filter((t) => t.party === "seeder").map((t) => t.what)).to.deep.equal(["ledger close"]);
    expect(r.transactions.filter((t) => t.party === "leecher").map((t) => t.what)).to.deep.equal(["ledger deposit"]);
  },
  "14": (r) => {
    for (const party of ["leecher", "seeder", "hub"]) expect(net(r, party), party).to.equal(0n);
    expect(r.figures["forfeited by the vanished seeder (wei)"]).to.equal(String(HUB_PAID));
    expect(r.transactions.filter((t) => t.party === "seeder")).to.deep.equal([]);
  },
  "15": (r) => {
    expectHubSplit(r);
    expect(r.transactions.map((t) => `${t.party} ${t.what}`)).to.deep.equal([
      "leecher ledger deposit",
      "hub ledger deposit",
      "seeder ledger close",
      "leecher ledger close",
    ]);
  },
  "16": (r) => {
    for (const c of r.checks) expect(c.holds, `${c.name}: ${c.detail}`).to.equal(true);
    expect(r.checks.length).to.be.greaterThan(4);
    expect(r.parties.reduce((a, p) => a + p.net, 0n)).to.equal(0n);
    expect(net(r, "hub")).to.equal(BigInt(r.figures["hub fees (wei)"]));
    expect(Number(r.figures["virtual channels"])).to.be.greaterThan(r.parties.length - 6);
  },
};

/** Ten vouchers of PRICE: what the hub scenarios pay on V. */
const HUB_PAID = 10n * PRICE;

/** The seeder paid p, the leecher p + fee(p), the hub fee(p) (25 bps): each to the wei, from its balance. */
function expectHubSplit(r: ScenarioReport): void {
  const fee = (HUB_PAID * 25n) / 10_000n;
  expect(net(r, "seeder")).to.equal(HUB_PAID);
  expect(net(r, "leecher")).to.equal(-(HUB_PAID + fee));
  expect(net(r, "hub")).to.equal(fee);
}

/**
 * A scenario's report passed: no error, every check as expected (the common invariants among them), its figures,
 * and every channel with `challengeDuration`.
 */
export function expectScenarioPassed(report: ScenarioReport, challengeDuration: bigint): void {
  expect(report.error).to.equal(undefined);
  for (const check of report.checks) expect(check.holds, `${check.name}: ${check.detail}`).to.equal(check.expected);
  for (const name of ["total paid out equals total deposited", "nothing is paid twice"]) {
    expect(report.checks.some((c) => c.name === name && c.holds)).to.equal(true);
  }
  expect(report.passed).to.equal(true);
  expect(report.channels.length).to.be.greaterThan(0);
  for (const channel of report.channels) expect(channel.challengeDuration).to.equal(challengeDuration);
  FIGURES[report.id]?.(report);
}

/** The fields of a report that are bigints (JSON carries them as decimal strings). */
const BIGINTS = new Set([
  "chainId",
  "challengeDuration",
  "walletBefore",
  "walletAfter",
  "change",
  "gas",
  "net",
  "channelBefore",
  "channelAfter",
  "holdingsBefore",
  "holdingsAfter",
  "deposited",
  "paidOut",
  "gasUsed",
  "cost",
]);

/** `piecepay simulate --json`'s output as the report it was made from. */
export function parseReport(text: string): SimulationReport {
  return JSON.parse(text, (key, value) =>
    BIGINTS.has(key) && typeof value === "string" ? BigInt(value) : value,
  ) as SimulationReport;
}

/**
 * For each challenged channel, the challenge duration it was registered with on chain: its first
 * `ChallengeRegistered` event's finalizesAt minus the timestamp of its block (the adjudicator adds the fixed part's
 * challengeDuration to block.timestamp); throws if a later answer moved the deadline.
 */
export async function registeredDurations(
  provider: Provider,
  adjudicator: string,
  channelIds: string[],
): Promise<bigint[]> {
  const contract = Adjudicator__factory.connect(adjudicator, provider);
  const durations: bigint[] = [];
  for (const id of channelIds) {
    // The first registration starts the clock; every answer after it keeps the same deadline (ADR 0005).
    const [first, ...answers] = await contract.queryFilter(contract.filters.ChallengeRegistered(id));
    if (!first) continue;
    for (const answer of answers) {
      if (answer.args.finalizesAt !== first.args.finalizesAt)
        throw new Error(`channel ${id}: an answer moved the deadline`);
    }
    const block = await provider.getBlock(first.blockNumber);
    durations.push(first.args.finalizesAt - BigInt(block?.timestamp ?? 0));
  }
  return durations;
}
