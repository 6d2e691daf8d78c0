// The page script of browser/indexeddb-store.test.ts: the SDK's IndexedDbChannelStore in Chromium, driven by the
// test through `window.storeTest`; each call opens the store, does one thing and closes it, as a page would
// between reloads.
import { type ChannelRecord, IndexedDbChannelStore, sessionKey, type VoucherDirection } from "../../../../sdk/index.js";

declare global {
  interface Window {
    storeTest: typeof api;
  }
}

const DB = "piecepay-store-test";

async function withStore<T>(use: (store: IndexedDbChannelStore) => Promise<T>): Promise<T> {
  const store = await IndexedDbChannelStore.open(DB);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** A channel record with bigints where the SDK has them (the page builds it: bigints do not cross evaluate()). */
function channel(id: string, deposited: string): ChannelRecord {
  return {
    id,
    chainId: 31337n,
    adjudicator: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    fixedPart: {
      participants: ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"],
      channelNonce: 7n,
      appDefinition: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      challengeDuration: 3600n,
    },
    myIndex: 1,
    asset: "0x0000000000000000000000000000000000000000",
    deposited: BigInt(deposited),
    phase: "open",
  };
}

const api = {
  async putChannel(id: string, deposited: string): Promise<void> {
    await withStore((s) => s.putChannel(channel(id, deposited)));
  },

  async getChannel(id: string): Promise<{ deposited: string; phase: string; nonce: string } | null> {
    const record = await withStore((s) => s.getChannel(id));
    return record
      ? { deposited: record.deposited.toString(), phase: record.phase, nonce: record.fixedPart.channelNonce.toString() }
      : null;
  },

  /**
   * Stores each amount as a voucher of `id` in turn (no await between the calls: they race within this tab, and
   * with any other tab doing the same); resolves with each call's kept/previous, as strings.
   */
  async putVouchers(
    direction: VoucherDirection,
    id: string,
    amounts: string[],
  ): Promise<{ amount: string; kept: boolean; previous: string }[]> {
    return withStore(async (s) => {
      const results = await Promise.all(
        amounts.map((a) =>
          s.putVoucher(direction, { channelId: id, amount: BigInt(a), signature: `0x${"11".repeat(65)}` }),
        ),
      );
      return results.map((r, i) => ({ amount: amounts[i], kept: r.kept, previous: r.previous.toString() }));
    });
  },

  async getVoucher(direction: VoucherDirection, id: string): Promise<string | null> {
    const voucher = await withStore((s) => s.getVoucher(direction, id));
    return voucher ? voucher.amount.toString() : null;
  },

  /** Adds 1 to the channel's deposit `times` times through updateChannel, all started at once. */
  async bumpDeposit(id: string, times: number): Promise<void> {
    await withStore((s) =>
      Promise.all(
        Array.from({ length: times }, () =>
          s.updateChannel(id, (record) => ({ ...record, deposited: record.deposited + 1n })),
        ),
      ),
    );
  },

  async markEvents(keys: string[]): Promise<boolean[]> {
    return withStore((s) => Promise.all(keys.map((k) => s.markEventHandled(k))));
  },

  /** The store's session key's address, made on first use (`times` calls at once, as a page racing itself). */
  async sessionKeyAddresses(times: number): Promise<string[]> {
    return withStore(async (s) =>
      (await Promise.all(Array.from({ length: times }, () => sessionKey(s)))).map((k) => k.address),
    );
  },

  /**
   * Writes database `name` as piecepay's schema 1 did (six object stores, no secrets) with one channel, then opens
   * it with the store: resolves with that channel's deposit and a session key's address, or the error code.
   */
  async openSchema1(name: string): Promise<{ deposited: string; key: string } | string> {
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => {
        for (const store of ["channels", "states", "vouchers", "cursors", "events", "meta"]) {
          request.result.createObjectStore(store);
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const id = `0x${"77".repeat(32)}`;
    await new Promise<void>((resolve, reject) => {
      const tx = v1.transaction(["channels"], "readwrite");
      tx.objectStore("channels").put({ id, record: channel(id, "5"), phase: "open", seq: 1 }, id);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v1.close();
    try {
      const store = await IndexedDbChannelStore.open(name);
      try {
        const record = await store.getChannel(id);
        return { deposited: String(record?.deposited), key: (await sessionKey(store)).address };
      } finally {
        await store.close();
      }
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  },

  async setPhaseOfUnknown(): Promise<string> {
    return withStore((s) => s.setPhase(`0x${"ee".repeat(32)}`, "closing")).then(
      () => "no error",
      (e: { code?: string }) => e.code ?? String(e),
    );
  },
};

window.storeTest = api;
