// The invariants every scenario is held to, computed from its report: total paid out equals total deposited;
// nothing is paid twice; each party ends with exactly what it is entitled to; the honest party loses at most its
// credit window. A scenario adds checks of its own (e.g. "the stale challenge was answered").
import { formatEther } from "ethers";
import type { Check, Honest, ScenarioReport } from "./types.js";

const eth = (wei: bigint) => `${formatEther(wei)} ETH`;

/** The checks common to every scenario. */
export function commonChecks(
  report: ScenarioReport,
  entitled: Map<string, bigint>,
  honest: Map<string, Honest>,
): Check[] {
  const checks: Check[] = [];
  const deposited = report.channels.reduce((a, c) => a + c.deposited, 0n);
  const paidOut = report.channels.reduce((a, c) => a + c.paidOut, 0n);
  const left = report.channels.reduce((a, c) => a + c.holdingsAfter, 0n);
  const moved = report.parties.reduce((a, p) => a + p.net, 0n);
  checks.push({
    name: "total paid out equals total deposited",
    holds: report.channels.length > 0 && deposited === paidOut && left === 0n && moved === 0n,
    expected: true,
    detail: `deposited ${eth(deposited)}, paid out ${eth(paidOut)}, left in the adjudicator ${eth(left)}; the parties' net changes (gas apart) sum to ${eth(moved)}`,
  });
  const once = report.channels.every((c) => c.payouts === 1 && c.paidOut <= c.deposited);
  checks.push({
    name: "nothing is paid twice",
    holds: report.channels.length > 0 && once,
    expected: true,
    detail: report.channels
      .map(
        (c) =>
          `channel ${c.id.slice(0, 10)}: ${c.payouts} payout transaction(s), ${eth(c.paidOut)} of ${eth(c.deposited)}`,
      )
      .join("; "),
  });
  if (entitled.size > 0) {
    const wrong = report.parties.filter((p) => entitled.has(p.name) && entitled.get(p.name) !== p.net);
    checks.push({
      name: "each party ends with exactly its entitlement (to the wei, gas apart)",
      holds: wrong.length === 0,
      expected: true,
      detail: report.parties
        .filter((p) => entitled.has(p.name))
        .map((p) => `${p.name} ${eth(p.net)} (entitled to ${eth(entitled.get(p.name) ?? 0n)})`)
        .join("; "),
    });
  }
  for (const [name, { owed, window, expected = true }] of honest) {
    const party = report.parties.find((p) => p.name === name);
    if (!party) continue;
    const loss = owed - party.net;
    checks.push({
      name: `the honest party (${name}) loses at most its credit window`,
      holds: loss <= window,
      expected,
      detail: `lost ${eth(loss > 0n ? loss : 0n)} of what it served or paid for; its credit window is ${eth(window)}${expected ? "" : " (no watcher: the bound does not hold, which is why watchers exist)"}`,
    });
  }
  return checks;
}
