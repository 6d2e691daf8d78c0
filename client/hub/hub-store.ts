// The hub's view of its store: the same calls, with the records of its ledgers and live virtual channels and the
// ledgers' latest states kept in memory once read or written, so that the many reads of a virtual channel's life
// do not parse JSON rows again (fromJson and the statements behind getChannel were a quarter of the hub's CPU in
// bench:hub's profile). A virtual channel leaves the memory once settled in both ledgers, so that it holds what is
// live, not every channel the hub ever served. The hub is its store's only writer (`piecepay hub` owns
// <data-dir>/hub/<address>.db), so what it wrote is what the store holds; writes go through at once, in call order.
// Should the store fail to commit, it rolled those writes back: the memory is dropped with them and read again.
// Records handed out are shared: callers treat them as read-only, as the hub's updates already do (they return new
// objects).
import { type ChannelRecord, type ChannelStore, PiecepayError, type SignedVariablePart } from "../../sdk/node.js";

/** A store that may commit writes in groups (SqliteChannelStore with `commit: "group"`): see `flushed()` there. */
export type HubChannelStore = ChannelStore & { flushed?(): Promise<void> };

export class HubStore {
  readonly #store: HubChannelStore;
  readonly #records = new Map<string, ChannelRecord>();
  readonly #states = new Map<string, SignedVariablePart>();

  constructor(store: HubChannelStore) {
    this.#store = store;
  }

  /** Every record, least recently written first (read from the store; the live ones kept). */
  async listChannels(): Promise<ChannelRecord[]> {
    const records = await this.#store.listChannels();
    for (const record of records) {
      if (!isFinished(record)) this.#records.set(record.id.toLowerCase(), record);
    }
    return records;
  }

  async getChannel(id: string): Promise<ChannelRecord | undefined> {
    const key = id.toLowerCase();
    const cached = this.#records.get(key);
    if (cached !== undefined) return cached;
    const record = await this.#store.getChannel(key);
    // Another call may have written it meanwhile: that is newer.
    const now = this.#records.get(key) ?? record;
    if (now !== undefined && !isFinished(now)) this.#records.set(key, now);
    return now;
  }

  async putChannel(record: ChannelRecord): Promise<void> {
    const key = record.id.toLowerCase();
    // A virtual channel settled in both ledgers is asked for rarely, if ever: it leaves the memory, which then holds
    // the ledgers and the virtual channels still live, not every channel the hub ever served.
    if (isFinished(record)) this.#records.delete(key);
    else this.#records.set(key, record);
    try {
      await this.#store.putChannel(record);
    } catch (error) {
      this.#records.delete(key);
      throw error;
    }
  }

  /**
   * As ChannelStore.updateChannel: the update runs on the latest record and its result is kept, with no other
   * update of this process in between (read, update and the memory's write happen in one synchronous step).
   */
  async updateChannel(
    id: string,
    update: (record: ChannelRecord) => ChannelRecord | undefined,
  ): Promise<ChannelRecord | undefined> {
    const key = id.toLowerCase();
    if (!this.#records.has(key)) {
      // Not in memory (not read yet, or a finished virtual channel, which the hub does not update any more).
      const loaded = await this.#store.getChannel(key);
      if (!this.#records.has(key) && loaded !== undefined) this.#records.set(key, loaded);
    }
    const current = this.#records.get(key);
    if (current === undefined) return undefined;
    const updated = update(current);
    if (updated === undefined) {
      if (isFinished(current)) this.#records.delete(key);
      return current;
    }
    if (updated.id.toLowerCase() !== key) {
      throw new PiecepayError("INVALID_UPDATE", `updateChannel(${id}) returned channel ${updated.id}`);
    }
    await this.putChannel(updated);
    return updated;
  }

  async getSupportedState(id: string): Promise<SignedVariablePart | undefined> {
    const key = id.toLowerCase();
    const cached = this.#states.get(key);
    if (cached !== undefined) return cached;
    const state = await this.#store.getSupportedState(key);
    const now = this.#states.get(key) ?? state;
    if (now !== undefined) this.#states.set(key, now);
    return now;
  }

  /** Keeps `state` if its turn number is above the latest one's (the store's rule); resolves to whether it did. */
  async putSupportedState(id: string, state: SignedVariablePart): Promise<boolean> {
    const key = id.toLowerCase();
    if (!this.#states.has(key)) await this.getSupportedState(key);
    const previous = this.#states.get(key);
    if (previous !== undefined && state.variablePart.turnNum <= previous.variablePart.turnNum) return false;
    this.#states.set(key, state);
    try {
      const kept = await this.#store.putSupportedState(key, state);
      if (!kept) this.#states.delete(key);
      return kept;
    } catch (error) {
      this.#states.delete(key);
      throw error;
    }
  }

  /**
   * Whether this store may hold writes not yet on disk (then `flushed()` must be awaited before anything leaves).
   */
  get groupsCommits(): boolean {
    return this.#store.flushed !== undefined;
  }

  /** Resolves once every write so far is on disk; if the commit failed, the memory is dropped and it rejects. */
  async flushed(): Promise<void> {
    try {
      await this.#store.flushed?.();
    } catch (error) {
      this.#records.clear();
      this.#states.clear();
      throw error;
    }
  }
}

/** A virtual channel settled out of both ledgers: nothing more happens to it. */
function isFinished(record: ChannelRecord): boolean {
  return record.virtual !== undefined && record.phase === "finalized";
}
