// The simulation's report: Markdown for a terminal (one section per scenario: balances, transactions, time to
// settle, figures, invariants) and JSON for tools (bigints as decimal strings).
import { formatEther } from "ethers";
import type { ScenarioReport, SimulationReport } from "./types.js";

const eth = (wei: bigint) => formatEther(wei);
const signed = (wei: bigint) => (wei > 0n ? `+${formatEther(wei)}` : formatEther(wei));

function table(columns: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(columns), line(columns.map(() => "---")), ...rows.map(line)].join("\n");
}

/** One scenario as Markdown. */
export function scenarioMarkdown(s: ScenarioReport): string {
  const parts = [`## ${s.id}. ${s.title} ${s.passed ? "(passed)" : "(FAILED)"}`, ""];
  if (s.story.length > 0) parts.push(...s.story.map((line) => `- ${line}`), "");
  if (s.error) parts.push(`**error:** ${s.error}`, "");
  parts.push(
    "Balances (ETH; net = change + gas, what the party received apart from gas; channel = its share by its own store when the settlement began, and at the end):",
    "",
    table(
      [
        "party",
        "address",
        "wallet before",
        "wallet after",
        "change",
        "gas",
        "net",
        "channel at incident",
        "channel after",
      ],
      s.parties.map((p) => [
        p.name,
        `\`${p.address}\``,
        eth(p.walletBefore),
        eth(p.walletAfter),
        signed(p.change),
        eth(p.gas),
        signed(p.net),
        eth(p.channelBefore),
        eth(p.channelAfter),
      ]),
    ),
    "",
    table(
      ["channel", "challenge duration (s)", "deposited", "paid out", "payout txs", "left in adjudicator"],
      s.channels.map((c) => [
        `\`${c.id.slice(0, 18)}…\``,
        String(c.challengeDuration),
        eth(c.deposited),
        eth(c.paidOut),
        String(c.payouts),
        eth(c.holdingsAfter),
      ]),
    ),
    "",
    "Transactions:",
    "",
    table(
      ["block", "party", "what", "gas used", "cost (ETH)", "tx"],
      s.transactions.map((t) => [
        String(t.block),
        t.party,
        t.reverted ? `${t.what} (reverted)` : t.what,
        String(t.gasUsed),
        eth(t.cost),
        `\`${t.hash.slice(0, 18)}…\``,
      ]),
    ),
    "",
    `Time to settle: ${s.settle.chainSeconds} s of chain time, ${s.settle.wallSeconds.toFixed(2)} s of wall time.`,
    "",
  );
  const figures = Object.entries(s.figures);
  if (figures.length > 0) parts.push(table(["figure", "value"], figures), "");
  parts.push(
    "Invariants:",
    "",
    ...s.checks.map((c) => {
      const mark = c.holds === c.expected ? "ok" : "FAIL";
      const state = c.holds ? "holds" : "does not hold";
      return `- [${mark}] ${c.name}: ${state}${c.expected ? "" : " (as expected)"}. ${c.detail}`;
    }),
    "",
  );
  return parts.join("\n");
}

/** The whole run as Markdown. */
export function markdown(report: SimulationReport): string {
  const c = report.chain;
  const head = [
    "# piecepay simulate",
    "",
    `Chain ${c.chainId} (${c.kind}${c.canMoveTime ? ", time moved on demand" : ", real time"}); adjudicator \`${c.adjudicator}\`, voucher app \`${c.voucherApp}\`; challenge duration ${report.challengeDuration} s.`,
    "",
    table(
      ["scenario", "result", "transactions", "gas (ETH)"],
      report.scenarios.map((s) => [
        `${s.id}. ${s.title}`,
        s.passed ? "passed" : "FAILED",
        String(s.transactions.length),
        eth(s.transactions.reduce((a, t) => a + t.cost, 0n)),
      ]),
    ),
    "",
  ];
  return [
    ...head,
    ...report.scenarios.map(scenarioMarkdown),
    report.passed ? "All invariants hold." : "SOME INVARIANTS FAILED.",
  ].join("\n");
}

/** The whole run as one JSON document (bigints as decimal strings). */
export function json(report: SimulationReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
