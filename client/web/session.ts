// What a web page imports to take part in a paid swarm: the paid seeder and leecher (the same sessions as the CLI's,
// the same wire extension and vouchers) and the guarded webtorrent client they attach to. Everything here loads in
// a browser: nothing of Node in its import graph (test/ts/sdk/import-boundaries.test.ts) and a bundle for the browser
// with webtorrent's browser build (test/ts/browser/session-bundle.test.ts; the shims a bundler needs for webtorrent
// are in client/web/shims/ and docs/adr/0015-the-paid-session-in-a-browser.md). The chain side is the SDK's
// universal entry point (`piecepay/sdk`): a PiecepayClient with its store in IndexedDB and a wallet over EIP-1193.
export { Emitter, type EventMap } from "../session/emitter.js";
export {
  createTorrentClient,
  type GuardedClientOptions,
  type GuardStats,
  WireGuardPool,
} from "../session/guarded-client.js";
export {
  DEFAULT_BAN_AFTER_FAILURES,
  DEFAULT_MAX_WINDOW,
  type LeecherPeerStats,
  type LeecherRefusal,
  PaidLeecher,
  type PaidLeecherEvents,
  type PaidLeecherOptions,
} from "../session/leecher.js";
export {
  DEFAULT_FUNDING_TIMEOUT_MS,
  DEFAULT_UNCONFIRMED_PIECES,
  PaidSeeder,
  type PaidSeederEvents,
  type PaidSeederOptions,
  type SeederPeerStats,
} from "../session/seeder.js";
export { OpfsPieceStore } from "./piece-store.js";
