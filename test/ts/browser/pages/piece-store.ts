// The page script of browser/piece-store.test.ts: OpfsPieceStore (client/web/piece-store.ts) in Chromium's origin
// private file system, next to fsa-chunk-store itself. The test drives it through `window.pieceStore`.
import FSAChunkStore from "fsa-chunk-store";
import { OpfsPieceStore } from "../../../../client/web/piece-store.js";

declare global {
  interface Window {
    pieceStore: typeof api;
  }
}

type Store = FSAChunkStore;
const CHUNK = 16;

/** What `get` gave: the bytes as numbers, or the error's message. */
function read(store: Store, index: number): Promise<number[] | string> {
  return new Promise((resolve) => {
    void store.get(index, null, (error, value) => resolve(error ? error.message : Array.from(value ?? [])));
  });
}

function write(store: Store, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    void store.put(index, new Uint8Array(CHUNK).fill(index + 1), (error) => (error ? reject(error) : resolve()));
  });
}

/** The file names under the OPFS directory `name`. */
async function filesIn(name: string): Promise<string[]> {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
  const names: string[] = [];
  for await (const n of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(n);
  return names.sort();
}

const api = {
  /**
   * Writes pieces 0 and 2 of 4 into a store named `name` made by `kind`, reads 0 and 1, closes it, opens it again and
   * reads every piece; then writes 3 and reads it. Resolves with what each step read and the files on disk.
   */
  async run(kind: "OpfsPieceStore" | "FSAChunkStore", name: string) {
    const make = () =>
      kind === "OpfsPieceStore"
        ? new OpfsPieceStore(CHUNK, { name, length: 4 * CHUNK })
        : new FSAChunkStore(CHUNK, { name, length: 4 * CHUNK });
    const first = make();
    await write(first, 0);
    await write(first, 2);
    const before = { 0: await read(first, 0), 1: await read(first, 1) };
    const filesBefore = await filesIn(name);
    await first.close();
    const again = make();
    const reopened = await Promise.all([0, 1, 2, 3].map((i) => read(again, i)));
    await write(again, 3);
    const written = await read(again, 3);
    return { before, filesBefore, reopened, written, filesAfter: await filesIn(name) };
  },
};

window.pieceStore = api;
