import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { PiecepayError } from "../errors.js";
import type { SignedVariablePart } from "../types.js";
import type { Voucher } from "../voucher.js";
import { fromJson, toJson } from "./json.js";
import type { ChannelPhase, ChannelRecord, ChannelStore, VoucherDirection } from "./types.js";

// 1: channels, states, vouchers, the watcher's progress. 2: adds `secrets` (the session key). Every table is created
// if missing, so a file of an older schema opens and gains what it lacks; a newer one is refused.
const SCHEMA_VERSION = 2;

// Amounts and turn numbers are stored as fixed-width hex so that SQLite compares them correctly as text:
// the "only keep a larger voucher" rule then holds inside one statement, with no read-modify-write race.
const width = (n: bigint, digits: number) => n.toString(16).padStart(digits, "0");

/**
 * A `ChannelStore` in an SQLite file (Node's built-in `node:sqlite`), in WAL mode with `synchronous=FULL`:
 * a write is on disk when its promise resolves, so a process killed right after it loses nothing. Each method runs
 * synchronously (`DatabaseSync`) and then resolves: no other call on this instance runs between its read and its
 * write, and its transactions (BEGIN IMMEDIATE) keep other processes sharing the file out as well. With
 * `{ commit: "group" }` (SqliteStoreOptions) writes are committed in groups instead, and on disk once `flushed()`
 * resolves.
 * @example const store = new SqliteChannelStore(".piecepay/channels.db")
 */
/**
 * What every connection sets first. The busy timeout comes before anything that may touch a lock: switching to WAL
 * (or recovering another process's WAL) with no busy handler yet failed at once with "database is locked" when
 * processes opened the same store together (`piecepay channels` three at a time did, in CI).
 */
export const OPEN_PRAGMAS = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

/** How a `SqliteChannelStore` commits. */
export interface SqliteStoreOptions {
  /**
   * "each" (the default): every write is its own transaction, fsynced before its promise resolves.
   * "group": the writes made in one turn of the event loop share one transaction, committed in the loop's next
   * check phase (`setImmediate`), or, while an fdatasync runs, once it ends (with the writes of every turn
   * meanwhile). The commit only writes the WAL file (synchronous = NORMAL); an fdatasync of that
   * file, on libuv's thread pool, then makes it durable while the event loop goes on serving, one fdatasync at a
   * time for every group committed before it. A write resolves once applied, NOT once on disk: `flushed()`
   * resolves when everything written so far is, and rejects if a commit or an fdatasync failed, then and ever after
   * (fail-stop: whoever read the lost writes must start again from the file). So this store does not keep
   * ChannelStore's "on disk when it resolves" by itself: its caller must await `flushed()` before anything that
   * depends on a write leaves the process (an answer, a signature, a transaction). For a server that serves many
   * requests at once (the hub), whose event loop one fsync per write held most of the time.
   */
  commit?: "each" | "group";
}

/** A transaction that collects the writes of one turn of the event loop (group commit). */
interface Group {
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

export class SqliteChannelStore implements ChannelStore {
  readonly #db: DatabaseSync;
  readonly #groupCommit: boolean;
  #group: Group | undefined;
  /** The latest group's `done`; groups are made durable in order, so it resolves after every earlier one. */
  #last: Promise<void> | undefined;
  /** Groups committed to the WAL file, waiting for the next fdatasync of it. */
  #unsynced: Group[] = [];
  #syncing = false;
  /** The first failed commit or fdatasync: from then on every group is refused (fail-stop; see #sync). */
  #failed: Error | undefined;
  /**
   * Group mode: the channel records and supported states written in the open group, as the JSON each row will hold
   * (its latest version), written to SQLite once, when the group commits: a hub rewrites a ledger's record several
   * times a group, and every statement cost it CPU. Reads see them first.
   */
  readonly #stagedChannels = new Map<string, { json: string; phase: ChannelPhase }>();
  readonly #stagedStates = new Map<string, { json: string; turnNum: bigint }>();
  /** The WAL file, open for fdatasync (group mode on a file). */
  #wal: number | undefined;
  /** Prepared statements by SQL text: preparing one again on every call was a measurable part of the hub's CPU. */
  readonly #statements = new Map<string, StatementSync>();

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    this.#groupCommit = options.commit === "group";
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec(OPEN_PRAGMAS);
    const { user_version: version } = this.#prepare("PRAGMA user_version").get() as { user_version: number };
    if (version > SCHEMA_VERSION) {
      this.#db.close();
      throw new PiecepayError(
        "STORE_NEWER_SCHEMA",
        `${path} was written by a newer piecepay (schema ${version}); upgrade piecepay to open it`,
      );
    }
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS channels (
        id TEXT PRIMARY KEY, record TEXT NOT NULL, phase TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS supported_states (
        channel_id TEXT PRIMARY KEY, turn_num TEXT NOT NULL, state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS vouchers (
        channel_id TEXT NOT NULL, direction TEXT NOT NULL, amount TEXT NOT NULL, signature TEXT NOT NULL,
        PRIMARY KEY (channel_id, direction));
      CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, block TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS handled_events (key TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    if (this.#groupCommit && path !== ":memory:") {
      // Commits only write the WAL file; #sync makes them durable with an fdatasync off the event loop. The file
      // exists from the write above on, and stays (the same inode) while this connection is open.
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#wal = openSync(`${path}-wal`, "r");
      // The WAL file's name must survive a power cut too: SQLite would sync its folder on the file's first fsync,
      // which in NORMAL mode waits for a checkpoint.
      const folder = openSync(dirname(path), "r");
      try {
        fsyncSync(folder);
      } finally {
        closeSync(folder);
      }
    }
  }

  async putChannel(record: ChannelRecord): Promise<void> {
    return this.#write(() => this.#putChannel(record));
  }

  #putChannel(record: ChannelRecord): void {
    if (this.#groupCommit) {
      const key = record.id.toLowerCase();
      // Deleted first, so that the staged rows keep the order of their latest writes (updated_at at the commit).
      this.#stagedChannels.delete(key);
      this.#stagedChannels.set(key, { json: toJson(record), phase: record.phase });
      return;
    }
    this.#prepare("INSERT OR REPLACE INTO channels (id, record, phase, updated_at) VALUES (?, ?, ?, ?)").run(
      record.id.toLowerCase(),
      toJson(record),
      record.phase,
      Date.now(),
    );
  }

  async getChannel(id: string): Promise<ChannelRecord | undefined> {
    return this.#getChannel(id);
  }

  #getChannel(id: string): ChannelRecord | undefined {
    const staged = this.#stagedChannels.get(id.toLowerCase());
    if (staged !== undefined) return { ...(fromJson(staged.json) as ChannelRecord), phase: staged.phase };
    const row = this.#prepare("SELECT record, phase FROM channels WHERE id = ?").get(id.toLowerCase()) as
      | { record: string; phase: ChannelPhase }
      | undefined;
    return row && { ...(fromJson(row.record) as ChannelRecord), phase: row.phase };
  }

  async listChannels(): Promise<ChannelRecord[]> {
    this.#writeStaged();
    const rows = this.#prepare("SELECT record, phase FROM channels ORDER BY updated_at").all() as {
      record: string;
      phase: ChannelPhase;
    }[];
    return rows.map((row) => ({ ...(fromJson(row.record) as ChannelRecord), phase: row.phase }));
  }

  async updateChannel(
    id: string,
    update: (record: ChannelRecord) => ChannelRecord | undefined,
  ): Promise<ChannelRecord | undefined> {
    const key = id.toLowerCase();
    // Group mode: the read, the update and the staged write happen in one synchronous step; nothing to roll back.
    return (this.#groupCommit ? this.#write.bind(this) : this.#atomic.bind(this))(() => {
      const record = this.#getChannel(key);
      const updated = record && update(record);
      if (updated) {
        if (updated.id.toLowerCase() !== key) {
          throw new PiecepayError("INVALID_UPDATE", `updateChannel(${id}) returned channel ${updated.id}`);
        }
        this.#putChannel(updated);
      }
      return updated ?? record;
    });
  }

  async setPhase(id: string, phase: ChannelPhase): Promise<void> {
    return this.#write(() => {
      this.#writeStaged();
      const { changes } = this.#prepare("UPDATE channels SET phase = ?, updated_at = ? WHERE id = ?").run(
        phase,
        Date.now(),
        id.toLowerCase(),
      );
      if (changes === 0) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
    });
  }

  async forgetUnfunded(id: string): Promise<boolean> {
    const key = id.toLowerCase();
    // Before the savepoint: rolling it back must not take the staged rows with it.
    this.#writeStaged();
    return this.#atomic(() => {
      const record = this.#getChannel(key);
      const vouchers = this.#prepare("SELECT 1 FROM vouchers WHERE channel_id = ?").get(key);
      const unfunded = record?.phase === "proposed" && record.deposited === 0n && vouchers === undefined;
      if (unfunded) {
        this.#prepare("DELETE FROM channels WHERE id = ?").run(key);
        this.#prepare("DELETE FROM supported_states WHERE channel_id = ?").run(key);
      }
      return unfunded;
    });
  }

  async putSupportedState(id: string, state: SignedVariablePart): Promise<boolean> {
    return this.#write(() => this.#putSupportedState(id, state));
  }

  #putSupportedState(id: string, state: SignedVariablePart): boolean {
    if (this.#groupCommit) {
      const key = id.toLowerCase();
      const turnNum = state.variablePart.turnNum;
      const staged = this.#stagedStates.get(key);
      if (staged !== undefined) {
        if (turnNum <= staged.turnNum) return false;
      } else {
        const row = this.#prepare("SELECT turn_num FROM supported_states WHERE channel_id = ?").get(key) as
          | { turn_num: string }
          | undefined;
        if (row !== undefined && width(turnNum, 12) <= row.turn_num) return false;
      }
      this.#stagedStates.set(key, { json: toJson(state), turnNum });
      return true;
    }
    const { changes } = this.#prepare(
      `INSERT INTO supported_states (channel_id, turn_num, state) VALUES (?, ?, ?)
         ON CONFLICT (channel_id) DO UPDATE SET turn_num = excluded.turn_num, state = excluded.state
         WHERE excluded.turn_num > supported_states.turn_num`,
    ).run(id.toLowerCase(), width(state.variablePart.turnNum, 12), toJson(state));
    return changes > 0;
  }

  async getSupportedState(id: string): Promise<SignedVariablePart | undefined> {
    const staged = this.#stagedStates.get(id.toLowerCase());
    if (staged !== undefined) return fromJson(staged.json) as SignedVariablePart;
    const row = this.#prepare("SELECT state FROM supported_states WHERE channel_id = ?").get(id.toLowerCase()) as
      | { state: string }
      | undefined;
    return row && (fromJson(row.state) as SignedVariablePart);
  }

  async putVoucher(direction: VoucherDirection, voucher: Voucher): Promise<{ kept: boolean; previous: bigint }> {
    const id = voucher.channelId.toLowerCase();
    if (this.#groupCommit) return this.#atomic(() => this.#putVoucher(id, direction, voucher));
    // A received voucher is money we are owed: it is fsynced before this returns (synchronous=FULL), so it survives
    // even a power cut. A sent voucher only records what we promised (the payee holds the proof), so it is written
    // with synchronous=NORMAL: in WAL mode that survives any crash of this process, only an OS crash or power cut
    // can lose it, and then the next voucher we sign just has to exceed what the payee holds. That halves the fsyncs
    // of a transfer, each of which blocks the event loop for milliseconds.
    // (In group mode every write shares its group's fsync: nothing to halve.)
    if (direction === "sent") this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      return await this.#atomic(() => this.#putVoucher(id, direction, voucher));
    } finally {
      if (direction === "sent") this.#db.exec("PRAGMA synchronous = FULL");
    }
  }

  #putVoucher(id: string, direction: VoucherDirection, voucher: Voucher): { kept: boolean; previous: bigint } {
    const row = this.#prepare("SELECT amount FROM vouchers WHERE channel_id = ? AND direction = ?").get(
      id,
      direction,
    ) as { amount: string } | undefined;
    const previous = row ? BigInt(`0x${row.amount}`) : 0n;
    const kept = row === undefined || voucher.amount > previous;
    if (kept) {
      this.#prepare(
        "INSERT OR REPLACE INTO vouchers (channel_id, direction, amount, signature) VALUES (?, ?, ?, ?)",
      ).run(id, direction, width(voucher.amount, 64), voucher.signature);
    }
    return { kept, previous };
  }

  async getVoucher(direction: VoucherDirection, id: string): Promise<Voucher | undefined> {
    const row = this.#prepare("SELECT amount, signature FROM vouchers WHERE channel_id = ? AND direction = ?").get(
      id.toLowerCase(),
      direction,
    ) as { amount: string; signature: string } | undefined;
    return row && { channelId: id.toLowerCase(), amount: BigInt(`0x${row.amount}`), signature: row.signature };
  }

  async getCursor(name: string): Promise<bigint | undefined> {
    const row = this.#prepare("SELECT block FROM cursors WHERE name = ?").get(name) as { block: string } | undefined;
    return row && BigInt(row.block);
  }

  async setCursor(name: string, block: bigint): Promise<void> {
    return this.#write(() => {
      this.#prepare("INSERT OR REPLACE INTO cursors (name, block) VALUES (?, ?)").run(name, block.toString());
    });
  }

  async markEventHandled(key: string): Promise<boolean> {
    return this.#write(
      () => this.#prepare("INSERT OR IGNORE INTO handled_events (key) VALUES (?)").run(key).changes > 0,
    );
  }

  async hasHandledEvent(key: string): Promise<boolean> {
    return this.#prepare("SELECT 1 FROM handled_events WHERE key = ?").get(key) !== undefined;
  }

  async getSecret(name: string): Promise<string | undefined> {
    const row = this.#prepare("SELECT value FROM secrets WHERE name = ?").get(name) as { value: string } | undefined;
    return row?.value;
  }

  async keepSecret(name: string, value: string): Promise<string> {
    // One statement inserts unless present; the read after it sees whichever writer won (also another process's).
    return this.#write(() => {
      this.#prepare("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)").run(name, value);
      return (this.#prepare("SELECT value FROM secrets WHERE name = ?").get(name) as { value: string }).value;
    });
  }

  /**
   * Resolves once every write made so far is on disk (at once in "each" mode, where each write is on disk as it
   * resolves); rejects if their commit failed.
   * @example await store.flushed() // before sending a signature read from the store
   */
  flushed(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return this.#last ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#group !== undefined) this.#commit();
    // No fdatasync may be left running on the descriptor closed below.
    await this.#last?.catch(() => {});
    const wal = this.#wal;
    this.#wal = undefined;
    try {
      if (wal !== undefined) closeSync(wal);
    } finally {
      if (this.#db.isOpen) this.#db.close(); // also when the descriptor is gone (its close then throws)
    }
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * One statement: autocommitted, or in the open group. It needs no savepoint there: a statement that fails is
   * undone by SQLite alone, the group's other writes staying.
   */
  #write<T>(work: () => T): Promise<T> {
    if (this.#groupCommit && this.#group === undefined) this.#openGroup();
    return Promise.resolve(work());
  }

  /**
   * Runs `work` atomically. Alone: in its own BEGIN IMMEDIATE transaction (the write lock before the read, so that no
   * other process writes in between), committed before this resolves. Group mode: in a savepoint of the open
   * group (rolled back alone if `work` throws); on disk once `flushed()` resolves.
   */
  #atomic<T>(work: () => T): Promise<T> {
    if (!this.#groupCommit) {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        this.#db.exec("COMMIT");
        return Promise.resolve(result);
      } catch (error) {
        this.#db.exec("ROLLBACK");
        return Promise.reject(error);
      }
    }
    if (this.#group === undefined) this.#openGroup();
    // Prepared once: exec would parse the SQL again for every write.
    this.#prepare("SAVEPOINT write").run();
    let result: T;
    try {
      result = work();
      this.#prepare("RELEASE write").run();
    } catch (error) {
      this.#prepare("ROLLBACK TO write").run();
      this.#prepare("RELEASE write").run();
      return Promise.reject(error);
    }
    return Promise.resolve(result);
  }

  #openGroup(): void {
    this.#prepare("BEGIN IMMEDIATE").run();
    let resolve = () => {};
    let reject: (error: unknown) => void = () => {};
    const done = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // Nobody may be waiting for this group: its failure is then theirs who call flushed(), not unhandled.
    done.catch(() => {});
    const group = { done, resolve, reject };
    this.#group = group;
    this.#last = done;
    setImmediate(() => {
      // While an fdatasync runs, the group stays open and takes the next turns' writes too; it is committed when
      // that fdatasync ends (#sync). Under load one commit then covers many turns: each commit writes every page it
      // touched to the WAL again, and the hub's ledger pages were in nearly every group.
      if (this.#group === group && !this.#syncing) this.#commit();
    });
  }

  /**
   * Commits the open group: its frames go to the WAL file (synchronous = NORMAL: written, not fsynced), then wait
   * for the next fdatasync of that file, which runs on libuv's thread pool while the event loop serves the next
   * requests. One fdatasync at a time, each covering every group committed before it started.
   */
  #commit(): void {
    const group = this.#group as Group;
    this.#group = undefined;
    try {
      // A statement that failed on I/O or memory may have rolled the whole transaction back: then it is lost.
      if (!this.#db.isTransaction) throw new PiecepayError("STORE_ROLLED_BACK", "the group's transaction rolled back");
      this.#writeStaged();
      this.#prepare("COMMIT").run();
    } catch (error) {
      this.#stagedChannels.clear();
      this.#stagedStates.clear();
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      // Its writes were applied and read (by the hub, into its memory): from here on nothing counts as on disk.
      this.#failed ??= error as Error;
      group.reject(error);
      return;
    }
    this.#unsynced.push(group);
    this.#sync();
  }

  /** Writes the staged rows into the open group's transaction (at its commit, or before a statement that needs them). */
  #writeStaged(): void {
    if (this.#stagedChannels.size === 0 && this.#stagedStates.size === 0) return;
    const now = Date.now();
    const channel = this.#prepare(
      "INSERT OR REPLACE INTO channels (id, record, phase, updated_at) VALUES (?, ?, ?, ?)",
    );
    for (const [key, { json, phase }] of this.#stagedChannels) channel.run(key, json, phase, now);
    this.#stagedChannels.clear();
    const state = this.#prepare(
      `INSERT INTO supported_states (channel_id, turn_num, state) VALUES (?, ?, ?)
         ON CONFLICT (channel_id) DO UPDATE SET turn_num = excluded.turn_num, state = excluded.state
         WHERE excluded.turn_num > supported_states.turn_num`,
    );
    for (const [key, { json, turnNum }] of this.#stagedStates) state.run(key, width(turnNum, 12), json);
    this.#stagedStates.clear();
  }

  #sync(): void {
    if (this.#syncing || this.#unsynced.length === 0) return;
    const batch = this.#unsynced;
    this.#unsynced = [];
    if (this.#failed !== undefined || this.#wal === undefined) {
      for (const group of batch) this.#failed === undefined ? group.resolve() : group.reject(this.#failed);
      return;
    }
    this.#syncing = true;
    fdatasync(this.#wal, (error) => {
      this.#syncing = false;
      // An fsync that failed may have lost pages that a later one would not report: from then on nothing written
      // by this store counts as on disk (fail-stop; the process must restart and read what the file holds).
      if (error) this.#failed ??= error;
      for (const group of batch) this.#failed === undefined ? group.resolve() : group.reject(this.#failed);
      if (this.#group !== undefined)
        this.#commit(); // the group held open while this fdatasync ran; it syncs next
      else this.#sync();
    });
  }
}
