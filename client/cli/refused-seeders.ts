// The paid seeders `get` will not use, in words: a seeder priced above --max-price is named with its price, once,
// instead of a download that shows "0 peers" until --timeout.
import type { LeecherRefusal } from "../session/leecher.js";

/** Remembers each refused seeder (by address and reason) and says why, once per seeder. */
export class RefusedSeeders {
  readonly #seen = new Map<string, string>();

  constructor(
    readonly maxPrice: bigint,
    /** How an amount of the payment asset is printed (e.g. "0.002 ETH"). */
    readonly format: (amount: bigint) => string,
  ) {}

  /** The sentence for `refusal`, or undefined when this seeder was already reported for the same reason. */
  add(refusal: LeecherRefusal): string | undefined {
    const text = this.describe(refusal);
    const key = `${refusal.peer}\n${text}`;
    if (this.#seen.has(key)) return undefined;
    this.#seen.set(key, refusal.peer);
    return text;
  }

  /** Every refusal so far, one sentence each. */
  get reasons(): string[] {
    return [...this.#seen.keys()].map((key) => key.slice(key.indexOf("\n") + 1));
  }

  /** The addresses refused so far. */
  get peers(): Set<string> {
    return new Set(this.#seen.values());
  }

  describe({ peer, reason, offer }: LeecherRefusal): string {
    if (offer.pricePerPiece > this.maxPrice) {
      return `seeder ${peer} (payee ${offer.payee}) asks ${this.format(offer.pricePerPiece)} per piece, above --max-price ${this.format(this.maxPrice)}: not used`;
    }
    return `seeder ${peer} (payee ${offer.payee}) not used: ${reason}`;
  }
}
