// Paying and being paid through a hub (ADR 0021): a seeder names in its offer the hubs it has a ledger with, and a
// leecher with a ledger at one of them pays it over a virtual channel that the two ledgers guarantee, instead of a
// deposit of its own. The session state machines (leecher.ts, seeder.ts) use these rules; the hub protocol itself
// is the SDK's HubConnection.
import { type HubConnection, hubFee } from "../../sdk/hub/index.js";
import type { HubRoute, PaidHandshake } from "../wire/messages.js";

/** Our side of a hub: the logged-in connection and our open ledger channel with it. */
export interface HubAccount {
  connection: HubConnection;
  ledgerId: string;
}

/** The route a seeder's offer names through our hub, if it names it. */
export function routeThrough(
  offer: NonNullable<PaidHandshake["offer"]>,
  hub: HubAccount | undefined,
): HubRoute | undefined {
  if (hub === undefined) return undefined;
  const address = hub.connection.info.hub.toLowerCase();
  return offer.hubs?.find((route) => route.hub.toLowerCase() === address);
}

/**
 * What one piece costs through a hub that takes `feeBps`: the price and the fee on it, rounded up. A voucher's fee is
 * taken on the cumulative amount and rounded down, so the fee on n pieces is never above n times this one's.
 * @example pricePlusFee(1_000n, 25n) // 1_003n
 */
export function pricePlusFee(price: bigint, feeBps: bigint): bigint {
  return price + (price * feeBps + 9_999n) / 10_000n;
}

/**
 * What a virtual channel must hold for vouchers up to `vouchers` to be paid with the hub's fee on them: `vouchers +
 * hubFee(vouchers)`, so that `maxVirtualVoucher` of it is at least `vouchers`.
 * @example virtualAmountFor(10n * price, feeBps)
 */
export function virtualAmountFor(vouchers: bigint, feeBps: bigint): bigint {
  return vouchers + hubFee(vouchers, feeBps);
}
