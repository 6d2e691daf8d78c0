// What a seller says as it goes, `seed` and `get --price` alike: each channel closed or enforced (with what the chain
// paid us, from its payout events), a close countersigned for a buyer to submit, a deposit a re-org removed, warnings.

import type { PaidSeeder, SeederPeerStats } from "../session/seeder.js";
import type { AmountUnit } from "./amounts.js";
import { explainError } from "./errors.js";
import { formatAmount, type Output } from "./output.js";

/**
 * Prints `seller`'s events on `out`: a `closed` / `enforced` result line per channel (`earned` is the chain's figure,
 * `vouchers` the largest voucher we held), `deposit-removed`, and notes for the rest.
 * @example reportSeller(seeder, out, unit)
 */
export function reportSeller(seller: PaidSeeder, out: Output, unit: AmountUnit): void {
  seller.on("warning", (error: Error) => out.note(`warning: ${explainError(error).message}`));
  seller.on("countersigned", (s) =>
    out.note(`${s.peer}: no ETH for the close's gas here; countersigned it for the leecher to submit`),
  );
  // Through a hub the money moves into our ledger with it (a state the hub and we signed), not on chain.
  const where = (s: SeederPeerStats, hash: string) =>
    s.hub === undefined ? `on chain, tx ${hash}` : `into our ledger with hub ${s.hub}`;
  seller.on("closed", (s, hash) =>
    out.result(
      settledEvent("closed", s, hash),
      `closed ${s.peer}: served ${s.served} pieces, earned ${formatAmount(s.earned ?? 0n, unit)} ${where(s, hash)}`,
    ),
  );
  seller.on("enforced", (s, hash) =>
    out.result(
      settledEvent("enforced", s, hash),
      `enforced ${s.peer}'s voucher: earned ${formatAmount(s.earned ?? 0n, unit)} ${where(s, hash)}`,
    ),
  );
  seller.on("deposit-removed", (s) =>
    out.result(
      { event: "deposit-removed", channelId: s.channelId, peer: s.peer, served: s.served, vouchers: s.paid },
      `warning: ${s.peer}'s deposit left the chain (a re-org) before it was final: stopped serving it after ${s.served} pieces, which nothing pays for`,
    ),
  );
}

/** A closed or enforced channel as one --json line: what the chain paid us, beside the voucher we held. */
function settledEvent(event: string, s: SeederPeerStats, tx: string): Record<string, unknown> {
  return {
    event,
    channelId: s.channelId,
    peer: s.peer,
    served: s.served,
    earned: s.earned ?? 0n,
    vouchers: s.paid,
    ...(s.hub === undefined ? { tx } : { hub: s.hub }),
  };
}
