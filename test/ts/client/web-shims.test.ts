// client/web/shims/path.ts, the `path` a page's bundle gives webtorrent, parse-torrent and create-torrent, answers
// as Node's posix path does for the paths a torrent holds (file names, folders, `..` and `.` that a hostile torrent
// may carry, repeated and trailing separators).
import { posix } from "node:path";
import { expect } from "chai";
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
