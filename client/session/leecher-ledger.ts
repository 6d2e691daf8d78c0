// The paying leecher's money, apart from any wire or chain: the budget its deposits are reserved from, and per paid
// seeder the credit window, what was deposited, paid in vouchers, acknowledged and delivered, and what a close
// offers. Pure and synchronous: the session (leecher.ts) feeds it events and sends what it says;
// test/ts/client/leecher-ledger.test.ts drives it alone through random interleavings.
//
// The rules: a voucher tops the credit up to (delivered + window) pieces, never past the deposit or the pieces
// still missing; the window doubles with each verified piece up to maxWindow; a close offers what the seeder
// delivered, never more than was paid. So an honest seeder is paid exactly what it delivered, and any seeder can
// take at most one window more (its largest voucher).

/** The default cap of the credit window, in pieces (see PaidLeecherOptions.maxWindow). */
export const DEFAULT_MAX_WINDOW = 256;

/** The default first credit window, in pieces. */
export const DEFAULT_INITIAL_WINDOW = 2;

/** A part of the budget held for one channel's deposit until it is funded or given back. */
export interface Reservation {
  readonly amount: bigint;
  /** Gives the amount back to the budget (once; later calls do nothing). */
  release(): void;
}

/**
 * The most we deposit in all channels together.
 * @example const budget = new Budget(10n ** 17n); const held = budget.reserve(deposit); held?.release()
 */
export class Budget {
  readonly total: bigint;
  #committed = 0n;

  constructor(total: bigint) {
    this.total = total;
  }

  /** Reserves `amount` for a channel; undefined when the budget cannot cover it. */
  reserve(amount: bigint): Reservation | undefined {
    if (this.#committed + amount > this.total) return undefined;
    this.#committed += amount;
    let held = true;
    return {
      amount,
      release: () => {
        if (!held) return;
        held = false;
        this.#committed -= amount;
      },
    };
  }

  /** Counts the deposit of a channel funded before (an earlier run or connection) that we continue. */
  count(amount: bigint): void {
    this.#committed += amount;
  }

  /** What is left of the budget. */
  get left(): bigint {
    return this.total - this.#committed;
  }
}

/** The credit window's settings, in pieces. */
export interface WindowOptions {
  initialWindow?: number;
  maxWindow?: number;
}

/**
 * One paid seeder's account: figures only, no I/O.
 * @example const ledger = new SeederLedger({ maxWindow: 64 }); ledger.priceAt(price); ledger.depositOf(deposit)
 */
export class SeederLedger {
  readonly maxWindow: number;
  #price = 0n;
  #deposit = 0n;
  #paid = 0n;
  #acknowledged = 0n;
  #delivered = 0;
  #window: number;
  /** Pieces the vouchers cover, kept as a number: the scheduler asks for it for every piece. */
  #creditPieces = 0;
  /** Pieces of a continued channel that its seeder delivered in earlier runs or connections (already paid for). */
  #carried = 0;
  #closedAt: bigint | undefined;

  constructor(options: WindowOptions = {}) {
    this.maxWindow = options.maxWindow ?? DEFAULT_MAX_WINDOW;
    // Never more than maxWindow, even at first: at most maxWindow x price is ever at risk.
    this.#window = Math.min(options.initialWindow ?? DEFAULT_INITIAL_WINDOW, this.maxWindow);
  }

  /** The seeder's price per piece, from its offer that we accepted. */
  priceAt(pricePerPiece: bigint): void {
    this.#price = pricePerPiece;
  }

  /** The channel's deposit: reserved, then as funded on chain. */
  depositOf(amount: bigint): void {
    this.#deposit = amount;
  }

  /** A piece this seeder sent verified: it counts, and the window doubles (up to maxWindow). */
  delivered(): void {
    this.#delivered++;
    this.#window = Math.min(this.maxWindow, this.#window * 2);
  }

  /**
   * The amount to add in the next voucher, or 0n for none: it tops the credit up to (delivered + window) pieces,
   * never ahead by more than `piecesLeft` (credit beyond the missing pieces buys nothing) nor past the deposit, and
   * only once the credit ahead has fallen to half a window (one voucher per half window, not per piece), unless it
   * reaches the deposit.
   */
  topUp(piecesLeft: number): bigint {
    if (this.#price <= 0n) return 0n;
    const ahead = Math.min(this.#window, piecesLeft);
    const target = BigInt(this.#delivered + ahead) * this.#price;
    const capped = target < this.#deposit ? target : this.#deposit;
    if (capped <= this.#paid) return 0n;
    const credit = this.#creditPieces - this.#delivered;
    if (capped < this.#deposit && credit > Math.floor(this.#window / 2)) return 0n;
    return capped - this.#paid;
  }

  /** We signed and sent a voucher for `total` (cumulative). */
  vouched(total: bigint): void {
    this.#paid = total;
    this.#creditPieces = Number(this.#paid / this.#price);
  }

  /** The seeder acknowledged `amount`; false (a protocol error) when that is more than we paid. */
  receipt(amount: bigint): boolean {
    if (amount > this.#paid) return false;
    if (amount > this.#acknowledged) this.#acknowledged = amount;
    return true;
  }

  /**
   * A channel funded before continues: `paid` is our largest voucher, `acknowledged` the seeder's, `served` the
   * pieces it delivered before (paid for from the same credit).
   */
  resumed(figures: { paid: bigint; acknowledged: bigint; served: number }): void {
    this.#paid = figures.paid;
    this.#acknowledged = figures.acknowledged;
    this.#carried = figures.served;
    this.#delivered = figures.served;
    this.#creditPieces = Number(this.#paid / this.#price);
  }

  /** Pieces the credit lets us give this seeder in this connection (those delivered before were paid from it). */
  get grantable(): number {
    return this.#creditPieces - this.#carried;
  }

  /** The close we offer: what the seeder delivered, never more than we paid. */
  closeOffer(): bigint {
    const delivered = BigInt(this.#delivered) * this.#price;
    return delivered < this.#paid ? delivered : this.#paid;
  }

  /** The channel closed on chain at `amount`. */
  closedAt(amount: bigint): void {
    this.#closedAt = amount;
  }

  get pricePerPiece(): bigint {
    return this.#price;
  }
  get deposit(): bigint {
    return this.#deposit;
  }
  /** Wei promised in vouchers so far. */
  get paid(): bigint {
    return this.#paid;
  }
  get acknowledged(): bigint {
    return this.#acknowledged;
  }
  get deliveredCount(): number {
    return this.#delivered;
  }
  get window(): number {
    return this.#window;
  }
  /** Once closed, what it closed at; until then our largest voucher, which the seeder can take without us. */
  get spent(): bigint {
    return this.#closedAt ?? this.#paid;
  }
}
