// The stores: the conformance cases (store-conformance.ts) on SqliteChannelStore, on disk in a temp dir, and on
// MemoryChannelStore; then what only the SQLite file promises: a newer schema refused, and the larger-voucher-only
// rule held across two processes writing one file at once. The kill-a-process tests for each step of a channel's
// life live with the SDK actions that write to it.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { IDBFactory } from "fake-indexeddb";
import {
  fromJson,
  IndexedDbChannelStore,
  MemoryChannelStore,
  SqliteChannelStore,
  sessionKey,
} from "../../../sdk/node.js";
import { CHANNEL, describeChannelStore, expectOneChain, RECORD, state } from "./store-conformance.js";

const STATE = state(3n);

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const RACER = fileURLToPath(new URL("./store-racer.ts", import.meta.url));

describe("stores", function () {
  let dir: string;
  let file: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "piecepay-store-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  let files = 0;
  describeChannelStore("SqliteChannelStore", {
    open: async () => {
      file = join(dir, `nested-${files++}`, "channels.db"); // the folder is created too
      return new SqliteChannelStore(file);
    },
    reopen: async () => new SqliteChannelStore(file),
  });

  describeChannelStore('SqliteChannelStore, commit: "group"', {
    open: async () => {
      file = join(dir, `group-${files++}`, "channels.db");
      return new SqliteChannelStore(file, { commit: "group" });
    },
    reopen: async () => new SqliteChannelStore(file, { commit: "group" }),
  });

  describeChannelStore("MemoryChannelStore", { open: async () => new MemoryChannelStore() });

  const idb = new IDBFactory();
  let databases = 0;
  describeChannelStore("IndexedDbChannelStore (fake-indexeddb)", {
    open: () => IndexedDbChannelStore.open(`conformance-${++databases}`, idb),
    reopen: () => IndexedDbChannelStore.open(`conformance-${databases}`, idb),
  });

  describe("IndexedDbChannelStore (fake-indexeddb)", function () {
    it("opens a database of schema 1 (before secrets): its channel stays, and a session key can be kept", async function () {
      const factory = new IDBFactory();
      const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = factory.open("v1", 1);
        request.onupgradeneeded = () => {
          for (const name of ["channels", "states", "vouchers", "cursors", "events", "meta"]) {
            request.result.createObjectStore(name);
          }
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = v1.transaction(["channels"], "readwrite");
        tx.objectStore("channels").put({ id: CHANNEL, record: RECORD, phase: "open", seq: 1 }, CHANNEL);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      v1.close();
      const store = await IndexedDbChannelStore.open("v1", factory);
      expect(await store.getChannel(CHANNEL)).to.deep.equal(RECORD);
      const key = await sessionKey(store);
      await store.close();
      const again = await IndexedDbChannelStore.open("v1", factory);
      expect((await sessionKey(again)).address).to.equal(key.address);
      await again.close();
    });
  });

  describe("SqliteChannelStore", function () {
    it("opens a file of schema 1 (before secrets): its channel stays, the file moves to schema 2, a session key is kept", async function () {
      const path = join(dir, "v1.db");
      const before = new SqliteChannelStore(path);
      await before.putChannel(RECORD);
      await before.close();
      // Schema 1 is schema 2 without the secrets table.
      const raw = new DatabaseSync(path);
      raw.exec("DROP TABLE secrets; PRAGMA user_version = 1");
      raw.close();
      const store = new SqliteChannelStore(path);
      expect(await store.getChannel(CHANNEL)).to.deep.equal(RECORD);
      const key = await sessionKey(store);
      await store.close();
      const check = new DatabaseSync(path);
      expect(check.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: 2 });
      check.close();
      const again = new SqliteChannelStore(path);
      expect((await sessionKey(again)).address).to.equal(key.address);
      await again.close();
    });

    it("refuses a database written by a newer schema, with what to do", async function () {
      const path = join(dir, "newer.db");
      await new SqliteChannelStore(path).close();
      const raw = new DatabaseSync(path);
      raw.exec("PRAGMA user_version = 99");
      raw.close();
      expect(() => new SqliteChannelStore(path))
        .to.throw(/newer piecepay.*upgrade/)
        .with.property("code", "STORE_NEWER_SCHEMA");
    });

    describe('with commit: "group"', function () {
      /** What another connection to the file sees of `CHANNEL`: only what is committed. */
      const committed = (path: string) => {
        const reader = new DatabaseSync(path);
        try {
          return reader.prepare("SELECT phase FROM channels WHERE id = ?").get(CHANNEL) as
            | { phase: string }
            | undefined;
        } finally {
          reader.close();
        }
      };

      it("commits the writes of one turn of the event loop together: on disk once flushed() resolves", async function () {
        const path = join(dir, "group-commit.db");
        const store = new SqliteChannelStore(path, { commit: "group" });
        const writes = [
          store.putChannel(RECORD),
          store.putSupportedState(CHANNEL, STATE),
          store.setPhase(CHANNEL, "closing"),
        ];
        // Applied (this connection reads them, each write resolves) but not committed: no other connection sees them.
        await Promise.all(writes);
        expect((await store.getChannel(CHANNEL))?.phase).to.equal("closing");
        expect(committed(path)).to.equal(undefined);
        await store.flushed();
        expect(committed(path)).to.deep.include({ phase: "closing" });
        // A later turn's writes go in a group of their own.
        await store.setPhase(CHANNEL, "finalized");
        expect(committed(path)).to.deep.include({ phase: "closing" });
        await store.flushed();
        expect(committed(path)).to.deep.include({ phase: "finalized" });
        await store.close();
      });

      it("rolls back only the write that failed; the rest of its group commits", async function () {
        const path = join(dir, "group-failure.db");
        const store = new SqliteChannelStore(path, { commit: "group" });
        await store.putChannel(RECORD);
        const other = { ...RECORD, id: `0x${"cd".repeat(32)}` };
        const good = store.putChannel(other);
        const bad = store.updateChannel(CHANNEL, (r) => ({ ...r, id: other.id, phase: "finalized" }));
        const phase = store.setPhase(CHANNEL, "closing");
        const error = await bad.then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.message).to.match(/returned channel/);
        await Promise.all([good, phase, store.flushed()]);
        await store.close();
        const again = new SqliteChannelStore(path);
        expect((await again.getChannel(other.id))?.phase).to.equal("open");
        expect((await again.getChannel(CHANNEL))?.phase).to.equal("closing");
        await again.close();
      });

      it("keeps one row per record of a group, its latest write; reads, the turn rule and listings see the group's writes", async function () {
        const path = join(dir, "group-staged.db");
        const store = new SqliteChannelStore(path, { commit: "group" });
        await store.putChannel(RECORD);
        await store.putSupportedState(CHANNEL, state(5n));
        await store.flushed();
        // One turn: the record rewritten three times, the state raised twice, a lower state refused against what
        // this group holds and against what the file holds.
        const writes = [
          store.putChannel({ ...RECORD, phase: "funding" }),
          store.updateChannel(CHANNEL, (r) => ({ ...r, phase: "closing", deposited: 7n })),
          store.updateChannel(CHANNEL, (r) => ({ ...r, deposited: r.deposited + 1n })),
          store.putSupportedState(CHANNEL, state(4n)),
          store.putSupportedState(CHANNEL, state(6n)),
          store.putSupportedState(CHANNEL, state(6n)),
          store.putSupportedState(CHANNEL, state(9n)),
        ];
        expect(await Promise.all(writes)).to.deep.equal([
          undefined,
          { ...RECORD, phase: "closing", deposited: 7n },
          { ...RECORD, phase: "closing", deposited: 8n },
          false,
          true,
          false,
          true,
        ]);
        expect(await store.getChannel(CHANNEL)).to.deep.include({ phase: "closing", deposited: 8n });
        expect((await store.getSupportedState(CHANNEL))?.variablePart.turnNum).to.equal(9n);
        expect(committed(path)).to.deep.include({ phase: "open" }); // the file still holds the last group's
        expect((await store.listChannels()).map((r) => [r.phase, r.deposited])).to.deep.equal([["closing", 8n]]);
        await store.flushed();
        await store.close();
        const again = new SqliteChannelStore(path);
        expect(await again.getChannel(CHANNEL)).to.deep.include({ phase: "closing", deposited: 8n });
        expect((await again.getSupportedState(CHANNEL))?.variablePart.turnNum).to.equal(9n);
        // A record handed to the store and changed afterwards by its caller: the store keeps what was written.
        const mine = { ...RECORD, phase: "open" as const };
        await again.close();
        const third = new SqliteChannelStore(path, { commit: "group" });
        await third.putChannel(mine);
        mine.deposited = 999n;
        expect((await third.getChannel(CHANNEL))?.deposited).to.equal(RECORD.deposited);
        await third.close();
      });

      it("stops for good after a failed fdatasync: flushed() and every later group reject, and the file keeps what was synced", async function () {
        // The store's own descriptor of its WAL file (read-only; SQLite's is read-write) is closed under it, so that
        // its next fdatasync fails (EBADF) as a failing disk would make it: the fail-stop path of ADR 0022.
        if (process.platform !== "linux") this.skip();
        const path = join(dir, "group-fail-stop.db");
        const store = new SqliteChannelStore(path, { commit: "group" });
        await store.putChannel(RECORD);
        await store.flushed();
        const wal = readdirSync("/proc/self/fd").find((fd) => {
          try {
            const target = readlinkSync(`/proc/self/fd/${fd}`);
            const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? "";
            return target === `${path}-wal` && (Number.parseInt(flags, 8) & 3) === 0; // O_RDONLY
          } catch {
            return false;
          }
        });
        expect(wal, "the store's read-only descriptor of its WAL file").to.not.equal(undefined);
        closeSync(Number(wal));
        await store.setPhase(CHANNEL, "closing"); // applied: it resolves, but it is not on disk
        const failed = await store.flushed().then(
          () => undefined,
          (error: Error & { code?: string }) => error,
        );
        expect(failed?.code).to.equal("EBADF");
        // From then on nothing counts as on disk, not even a write that would commit and sync.
        await store.setPhase(CHANNEL, "finalized").catch(() => undefined);
        const later = await store.flushed().then(
          () => undefined,
          (error: Error) => error,
        );
        expect(later).to.equal(failed);
        // Closing still closes the database; closing the descriptor already closed above is its error.
        expect(
          await store.close().then(
            () => "closed",
            (error: Error & { code?: string }) => error.code,
          ),
        ).to.equal("EBADF");
        // What was synced before the failure is there; the process that restarts reads the file, not its memory.
        const again = new SqliteChannelStore(path);
        expect((await again.getChannel(CHANNEL))?.id).to.equal(CHANNEL);
        await again.close();
      });

      it("commits a group still open when it closes", async function () {
        const path = join(dir, "group-close.db");
        const store = new SqliteChannelStore(path, { commit: "group" });
        const write = store.putChannel(RECORD);
        await store.close();
        await write;
        expect(committed(path)).to.deep.include({ phase: "open" });
      });
    });

    it("keeps the larger-voucher-only rule across two processes writing one file at once", async function () {
      this.timeout(60_000);
      const path = join(dir, "shared.db");
      await new SqliteChannelStore(path).close(); // the schema, before two processes race to create it
      const racers = [0, 1].map(() => {
        const child = spawn(process.execPath, [TSX, RACER, path, "150"], { cwd: ROOT });
        let stderr = "";
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
        return { child, lines, exited, stderr: () => stderr };
      });
      for (const racer of racers) {
        const ready = await racer.lines.next();
        expect(ready.value, racer.stderr()).to.equal("ready");
      }
      for (const racer of racers) racer.child.stdin.write("go\n");
      const perProcess: { amount: bigint; kept: boolean; previous: bigint }[][] = [];
      for (const racer of racers) {
        const line = await racer.lines.next();
        expect(line.done, racer.stderr()).to.not.equal(true);
        perProcess.push(fromJson(String(line.value)) as { amount: bigint; kept: boolean; previous: bigint }[]);
        expect(await racer.exited, racer.stderr()).to.equal(0);
      }
      // Within one process the writes ran in order: what it kept rises.
      for (const results of perProcess) {
        const kept = results.filter((r) => r.kept).map((r) => r.amount);
        for (let i = 1; i < kept.length; i++) expect(kept[i] > kept[i - 1]).to.equal(true);
      }
      // Across both, one chain: every kept voucher credited exactly what it added over the one before it.
      const all = perProcess.flat();
      const largest = all.reduce((a, r) => (r.amount > a ? r.amount : a), 0n);
      expect(expectOneChain(all)).to.equal(largest);
      const store = new SqliteChannelStore(path);
      expect((await store.getVoucher("received", CHANNEL))?.amount).to.equal(largest);
      await store.close();
    });
  });
});
