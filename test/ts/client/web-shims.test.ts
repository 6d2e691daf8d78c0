// The shims a page's bundle gives webtorrent's browser build: client/web/shims/path.ts answers as Node's posix path
// does for the paths a torrent holds (file names, folders, `..` and `.` that a hostile torrent may carry, repeated
// and trailing separators); client/web/shims/events.ts serves both ways its users inherit from EventEmitter.
import { posix } from "node:path";
import { expect } from "chai";
import { EventEmitter } from "../../../client/web/shims/events.js";
import * as shim from "../../../client/web/shims/path.js";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "/a",
  "/a/b",
  "a//b",
  "a/./b",
  "a/../b",
  "../a",
  "../../a/b",
  "/../a",
  "/a/../../b",
  "a/b/../../..",
  "./a/b/",
  "film.mkv",
  "folder/film.tar.gz",
  ".hidden",
  "dir/.hidden",
  "a.b/c",
];

describe("client/web/shims/path: Node's posix path for a page", function () {
  it("normalize, dirname, basename, extname and isAbsolute agree with Node's on every path", function () {
    for (const path of PATHS) {
      expect(shim.normalize(path), `normalize(${JSON.stringify(path)})`).to.equal(posix.normalize(path));
      expect(shim.dirname(path), `dirname(${JSON.stringify(path)})`).to.equal(posix.dirname(path));
      expect(shim.basename(path), `basename(${JSON.stringify(path)})`).to.equal(posix.basename(path));
      expect(shim.extname(path), `extname(${JSON.stringify(path)})`).to.equal(posix.extname(path));
      expect(shim.isAbsolute(path)).to.equal(posix.isAbsolute(path));
    }
    expect(shim.basename("folder/film.mkv", ".mkv")).to.equal(posix.basename("folder/film.mkv", ".mkv"));
  });

  it("join agrees with Node's on every pair of paths, and as parse-torrent joins a torrent's file path", function () {
    for (const a of PATHS) {
      for (const b of PATHS) {
        expect(shim.join(a, b), `join(${JSON.stringify(a)}, ${JSON.stringify(b)})`).to.equal(posix.join(a, b));
      }
    }
    const parts = ["name", "..", "..", "etc", "passwd"];
    expect(shim.join(shim.sep, ...parts)).to.equal(posix.join(posix.sep, ...parts));
  });

  it("resolve agrees with Node's for absolute paths (a page has no working directory)", function () {
    for (const a of PATHS.filter((p) => p.startsWith("/"))) {
      for (const b of PATHS) {
        expect(shim.resolve(a, b), `resolve(${JSON.stringify(a)}, ${JSON.stringify(b)})`).to.equal(posix.resolve(a, b));
      }
    }
  });
});

describe("client/web/shims/events: an EventEmitter for a page", function () {
  it("works when a constructor function calls it (lru's `EventEmitter.call(this)`) and when a class extends it", function () {
    type Emitter = InstanceType<typeof EventEmitter>;
    function OldStyle(this: Emitter) {
      (EventEmitter as unknown as (this: unknown) => void).call(this);
    }
    OldStyle.prototype = Object.create(EventEmitter.prototype);
    const old = new (OldStyle as unknown as new () => Emitter)();
    class NewStyle extends EventEmitter {}
    const young = new NewStyle();
    for (const emitter of [old, young]) {
      const seen: number[] = [];
      emitter.on("evict", (n) => seen.push(Number(n)));
      emitter.once("evict", (n) => seen.push(Number(n) * 10));
      emitter.emit("evict", 1);
      emitter.emit("evict", 2);
      expect(seen).to.deep.equal([1, 10, 2]);
      expect(emitter).to.be.instanceOf(EventEmitter);
    }
    expect(() => (EventEmitter as unknown as () => void)()).not.to.throw();
  });
});
