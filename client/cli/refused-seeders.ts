// The paid seeders `get` will not use, in words: a seeder priced above --max-price is named with its price, once,
// instead of a download that shows "0 peers" until --timeout.
import { ZeroAddress } from "ethers";
import type { AssetInfo } from "../../sdk/index.js";
import type { LeecherRefusal } from "../session/leecher.js";
import { formatAmount } from "./output.js";

/** Remembers each refused seeder (by address and reason) and says why, once per seeder. */
export class RefusedSeeders {
  readonly #seen = new Map<string, string>();
  /** Whether one was refused for its price (not its chain or asset): the hint then says --max-price. */
  #priced = false;

  constructor(
    readonly maxPrice: bigint,
    /** The asset we pay in: its amounts are printed in its units (e.g. "0.002 ETH"). */
    readonly asset: AssetInfo,
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

  /** What to do about the refusals so far: raise --max-price, or choose the asset (or a seeder) that matches. */
  get hint(): string {
    return this.#priced
      ? "raise --max-price to the seeder's price if you accept it, or --peer another seeder"
      : "pass the seeder's asset with --asset (leave it out for ETH), or --peer another seeder";
  }

  /** The addresses refused so far. */
  get peers(): Set<string> {
    return new Set(this.#seen.values());
  }

  describe({ peer, reason, offer }: LeecherRefusal): string {
    const seeder = `seeder ${peer} (payee ${offer.payee})`;
    if (offer.asset.toLowerCase() !== this.asset.address.toLowerCase()) {
      const theirs = offer.asset.toLowerCase() === ZeroAddress ? "ETH" : `the token ${offer.asset}`;
      const ours = this.asset.address === ZeroAddress ? "ETH" : `${this.asset.symbol} (${this.asset.address})`;
      return `${seeder} wants to be paid in ${theirs}, and we pay in ${ours}: not used`;
    }
    if (offer.pricePerPiece > this.maxPrice) {
      this.#priced = true;
      const format = (amount: bigint) => formatAmount(amount, this.asset);
      return `${seeder} asks ${format(offer.pricePerPiece)} per piece, above --max-price ${format(this.maxPrice)}: not used`;
    }
    return `${seeder} not used: ${reason}`;
  }
}
