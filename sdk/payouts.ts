import { isExternalDestination } from "./channel.js";
import { PiecepayError } from "./errors.js";
import type { Allocation } from "./types.js";

/** What one payout of one asset pays (mirrors PayoutLib.compute). */
export interface PayoutResult {
  newAmounts: bigint[];
  paid: bigint[];
  totalPaid: bigint;
}

/**
 * Computes a payout: allocations in order each get min(amount, what the earlier ones left); only those at
 * `indices` (strictly increasing; empty for all) are paid now. A guarantee (a destination that is a channel id) is
 * never paid, naming one throws GUARANTEE_NOT_PAYABLE, but it keeps its place in the order (ADR 0021).
 * @example computePayouts(10n, allocations, []).totalPaid
 */
export function computePayouts(held: bigint, allocations: Allocation[], indices: bigint[]): PayoutResult {
  const payAll = indices.length === 0;
  const newAmounts: bigint[] = [];
  const paid: bigint[] = [];
  let remaining = held;
  let totalPaid = 0n;
  let next = 0;
  allocations.forEach((allocation, i) => {
    const affordable = allocation.amount < remaining ? allocation.amount : remaining;
    const named = next < indices.length && indices[next] === BigInt(i);
    if (named && !isExternalDestination(allocation.destination)) {
      throw new PiecepayError("GUARANTEE_NOT_PAYABLE", `allocation ${i} is a guarantee: only reclaim resolves it`);
    }
    if (isExternalDestination(allocation.destination) && (payAll || named)) {
      newAmounts.push(allocation.amount - affordable);
      paid.push(affordable);
      totalPaid += affordable;
      if (named) next++;
    } else {
      newAmounts.push(allocation.amount);
      paid.push(0n);
    }
    remaining -= affordable;
  });
  // As PayoutLib reverts with InvalidAllocationIndex(next, indices[next]): indices not strictly increasing, or
  // past the last allocation.
  if (!payAll && next !== indices.length) {
    throw new PiecepayError("INVALID_ALLOCATION_INDEX", `invalid allocation index ${indices[next]} at ${next}`);
  }
  return { newAmounts, paid, totalPaid };
}
