// One actor per channel at once. Disputes and payouts of a channel take its lock (`exclusive`), so that our own
// watcher never acts on a registration that another step of ours is replacing. Vouchers paid and vouchers received
// have queues of their own: a voucher never waits behind a challenge's transaction.

export class ChannelLocks {
  readonly #exclusive = new Map<string, Promise<unknown>>();
  readonly #paying = new Map<string, Promise<unknown>>();
  readonly #receiving = new Map<string, Promise<unknown>>();

  /** Runs `step` after every earlier exclusive step on channel `id` has ended. */
  exclusive<T>(id: string, step: () => Promise<T>): Promise<T> {
    return serialize(this.#exclusive, id, step);
  }

  /** Runs `step` after every earlier payment on channel `id`: each voucher builds on the one stored before it. */
  paying<T>(id: string, step: () => Promise<T>): Promise<T> {
    return serialize(this.#paying, id, step);
  }

  /** Runs `step` after every earlier receipt on channel `id`: each wei is credited once. */
  receiving<T>(id: string, step: () => Promise<T>): Promise<T> {
    return serialize(this.#receiving, id, step);
  }
}

function serialize<T>(queue: Map<string, Promise<unknown>>, id: string, step: () => Promise<T>): Promise<T> {
  const key = id.toLowerCase();
  const run = (queue.get(key) ?? Promise.resolve()).then(step, step);
  const settled = run.catch(() => undefined);
  queue.set(key, settled);
  void settled.then(() => {
    if (queue.get(key) === settled) queue.delete(key);
  });
  return run;
}
