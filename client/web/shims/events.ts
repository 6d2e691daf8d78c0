// Node's `events` for webtorrent's browser build and its dependencies (webtorrent, bittorrent-tracker,
// torrent-discovery, speed-limiter, lru, and streamx through events-universal import it): bare-events, a
// Node-compatible EventEmitter in plain JavaScript already in our tree (streamx -> events-universal -> bare-events),
// made callable the old way too. lru, under the cache that webtorrent puts in front of every store but a memory
// one, inherits with `EventEmitter.call(this)`, which an ES class refuses ("Class constructor EventEmitter cannot be
// invoked without 'new'", seen in Chromium: the torrent never got its store). webtorrent's own build takes the npm
// `events` package, which is not in our tree. See docs/adr/0015-the-paid-session-in-a-browser.md.
import BareEventEmitter from "bare-events";

/** bare-events' EventEmitter, also callable as `EventEmitter.call(this)` from a constructor function. */
const EventEmitter = function EventEmitter(this: { _events?: object } | undefined) {
  // bare-events' methods make `_events` when it is missing; a constructor function's `this` gets it here.
  if (this !== undefined && this._events === undefined) this._events = Object.create(null);
} as unknown as typeof BareEventEmitter;
(EventEmitter as unknown as { prototype: object }).prototype = BareEventEmitter.prototype;
Object.setPrototypeOf(EventEmitter, BareEventEmitter); // its statics: once, on, listenerCount, defaultMaxListeners

export { EventEmitter };
export default EventEmitter;
