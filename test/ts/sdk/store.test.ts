// The stores: the conformance cases (store-conformance.ts) on SqliteChannelStore, on disk in a temp dir, on
// MemoryChannelStore and on IndexedDbChannelStore under fake-indexeddb (test/ts/browser/ tests that store in
// Chromium); then what only the SQLite file promises: a newer schema refused, and the larger-voucher-only
// rule held across two processes writing one file at once. The kill-a-process tests for each step of a channel's
// life live with the SDK actions that write to it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { IDBFactory } from "fake-indexeddb";
import { fromJson, IndexedDbChannelStore, MemoryChannelStore, SqliteChannelStore } from "../../../sdk/node.js";
import { CHANNEL, describeChannelStore, expectOneChain } from "./store-conformance.js";

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

  describeChannelStore("MemoryChannelStore", { open: async () => new MemoryChannelStore() });

  // fake-indexeddb in Node, beside the real Chromium runs of test/ts/browser/: a fresh factory per store, so that no
  // two tests share a database; the reopen opens the same database on the same factory.
  let factory = new IDBFactory();
  describeChannelStore("IndexedDbChannelStore (fake-indexeddb)", {
    open: async () => {
      factory = new IDBFactory();
      return IndexedDbChannelStore.open("piecepay", factory);
    },
    reopen: async () => IndexedDbChannelStore.open("piecepay", factory),
  });

  describe("SqliteChannelStore", function () {
    it("refuses a database written by a newer schema, with what to do", async function () {
      const path = join(dir, "newer.db");
      await new SqliteChannelStore(path).close();
      const raw = new DatabaseSync(path);
      raw.exec("PRAGMA user_version = 99");
      raw.close();
      expect(() => new SqliteChannelStore(path)).to.throw(/newer piecepay.*upgrade/);
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
