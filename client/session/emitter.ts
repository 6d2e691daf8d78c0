// The paid sessions' event emitter: a few lines of our own instead of `node:events`, so that the sessions load in
// a browser page as they do in Node (nothing a bundler must shim), with each event's arguments typed. It keeps the
// parts of Node's EventEmitter the sessions and their users rely on: listeners run synchronously, in the order they
// were added, on a copy of the list taken at `emit` (one added or removed meanwhile does not change this emit); a
// `once` listener is removed before it runs and can be removed by the function given; a listener that throws
// stops the emit and the error reaches its caller. No 'error' event magic: the sessions report faults as 'warning'.
// See docs/adr/0015-the-paid-session-in-a-browser.md.

/** Each event's name and the arguments its listeners receive. */
export type EventMap = { [event: string]: unknown[] };

type Listener<Args extends unknown[]> = (...args: Args) => void;

/** Any listener, as the emitter stores it; `emit` calls each with its event's arguments. */
type AnyListener = Listener<unknown[]>;

/** A registered listener: the function called, and the one given (they differ for `once`). */
interface Entry {
  call: AnyListener;
  given: AnyListener;
}

const stored = <Args extends unknown[]>(listener: Listener<Args>) => listener as unknown as AnyListener;

/**
 * A typed event emitter for Node and browsers: `class PaidSeeder extends Emitter<SeederEvents>`.
 * @example const e = new Emitter<{ paid: [bigint] }>(); e.on("paid", (wei) => console.log(wei)); e.emit("paid", 1n)
 */
export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Entry[]>();

  /** Calls `listener` on every `event`, after the listeners already added. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, { call: stored(listener), given: stored(listener) }, false);
  }

  /** Same as `on` (Node's name). */
  addListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.on(event, listener);
  }

  /** Calls `listener` on every `event`, before the listeners already added. */
  prependListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, { call: stored(listener), given: stored(listener) }, true);
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const entry: Entry = {
      given: stored(listener),
      call: (...args: unknown[]) => {
        this.#remove(event, entry);
        stored(listener)(...args);
      },
    };
    return this.#add(event, entry, false);
  }

  /** Removes the most recently added registration of `listener` for `event` (a `once` one too); no-op if none. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const entries = this.#listeners.get(event) ?? [];
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i].given === stored(listener)) return this.#remove(event, entries[i]);
    }
    return this;
  }

  /** Same as `off` (Node's name). */
  removeListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls each listener of `event` with `args`; whether there was any. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const entries = this.#listeners.get(event);
    if (entries === undefined || entries.length === 0) return false;
    for (const entry of [...entries]) entry.call(...args);
    return true;
  }

  #add(event: keyof Events, entry: Entry, first: boolean): this {
    const entries = this.#listeners.get(event) ?? [];
    if (first) entries.unshift(entry);
    else entries.push(entry);
    this.#listeners.set(event, entries);
    return this;
  }

  #remove(event: keyof Events, entry: Entry): this {
    const entries = this.#listeners.get(event);
    const at = entries?.indexOf(entry) ?? -1;
    if (entries === undefined || at < 0) return this;
    entries.splice(at, 1);
    if (entries.length === 0) this.#listeners.delete(event);
    return this;
  }
}
