import { PiecepayError } from "../errors.js";
import type { SignedVariablePart } from "../types.js";
import type { Voucher } from "../voucher.js";
import type { ChannelPhase, ChannelRecord, ChannelStore, VoucherDirection } from "./types.js";

const SCHEMA_VERSION = 1;
const STORES = ["channels", "states", "vouchers", "cursors", "events", "meta"] as const;
type StoreName = (typeof STORES)[number];

interface ChannelRow {
  id: string;
  record: ChannelRecord;
  phase: ChannelPhase;
  /** Write order across every tab on this database (a counter in `meta`), for `listChannels`. */
  seq: number;
}

/**
 * A `ChannelStore` in the browser's IndexedDB. Values keep their bigints (structured clone), so nothing is
 * re-encoded. Every check-then-write runs inside one readwrite transaction, which IndexedDB serializes against
 * every other transaction on the same object stores, in this tab and in any other tab of the origin, so two tabs
 * cannot both credit one voucher. Writes use `durability: "strict"` and resolve on the transaction's `complete`
 * event: a received voucher counts only once the browser has flushed it.
 * @example const store = await IndexedDbChannelStore.open("piecepay")
 */
export class IndexedDbChannelStore implements ChannelStore {
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  /**
   * Opens (or creates) the database `name`. Refuses one written by a newer piecepay.
   * @throws PiecepayError STORE_UNAVAILABLE (no IndexedDB here, or the browser refused it) or STORE_NEWER_SCHEMA
   * @example const store = await IndexedDbChannelStore.open("piecepay-0xabc…")
   */
  static async open(
    name: string,
    factory: IDBFactory | undefined = globalThis.indexedDB,
  ): Promise<IndexedDbChannelStore> {
    if (factory === undefined) {
      throw new PiecepayError("STORE_UNAVAILABLE", "this runtime has no IndexedDB (a browser, or fake-indexeddb)");
    }
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(name, SCHEMA_VERSION);
      request.onupgradeneeded = () => {
        const upgrade = request.result;
        for (const store of STORES) if (!upgrade.objectStoreNames.contains(store)) upgrade.createObjectStore(store);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => {
        const error = request.error;
        reject(
          error?.name === "VersionError"
            ? new PiecepayError(
                "STORE_NEWER_SCHEMA",
                `IndexedDB database ${name} was written by a newer piecepay; upgrade piecepay to open it`,
                { cause: error },
              )
            : new PiecepayError("STORE_UNAVAILABLE", `IndexedDB database ${name} could not be opened`, {
                cause: error,
              }),
        );
      };
      request.onblocked = () =>
        reject(new PiecepayError("STORE_UNAVAILABLE", `IndexedDB database ${name} is held open by an older page`));
    });
    // Another tab upgrading the schema asks us to step aside rather than block it.
    db.onversionchange = () => db.close();
    return new IndexedDbChannelStore(db);
  }

  /**
   * Runs `body` in one transaction over `stores` and resolves with what it produced once the transaction has
   * completed (for a readwrite one: committed and flushed). `body` must only issue requests, chained through their
   * callbacks: awaiting anything else would let the transaction commit early.
   */
  #run<T>(
    stores: StoreName[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction, done: (value: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: T | undefined;
      let produced = false;
      const tx = this.#db.transaction(stores, mode, { durability: "strict" });
      tx.oncomplete = () => {
        if (produced) resolve(result as T);
        else reject(new PiecepayError("STORE_UNAVAILABLE", "an IndexedDB transaction ended without a result"));
      };
      const fail = () =>
        reject(new PiecepayError("STORE_UNAVAILABLE", "an IndexedDB transaction failed", { cause: tx.error }));
      tx.onerror = fail;
      tx.onabort = fail;
      try {
        body(tx, (value) => {
          result = value;
          produced = true;
        });
      } catch (error) {
        tx.abort();
        reject(error);
      }
    });
  }

  /** Writes a channel row with the next write sequence number, inside `tx`. */
  #writeChannel(tx: IDBTransaction, record: ChannelRecord, then: () => void): void {
    const meta = tx.objectStore("meta");
    const read = meta.get("seq");
    read.onsuccess = () => {
      const seq = ((read.result as number | undefined) ?? 0) + 1;
      meta.put(seq, "seq");
      const id = record.id.toLowerCase();
      const row: ChannelRow = { id, record: { ...record, id }, phase: record.phase, seq };
      tx.objectStore("channels").put(row, id).onsuccess = () => then();
    };
  }

  putChannel(record: ChannelRecord): Promise<void> {
    return this.#run<void>(["channels", "meta"], "readwrite", (tx, done) => {
      this.#writeChannel(tx, record, () => done(undefined));
    });
  }

  getChannel(id: string): Promise<ChannelRecord | undefined> {
    return this.#run(["channels"], "readonly", (tx, done) => {
      const read = tx.objectStore("channels").get(id.toLowerCase());
      read.onsuccess = () => done(recordOf(read.result as ChannelRow | undefined));
    });
  }

  listChannels(): Promise<ChannelRecord[]> {
    return this.#run(["channels"], "readonly", (tx, done) => {
      const read = tx.objectStore("channels").getAll();
      read.onsuccess = () => {
        const rows = (read.result as ChannelRow[]).sort((a, b) => a.seq - b.seq);
        done(rows.map((row) => recordOf(row) as ChannelRecord));
      };
    });
  }

  async updateChannel(
    id: string,
    update: (record: ChannelRecord) => ChannelRecord | undefined,
  ): Promise<ChannelRecord | undefined> {
    // An error of `update` (or a record for another channel) aborts the transaction: nothing is written, and the
    // caller gets that error rather than the abort's.
    let refused: unknown;
    try {
      return await this.#run(["channels", "meta"], "readwrite", (tx, done) => {
        const read = tx.objectStore("channels").get(id.toLowerCase());
        read.onsuccess = () => {
          const current = recordOf(read.result as ChannelRow | undefined);
          if (current === undefined) return done(undefined);
          let next: ChannelRecord | undefined;
          try {
            next = update(current);
            if (next !== undefined && next.id.toLowerCase() !== current.id) {
              throw new PiecepayError("INVALID_UPDATE", `updateChannel(${id}) returned channel ${next.id}`);
            }
          } catch (error) {
            refused = error;
            tx.abort();
            return;
          }
          if (next === undefined) return done(current);
          const stored = { ...next, id: current.id };
          this.#writeChannel(tx, stored, () => done(stored));
        };
      });
    } catch (error) {
      throw refused ?? error;
    }
  }

  async setPhase(id: string, phase: ChannelPhase): Promise<void> {
    const found = await this.#run<boolean>(["channels", "meta"], "readwrite", (tx, done) => {
      const read = tx.objectStore("channels").get(id.toLowerCase());
      read.onsuccess = () => {
        const current = recordOf(read.result as ChannelRow | undefined);
        if (current === undefined) return done(false);
        this.#writeChannel(tx, { ...current, phase }, () => done(true));
      };
    });
    if (!found) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
  }

  forgetUnfunded(id: string): Promise<boolean> {
    const key = id.toLowerCase();
    return this.#run(["channels", "states", "vouchers"], "readwrite", (tx, done) => {
      const channels = tx.objectStore("channels");
      const read = channels.get(key);
      read.onsuccess = () => {
        const record = recordOf(read.result as ChannelRow | undefined);
        const vouchers = tx.objectStore("vouchers");
        const sent = vouchers.get(voucherKey("sent", key));
        sent.onsuccess = () => {
          const received = vouchers.get(voucherKey("received", key));
          received.onsuccess = () => {
            const unfunded =
              record?.phase === "proposed" &&
              record.deposited === 0n &&
              sent.result === undefined &&
              received.result === undefined;
            if (!unfunded) return done(false);
            channels.delete(key);
            tx.objectStore("states").delete(key).onsuccess = () => done(true);
          };
        };
      };
    });
  }

  putSupportedState(id: string, state: SignedVariablePart): Promise<boolean> {
    const key = id.toLowerCase();
    return this.#run(["states"], "readwrite", (tx, done) => {
      const states = tx.objectStore("states");
      const read = states.get(key);
      read.onsuccess = () => {
        const stored = read.result as SignedVariablePart | undefined;
        if (stored !== undefined && state.variablePart.turnNum <= stored.variablePart.turnNum) return done(false);
        states.put(state, key).onsuccess = () => done(true);
      };
    });
  }

  getSupportedState(id: string): Promise<SignedVariablePart | undefined> {
    return this.#run(["states"], "readonly", (tx, done) => {
      const read = tx.objectStore("states").get(id.toLowerCase());
      read.onsuccess = () => done(read.result as SignedVariablePart | undefined);
    });
  }

  putVoucher(direction: VoucherDirection, voucher: Voucher): Promise<{ kept: boolean; previous: bigint }> {
    const id = voucher.channelId.toLowerCase();
    return this.#run(["vouchers"], "readwrite", (tx, done) => {
      const vouchers = tx.objectStore("vouchers");
      const read = vouchers.get(voucherKey(direction, id));
      read.onsuccess = () => {
        const stored = read.result as Voucher | undefined;
        const previous = stored?.amount ?? 0n;
        if (stored !== undefined && voucher.amount <= previous) return done({ kept: false, previous });
        const row: Voucher = { channelId: id, amount: voucher.amount, signature: voucher.signature };
        vouchers.put(row, voucherKey(direction, id)).onsuccess = () => done({ kept: true, previous });
      };
    });
  }

  getVoucher(direction: VoucherDirection, id: string): Promise<Voucher | undefined> {
    return this.#run(["vouchers"], "readonly", (tx, done) => {
      const read = tx.objectStore("vouchers").get(voucherKey(direction, id.toLowerCase()));
      read.onsuccess = () => done(read.result as Voucher | undefined);
    });
  }

  getCursor(name: string): Promise<bigint | undefined> {
    return this.#run(["cursors"], "readonly", (tx, done) => {
      const read = tx.objectStore("cursors").get(name);
      read.onsuccess = () => done(read.result as bigint | undefined);
    });
  }

  setCursor(name: string, block: bigint): Promise<void> {
    return this.#run<void>(["cursors"], "readwrite", (tx, done) => {
      tx.objectStore("cursors").put(block, name).onsuccess = () => done(undefined);
    });
  }

  markEventHandled(key: string): Promise<boolean> {
    return this.#run(["events"], "readwrite", (tx, done) => {
      const events = tx.objectStore("events");
      // add() fails on an existing key; count() first keeps the transaction from aborting.
      const seen = events.count(key);
      seen.onsuccess = () => {
        if (seen.result > 0) return done(false);
        events.add(true, key).onsuccess = () => done(true);
      };
    });
  }

  hasHandledEvent(key: string): Promise<boolean> {
    return this.#run(["events"], "readonly", (tx, done) => {
      const seen = tx.objectStore("events").count(key);
      seen.onsuccess = () => done(seen.result > 0);
    });
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

function voucherKey(direction: VoucherDirection, id: string): string {
  return `${direction}:${id}`;
}

function recordOf(row: ChannelRow | undefined): ChannelRecord | undefined {
  return row && { ...row.record, phase: row.phase };
}
