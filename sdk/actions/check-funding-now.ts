import type { PiecepayContext } from "../context/types.js";

/**
 * Asks the funding poll to look now instead of at its next tick: e.g. when the payer's first voucher arrives,
 * which it sends only once its deposit is mined. Early looks are coalesced: at most one per polling interval,
 * across every channel awaited.
 * @example checkFundingNow(context)
 */
export function checkFundingNow(context: PiecepayContext): void {
  context.funding.hurry();
}
