import { PiecepayError } from "../errors.js";
import type { SignedVariablePart } from "../types.js";
import type { Voucher } from "../voucher.js";
import { fromJson, toJson } from "./json.js";
import type { ChannelPhase, ChannelRecord, ChannelStore, VoucherDirection } from "./types.js";

/**
 * A `ChannelStore` in this process's memory, for tests and ephemeral use. NOT DURABLE: everything it holds, vouchers
 * received included, is gone when the process ends, so a payee that uses it can be paid and still lose the money.
 * Every method does its work synchronously before its promise resolves (no await inside), which is what makes its
 * check-then-write methods atomic; records are copied in and out, so a caller's later change never reaches the store.
 * @example const store = new MemoryChannelStore()
 */
export class MemoryChannelStore implements ChannelStore {
  /** Records by lowercase id, in the order they were last written (a Map keeps insertion order). */
  readonly #channels = new Map<string, ChannelRecord>();
  readonly #states = new Map<string, SignedVariablePart>();
  readonly #vouchers = new Map<string, Voucher>();
  readonly #cursors = new Map<string, bigint>();
  readonly #handled = new Set<string>();
  readonly #secrets = new Map<string, string>();
  #closed = false;

  async putChannel(record: ChannelRecord): Promise<void> {
    this.#open();
    this.#write(record);
  }

  async getChannel(id: string): Promise<ChannelRecord | undefined> {
    this.#open();
    const record = this.#channels.get(id.toLowerCase());
    return record && copy(record);
  }

  async listChannels(): Promise<ChannelRecord[]> {
    this.#open();
    return [...this.#channels.values()].map(copy);
  }

  async updateChannel(
    id: string,
    update: (record: ChannelRecord) => ChannelRecord | undefined,
  ): Promise<ChannelRecord | undefined> {
    this.#open();
    const key = id.toLowerCase();
    const record = this.#channels.get(key);
    if (!record) return undefined;
    const updated = update(copy(record));
    if (!updated) return copy(record);
    if (updated.id.toLowerCase() !== key) {
      throw new PiecepayError("INVALID_UPDATE", `updateChannel(${id}) returned channel ${updated.id}`);
    }
    this.#write(updated);
    return copy(updated);
  }

  async setPhase(id: string, phase: ChannelPhase): Promise<void> {
    this.#open();
    const record = this.#channels.get(id.toLowerCase());
    if (!record) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
    this.#write({ ...record, phase });
  }

  async forgetUnfunded(id: string): Promise<boolean> {
    this.#open();
    const key = id.toLowerCase();
    const record = this.#channels.get(key);
    const vouchers = this.#vouchers.has(`sent:${key}`) || this.#vouchers.has(`received:${key}`);
    const unfunded = record?.phase === "proposed" && record.deposited === 0n && !vouchers;
    if (unfunded) {
      this.#channels.delete(key);
      this.#states.delete(key);
    }
    return unfunded;
  }

  async putSupportedState(id: string, state: SignedVariablePart): Promise<boolean> {
    this.#open();
    const key = id.toLowerCase();
    const stored = this.#states.get(key);
    if (stored && state.variablePart.turnNum <= stored.variablePart.turnNum) return false;
    this.#states.set(key, copy(state));
    return true;
  }

  async getSupportedState(id: string): Promise<SignedVariablePart | undefined> {
    this.#open();
    const state = this.#states.get(id.toLowerCase());
    return state && copy(state);
  }

  async putVoucher(direction: VoucherDirection, voucher: Voucher): Promise<{ kept: boolean; previous: bigint }> {
    this.#open();
    const id = voucher.channelId.toLowerCase();
    const stored = this.#vouchers.get(`${direction}:${id}`);
    const previous = stored?.amount ?? 0n;
    const kept = stored === undefined || voucher.amount > previous;
    if (kept) this.#vouchers.set(`${direction}:${id}`, { ...voucher, channelId: id });
    return { kept, previous };
  }

  async getVoucher(direction: VoucherDirection, id: string): Promise<Voucher | undefined> {
    this.#open();
    const voucher = this.#vouchers.get(`${direction}:${id.toLowerCase()}`);
    return voucher && { ...voucher };
  }

  async getCursor(name: string): Promise<bigint | undefined> {
    this.#open();
    return this.#cursors.get(name);
  }

  async setCursor(name: string, block: bigint): Promise<void> {
    this.#open();
    this.#cursors.set(name, block);
  }

  async markEventHandled(key: string): Promise<boolean> {
    this.#open();
    if (this.#handled.has(key)) return false;
    this.#handled.add(key);
    return true;
  }

  async hasHandledEvent(key: string): Promise<boolean> {
    this.#open();
    return this.#handled.has(key);
  }

  async getSecret(name: string): Promise<string | undefined> {
    this.#open();
    return this.#secrets.get(name);
  }

  async keepSecret(name: string, value: string): Promise<string> {
    this.#open();
    if (!this.#secrets.has(name)) this.#secrets.set(name, value);
    return this.#secrets.get(name) as string;
  }

  /** Ends the store's use (what it held is gone with the object); later calls reject, as they do on a closed file. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #write(record: ChannelRecord): void {
    const key = record.id.toLowerCase();
    this.#channels.delete(key); // re-inserted last: listChannels returns the least recently written first
    this.#channels.set(key, copy(record));
  }

  #open(): void {
    if (this.#closed) throw new PiecepayError("STORE_CLOSED", "the store is closed");
  }
}

/** A deep copy that keeps bigints (the same JSON a durable store writes). */
function copy<T>(value: T): T {
  return fromJson(toJson(value)) as T;
}
