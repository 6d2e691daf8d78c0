// The part of fsa-chunk-store 1.3 (webtorrent's store in a browser: one file per piece in the origin private file
// system) that client/web/piece-store.ts extends; the package ships no declarations.
declare module "fsa-chunk-store" {
  type Callback<T> = (error: Error | null, value?: T) => void;

  export default class FSAChunkStore {
    constructor(chunkLength: number, options?: Record<string, unknown>);
    chunkLength: number;
    /** Set when the store writes into files under a chosen directory (`rootDir`) rather than one file per piece. */
    files: unknown[] | undefined;
    /** The directory that holds one file per piece, named by its index. */
    chunksDirPromise: Promise<FileSystemDirectoryHandle>;
    put(index: number, buf: Uint8Array, cb?: Callback<void>): Promise<Error | null>;
    get(index: number, opts?: { offset?: number; length?: number } | null, cb?: Callback<Uint8Array>): Promise<unknown>;
    close(cb?: Callback<void>): Promise<void>;
    destroy(cb?: Callback<void>): Promise<void>;
  }
}
