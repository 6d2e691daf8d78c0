// How many channel proposals a seeder holds unfunded at once, per remote address and in total. A proposal costs
// the proposer one signature and the seeder a countersignature, a store row and a place in the funding poll until
// it is funded or times out: without a cap, anyone could make a seeder hold thousands.

/** Unfunded proposals a seeder holds at once from one address (see PaidSeederOptions.maxUnfundedPerIp). */
export const DEFAULT_MAX_UNFUNDED_PER_IP = 4;
/** Unfunded proposals a seeder holds at once in total (see PaidSeederOptions.maxUnfunded). */
export const DEFAULT_MAX_UNFUNDED = 64;

/** Slots for unfunded proposals: `take` one when a proposal arrives, `release` it once funded, expired or gone. */
export class UnfundedCap {
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(
    readonly maxPerIp = DEFAULT_MAX_UNFUNDED_PER_IP,
    readonly maxTotal = DEFAULT_MAX_UNFUNDED,
  ) {}

  /** Takes a slot for `ip`; returns why not when the cap is reached (then nothing was taken). */
  take(ip: string): string | undefined {
    const held = this.#perIp.get(ip) ?? 0;
    if (held >= this.maxPerIp) return `${held} unfunded channels from ${ip} already: fund one first`;
    if (this.#total >= this.maxTotal) return `${this.#total} unfunded channels already: try again later`;
    this.#perIp.set(ip, held + 1);
    this.#total++;
    return undefined;
  }

  release(ip: string): void {
    const held = this.#perIp.get(ip) ?? 0;
    if (held === 0) return;
    if (held === 1) this.#perIp.delete(ip);
    else this.#perIp.set(ip, held - 1);
    this.#total--;
  }

  get total(): number {
    return this.#total;
  }
}
