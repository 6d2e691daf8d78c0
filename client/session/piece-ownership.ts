// Who a paying leecher owes for which piece, and whom it blames: which paid seeder each piece was given to (one
// only, so no piece is paid twice), who sent blocks of it, which pieces verified, and how many failed pieces each
// seeder sent (a ban after enough). Generic over the connection type (a bittorrent-protocol Wire in the client);
// no I/O.

/** The default number of failed pieces after which a seeder is banned (see PaidLeecherOptions.banAfterFailures). */
export const DEFAULT_BAN_AFTER_FAILURES = 2;

/**
 * The pieces of one torrent, by owner, sender and outcome.
 * @example const pieces = new PieceOwnership<Wire>(2); if (pieces.claim(index, wire)) ...; pieces.block(index, wire)
 */
export class PieceOwnership<W> {
  readonly banLimit: number;
  /** The connections that sent at least one block of each piece: who to pay when it verifies, or blame if it fails. */
  readonly contributors = new Map<number, Set<W>>();
  /**
   * The paid seeder each piece was first asked of: no other paid seeder is asked for it (unless that one leaves),
   * so a piece is never paid twice. Without this, webtorrent's hot-swapping would split pieces between seeders.
   */
  readonly owners = new Map<number, W>();
  /** Failed pieces per seeder (address:port and peer id), counted when it alone sent blocks of the piece. */
  readonly failures = new Map<string, number>();
  readonly #verified = new Set<number>();

  constructor(banLimit = DEFAULT_BAN_AFTER_FAILURES) {
    this.banLimit = banLimit;
  }

  /** Gives piece `index` to `wire`, unless another seeder owns it; true when `wire` owns it now. */
  claim(index: number, wire: W): boolean {
    const owner = this.owners.get(index);
    if (owner !== undefined && owner !== wire) return false;
    this.owners.set(index, wire);
    return true;
  }

  /**
   * A block of piece `index` from `wire`. Only the seeder the piece was given to counts: a block nobody asked for
   * earns nothing (a seeder that sent one byte of every piece would otherwise be paid for all of them), and blocks
   * from plain peers are free. True when this block makes `wire` owed for a piece that had already verified (a
   * request answered before our cancel reached it was still served).
   */
  block(index: number, wire: W): boolean {
    if (this.owners.get(index) !== wire) return false;
    const senders = this.contributors.get(index) ?? new Set<W>();
    this.contributors.set(index, senders);
    if (senders.has(wire)) return false;
    senders.add(wire);
    return this.#verified.has(index);
  }

  /**
   * Piece `index` verified: returns who sent blocks of it (each is owed for it) and its owner if that one sent none
   * (free peers delivered it: the owner's credit goes to another piece).
   */
  verified(index: number): { senders: W[]; idleOwner: W | undefined } {
    this.#verified.add(index);
    const senders = this.contributors.get(index) ?? new Set<W>();
    const owner = this.owners.get(index);
    return { senders: [...senders], idleOwner: owner !== undefined && !senders.has(owner) ? owner : undefined };
  }

  /** Piece `index` failed its hash (its blocks are gone): returns who sent blocks of it, and forgets them. */
  failed(index: number): W[] {
    const senders = this.contributors.get(index) ?? new Set<W>();
    this.contributors.delete(index);
    return [...senders];
  }

  /** Takes piece `index` back from `wire` if it owns it and sent none of it: another seeder may be given it. */
  release(index: number, wire: W): void {
    if (this.owners.get(index) === wire && !this.contributors.get(index)?.has(wire)) this.owners.delete(index);
  }

  /** A connection left: the pieces it owned go to the others, and it is no longer a sender of anything. */
  forget(wire: W): void {
    for (const [index, owner] of this.owners) if (owner === wire) this.owners.delete(index);
    for (const [index, senders] of this.contributors) {
      if (senders.delete(wire) && senders.size === 0) this.contributors.delete(index);
    }
  }

  /**
   * A paid seeder left: the unverified pieces it sent blocks of lose all their senders, and their partial data must
   * be thrown away (returned), so that whoever finishes such a piece is neither blamed for the other's data nor
   * paid alongside it.
   */
  discardUnverified(wire: W): number[] {
    const discarded: number[] = [];
    for (const [index, senders] of this.contributors) {
      if (!senders.delete(wire) || this.#verified.has(index)) continue;
      this.contributors.delete(index);
      discarded.push(index);
    }
    return discarded;
  }

  isVerified(index: number): boolean {
    return this.#verified.has(index);
  }

  /** How many pieces verified here (on disk at start, or downloaded since). */
  get verifiedCount(): number {
    return this.#verified.size;
  }

  /** Whether `wire` sent blocks of piece `index`, which has not verified (nor failed) yet. */
  startedBy(index: number, wire: W): boolean {
    return !this.#verified.has(index) && (this.contributors.get(index)?.has(wire) ?? false);
  }

  /** How many pieces `wire` sent blocks of that have not verified (nor failed) yet. */
  unfinishedFrom(wire: W): number {
    let count = 0;
    for (const [index, senders] of this.contributors) if (senders.has(wire) && !this.#verified.has(index)) count++;
    return count;
  }

  /**
   * Counts one failed piece against a seeder known by `keys` (address:port, and peer id if it sent one): the larger
   * count of the keys plus one, so a seeder that reconnects from another port is still known by its peer id.
   */
  countFailure(keys: string[]): number {
    const count = Math.max(...keys.map((key) => this.failures.get(key) ?? 0)) + 1;
    for (const key of keys) this.failures.set(key, count);
    return count;
  }

  /** Banned: the seeder (address:port or peer id) sent banLimit failed pieces; never paid or used again. */
  isBanned(key: string): boolean {
    return (this.failures.get(key) ?? 0) >= this.banLimit;
  }
}

/**
 * The pieces given to one paid seeder: what webtorrent's scheduler may ask it for. One bit per piece, so the
 * scheduler's per-piece checks stay as cheap as with a plain peer.
 */
export class GrantedPieces {
  #bits = new Uint8Array(0);
  #count = 0;
  #cursor = 0;

  has(index: number): boolean {
    return (this.#bits[index >> 3] & (128 >> (index & 7))) !== 0;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Grants more pieces while fewer than `credit` are granted: first those of `urgent` in its order (what a stream
   * is waiting for: a seek far ahead of the download), then the lowest from the cursor on; each only if `eligible`
   * (the seeder has it, we lack it) and `claim` gives it to this seeder. Returns how many were added.
   */
  fill(
    credit: number,
    pieceCount: number,
    eligible: (index: number) => boolean,
    claim: (index: number) => boolean,
    urgent: Iterable<number> = [],
  ): number {
    if (this.#count >= credit) return 0;
    if (this.#bits.length * 8 < pieceCount) {
      const grown = new Uint8Array(Math.ceil(pieceCount / 8));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const before = this.#count;
    const take = (index: number) => {
      if (this.has(index) || !eligible(index) || !claim(index)) return;
      this.#bits[index >> 3] |= 128 >> (index & 7);
      this.#count++;
    };
    for (const index of urgent) {
      if (this.#count >= credit) break;
      if (index >= 0 && index < pieceCount) take(index);
    }
    while (this.#count < credit && this.#cursor < pieceCount) take(this.#cursor++);
    return this.#count - before;
  }

  /** The granted pieces, lowest first. */
  *indexes(): Generator<number> {
    for (let index = 0; index < this.#bits.length * 8; index++) if (this.has(index)) yield index;
  }

  /** The next fill looks at every piece again (some were freed, or the seeder has new ones). */
  rewind(): void {
    this.#cursor = 0;
  }

  /** Takes piece `index` back; false if it was not granted. */
  remove(index: number): boolean {
    if (!this.has(index)) return false;
    this.#bits[index >> 3] &= ~(128 >> (index & 7));
    this.#count--;
    return true;
  }

  /** Takes back every granted piece for which `keep` is false. */
  retain(keep: (index: number) => boolean): void {
    for (let index = 0; index < this.#bits.length * 8; index++) {
      if (this.has(index) && !keep(index)) this.remove(index);
    }
  }
}
