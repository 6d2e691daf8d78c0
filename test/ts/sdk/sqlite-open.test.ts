// Processes that open one SQLite store at the same moment (three `piecepay channels` on one data dir, a seeder and
// its watcher) all get in: each connection sets its busy timeout before anything that may take a lock. With the
// timeout set after `journal_mode = WAL`, 6 of 160 such opens failed with "database is locked" on 2 cores.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { OPEN_PRAGMAS, SqliteChannelStore } from "../../../sdk/store/sqlite.js";

/** A process that opens `file` as the store does (its pragmas, then a write), and says whether it could. */
function openIn(file: string): Promise<string> {
  const code = `
    const { DatabaseSync } = require("node:sqlite");
    const db = new DatabaseSync(process.argv[1]);
    try {
      db.exec(process.argv[2]);
      db.exec("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY); PRAGMA user_version = 1;");
      db.close();
      console.log("ok");
    } catch (error) {
      console.log(error.message);
    }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", code, file, OPEN_PRAGMAS], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", () => resolve(out.trim()));
  });
}

describe("SqliteChannelStore opened by several processes at once", function () {
  this.timeout(120_000);

  it("every one of 10 rounds of 8 processes opening one store together gets in: no 'database is locked'", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "piecepay-sqlite-open-"));
    try {
      const outcomes: string[] = [];
      for (let round = 0; round < 10; round++) {
        const file = path.join(dir, `round-${round}.db`);
        await new SqliteChannelStore(file).close(); // the store exists, in WAL mode, closed: the next opener recovers it
        outcomes.push(...(await Promise.all(Array.from({ length: 8 }, () => openIn(file)))));
      }
      expect(outcomes.filter((o) => o !== "ok")).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
