// The cases every ChannelStore must pass, whatever keeps its data: `describeChannelStore(name, open)` registers them
// for one implementation (store.test.ts runs them on SqliteChannelStore on disk, on MemoryChannelStore and on
// IndexedDbChannelStore under fake-indexeddb). It imports nothing from Node, so that it bundles for a browser.
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import {
  type ChannelRecord,
  type ChannelStore,
  SESSION_KEY_SECRET,
  type SignedVariablePart,
  sessionKey,
  type Voucher,
} from "../../../sdk/index.js";

/** Opens a fresh, empty store; `reopen` (when the store is durable) opens the same data again after a close. */
export interface StoreFactory {
  open(): Promise<ChannelStore>;
  reopen?: () => Promise<ChannelStore>;
}

export const CHANNEL = `0x${"ab".repeat(32)}`;

/** A payee's record with bigints at the edges of their range. */
export const RECORD: ChannelRecord = {
  id: CHANNEL,
  chainId: 31337n,
  adjudicator: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  fixedPart: {
    participants: ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"],
    channelNonce: 2n ** 63n + 5n,
    appDefinition: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    challengeDuration: 3600n,
  },
  myIndex: 1,
  asset: ZeroAddress,
  deposited: 2n ** 255n + 1n,
  phase: "open",
  peer: "peer-1",
};

export function state(turnNum: bigint): SignedVariablePart {
  return {
    variablePart: { outcome: [], appData: "0x", turnNum, isFinal: false },
    signedBy: 3n,
    sigs: [`0x${"11".repeat(65)}`, `0x${"22".repeat(65)}`],
  };
}

export function voucher(amount: bigint, channelId = CHANNEL): Voucher {
  return { channelId, amount, signature: `0x${"aa".repeat(65)}` };
}

/** A channel id other than CHANNEL, by number. */
export function otherId(n: number): string {
  return `0x${n.toString(16).padStart(2, "0").repeat(32)}`;
}

/** Mixed case, as a peer or a user may write an id: stores key by the lowercase id. */
function upper(id: string): string {
  return id.toUpperCase().replace("0X", "0x");
}

/** What `promise` rejected with; fails when it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  return expect.fail("expected a rejection");
}

/**
 * Checks a set of putVoucher results for one channel and direction against the larger-voucher-only rule done
 * atomically: the kept amounts, in order, form one chain in which each result's `previous` is the kept amount before
 * it (so the credits `amount - previous` add up to the largest amount, each wei once), and a voucher not kept had
 * one at least as large before it. Returns the largest amount kept.
 */
export function expectOneChain(results: { amount: bigint; kept: boolean; previous: bigint }[]): bigint {
  const kept = results.filter((r) => r.kept).sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0));
  let before = 0n;
  for (const r of kept) {
    expect(r.amount > before, `kept ${r.amount} after ${before}: not strictly larger`).to.equal(true);
    expect(r.previous, `the previous amount of kept ${r.amount}`).to.equal(before);
    before = r.amount;
  }
  for (const r of results.filter((x) => !x.kept)) {
    expect(r.previous >= r.amount, `refused ${r.amount} with only ${r.previous} before it`).to.equal(true);
    expect(
      kept.some((k) => k.amount === r.previous),
      `refused ${r.amount} against an amount never kept`,
    ).to.equal(true);
  }
  const credited = kept.reduce((sum, r) => sum + (r.amount - r.previous), 0n);
  expect(credited, "the credits add up to the largest voucher").to.equal(before);
  return before;
}

/** A random amount in [1, 2^40]. */
export function randomAmount(): bigint {
  return BigInt(Math.floor(Math.random() * 2 ** 40)) + 1n;
}

/** Registers the conformance cases of a ChannelStore implementation. */
export function describeChannelStore(name: string, factory: StoreFactory): void {
  describe(`${name} (ChannelStore conformance)`, function () {
    let store: ChannelStore;
    beforeEach(async function () {
      store = await factory.open();
    });
    afterEach(async function () {
      await store.close();
    });

    describe("channels", function () {
      it("keeps a record exactly, bigints included, under its id in any case", async function () {
        expect(await store.getChannel(CHANNEL)).to.equal(undefined);
        await store.putChannel(RECORD);
        expect(await store.getChannel(CHANNEL)).to.deep.equal(RECORD);
        expect((await store.getChannel(upper(CHANNEL)))?.deposited).to.equal(2n ** 255n + 1n);
        expect(await store.listChannels()).to.deep.equal([RECORD]);
      });

      it("hands out copies: changing a record read or written does not change the store", async function () {
        const written = structuredClone(RECORD);
        await store.putChannel(written);
        written.phase = "withdrawn";
        const read = (await store.getChannel(CHANNEL)) as ChannelRecord;
        read.deposited = 0n;
        read.fixedPart.participants[0] = ZeroAddress;
        expect(await store.getChannel(CHANNEL)).to.deep.equal(RECORD);
      });

      it("replaces a record, and lists every channel once", async function () {
        await store.putChannel(RECORD);
        await store.putChannel({ ...RECORD, id: otherId(1) });
        await store.putChannel({ ...RECORD, peer: "peer-2" });
        const listed = await store.listChannels();
        expect(listed.map((r) => r.id).sort()).to.deep.equal([CHANNEL, otherId(1)].sort());
        expect((await store.getChannel(CHANNEL))?.peer).to.equal("peer-2");
      });

      it("moves a phase, and rejects UNKNOWN_CHANNEL for a channel it does not hold", async function () {
        await store.putChannel(RECORD);
        await store.setPhase(upper(CHANNEL), "challenged");
        expect(await store.getChannel(CHANNEL)).to.deep.equal({ ...RECORD, phase: "challenged" });
        const error = await rejection(store.setPhase(otherId(9), "open"));
        expect(error.code).to.equal("UNKNOWN_CHANNEL");
        expect(await store.getChannel(otherId(9))).to.equal(undefined);
      });

      it("updates a record atomically: the update sees the stored record, undefined writes nothing", async function () {
        expect(await store.updateChannel(CHANNEL, () => expect.fail("no record to update"))).to.equal(undefined);
        await store.putChannel(RECORD);
        await store.setPhase(CHANNEL, "closing");
        const updated = await store.updateChannel(upper(CHANNEL), (r) => ({ ...r, peer: `${r.phase}-seen` }));
        expect(updated).to.deep.equal({ ...RECORD, phase: "closing", peer: "closing-seen" });
        expect(await store.getChannel(CHANNEL)).to.deep.equal(updated);
        expect(await store.updateChannel(CHANNEL, () => undefined)).to.deep.equal(updated);
        expect(await store.getChannel(CHANNEL)).to.deep.equal(updated);
        const error = await rejection(store.updateChannel(CHANNEL, (r) => ({ ...r, id: otherId(2) })));
        expect(error.code).to.equal("INVALID_UPDATE");
        expect(await store.getChannel(otherId(2))).to.equal(undefined);
      });

      it("loses no update when many run at once (each appends to the same record)", async function () {
        await store.putChannel({ ...RECORD, servedPieces: [] });
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.updateChannel(CHANNEL, (r) => ({ ...r, servedPieces: [...(r.servedPieces ?? []), i] })),
          ),
        );
        const pieces = (await store.getChannel(CHANNEL))?.servedPieces ?? [];
        expect([...pieces].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
      });
    });

    describe("forgetUnfunded", function () {
      it("forgets a channel that never received a deposit, and nothing else: funded, open or holding a voucher stays", async function () {
        const proposed: ChannelRecord = { ...RECORD, phase: "proposed", deposited: 0n };
        const keep: [string, ChannelRecord, "received" | "sent" | undefined][] = [
          ["funded but not yet seen open", { ...proposed, id: otherId(1), deposited: 5n }, undefined],
          ["open", { ...proposed, id: otherId(2), phase: "open" }, undefined],
          ["closing", { ...proposed, id: otherId(3), phase: "closing" }, undefined],
          ["holding a received voucher", { ...proposed, id: otherId(4) }, "received"],
          ["holding a sent voucher (the payer's own promise)", { ...proposed, id: otherId(5), myIndex: 0 }, "sent"],
        ];
        await store.putChannel(proposed);
        await store.putSupportedState(CHANNEL, state(0n));
        for (const [, channel, direction] of keep) {
          await store.putChannel(channel);
          await store.putSupportedState(channel.id, state(0n));
          if (direction) await store.putVoucher(direction, voucher(1n, channel.id));
        }
        expect(await store.forgetUnfunded(upper(CHANNEL))).to.equal(true);
        expect(await store.getChannel(CHANNEL)).to.equal(undefined);
        expect(await store.getSupportedState(CHANNEL)).to.equal(undefined);
        expect(await store.forgetUnfunded(CHANNEL), "already gone").to.equal(false);
        for (const [what, channel] of keep) {
          expect(await store.forgetUnfunded(channel.id), what).to.equal(false);
          expect(await store.getChannel(channel.id), what).to.deep.equal(channel);
          expect(await store.getSupportedState(channel.id), what).to.deep.equal(state(0n));
        }
      });
    });

    describe("supported states", function () {
      it("keeps only a newer state", async function () {
        expect(await store.getSupportedState(CHANNEL)).to.equal(undefined);
        expect(await store.putSupportedState(CHANNEL, state(5n))).to.equal(true);
        expect(await store.putSupportedState(CHANNEL, state(4n))).to.equal(false);
        expect(await store.putSupportedState(upper(CHANNEL), state(5n))).to.equal(false);
        expect(await store.putSupportedState(CHANNEL, state(2n ** 48n - 1n))).to.equal(true);
        expect(await store.getSupportedState(upper(CHANNEL))).to.deep.equal(state(2n ** 48n - 1n));
      });

      it("keeps the newest of many written at once", async function () {
        const turns = Array.from({ length: 40 }, (_, i) => BigInt((i * 7919) % 101));
        const kept = await Promise.all(turns.map((t) => store.putSupportedState(CHANNEL, state(t))));
        expect(kept.some(Boolean)).to.equal(true);
        expect((await store.getSupportedState(CHANNEL))?.variablePart.turnNum).to.equal(
          turns.reduce((a, b) => (a > b ? a : b)),
        );
      });
    });

    describe("vouchers", function () {
      it("keeps only a larger voucher, per channel and direction: a replay or an older one credits nothing", async function () {
        expect(await store.getVoucher("received", CHANNEL)).to.equal(undefined);
        expect(await store.putVoucher("received", voucher(100n))).to.deep.equal({ kept: true, previous: 0n });
        expect(await store.putVoucher("received", voucher(100n))).to.deep.equal({ kept: false, previous: 100n });
        expect(await store.putVoucher("received", voucher(99n, upper(CHANNEL)))).to.deep.equal({
          kept: false,
          previous: 100n,
        });
        expect((await store.putVoucher("received", voucher(0xffn))).kept).to.equal(true);
        // 0x100 > 0xff numerically though "100" < "ff" as text: amounts are compared as numbers
        expect(await store.putVoucher("received", voucher(0x100n))).to.deep.equal({ kept: true, previous: 0xffn });
        expect((await store.putVoucher("received", voucher(2n ** 256n - 1n))).kept).to.equal(true);
        expect(await store.getVoucher("received", upper(CHANNEL))).to.deep.equal(voucher(2n ** 256n - 1n));
        expect(await store.getVoucher("sent", CHANNEL)).to.equal(undefined);
        expect(await store.putVoucher("sent", voucher(5n))).to.deep.equal({ kept: true, previous: 0n });
        expect((await store.getVoucher("sent", CHANNEL))?.amount).to.equal(5n);
        expect(await store.getVoucher("received", otherId(1))).to.equal(undefined);
      });

      it("decides many concurrent vouchers atomically: one chain of credits, each wei once, the largest kept", async function () {
        for (const direction of ["received", "sent"] as const) {
          const amounts = Array.from({ length: 200 }, randomAmount);
          const results = await Promise.all(
            amounts.map(async (amount) => ({ amount, ...(await store.putVoucher(direction, voucher(amount))) })),
          );
          const largest = amounts.reduce((a, b) => (a > b ? a : b));
          expect(expectOneChain(results)).to.equal(largest);
          expect((await store.getVoucher(direction, CHANNEL))?.amount).to.equal(largest);
        }
      });

      it("credits two vouchers written back to back once each, by amount minus previous", async function () {
        const [first, second] = await Promise.all([
          store.putVoucher("received", voucher(300n)),
          store.putVoucher("received", voucher(700n)),
        ]);
        expect(first).to.deep.equal({ kept: true, previous: 0n });
        expect(second).to.deep.equal({ kept: true, previous: 300n });
      });
    });

    describe("the watcher's progress", function () {
      it("remembers its cursor by name", async function () {
        expect(await store.getCursor("adjudicator")).to.equal(undefined);
        await store.setCursor("adjudicator", 1234n);
        await store.setCursor("other", 7n);
        expect(await store.getCursor("adjudicator")).to.equal(1234n);
        await store.setCursor("adjudicator", 2n ** 64n);
        expect(await store.getCursor("adjudicator")).to.equal(2n ** 64n);
        expect(await store.getCursor("other")).to.equal(7n);
      });

      it("handles each event once, also when the same log is marked from two scans at once", async function () {
        expect(await store.hasHandledEvent("0xabc:0")).to.equal(false);
        expect(await store.markEventHandled("0xabc:0")).to.equal(true);
        expect(await store.markEventHandled("0xabc:0")).to.equal(false);
        expect(await store.hasHandledEvent("0xabc:0")).to.equal(true);
        expect(await store.hasHandledEvent("0xabc:1")).to.equal(false);
        const marks = await Promise.all(Array.from({ length: 20 }, () => store.markEventHandled("0xdef:3")));
        expect(marks.filter(Boolean)).to.have.length(1);
      });
    });

    describe("secrets (the session key)", function () {
      it("keeps the first secret under a name: a later one, or many racing, all resolve to the one kept", async function () {
        expect(await store.getSecret("a")).to.equal(undefined);
        expect(await store.keepSecret("a", "first")).to.equal("first");
        expect(await store.keepSecret("a", "second")).to.equal("first");
        expect(await store.getSecret("a")).to.equal("first");
        const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => store.keepSecret("b", `racer-${i}`)));
        expect(new Set(racing).size, "every racer got the same secret").to.equal(1);
        expect(await store.getSecret("b")).to.equal(racing[0]);
      });

      it("sessionKey makes one key per store and hands out that key every time, also when asked many times at once", async function () {
        const keys = await Promise.all(Array.from({ length: 10 }, () => sessionKey(store)));
        expect(new Set(keys.map((k) => k.address)).size).to.equal(1);
        expect((await sessionKey(store)).address).to.equal(keys[0].address);
        expect(await store.getSecret(SESSION_KEY_SECRET)).to.equal(keys[0].privateKey);
      });
    });

    describe("closing", function () {
      it("rejects calls after close, and a second close is harmless", async function () {
        await store.putChannel(RECORD);
        await store.close();
        await store.close();
        await rejection(store.getChannel(CHANNEL));
        await rejection(store.putVoucher("received", voucher(1n)));
        store = await factory.open(); // for afterEach
      });

      if (factory.reopen) {
        const reopen = factory.reopen;
        it("keeps everything across a close and a reopen", async function () {
          await store.putChannel(RECORD);
          await store.setPhase(CHANNEL, "challenged");
          await store.putSupportedState(CHANNEL, state(3n));
          await store.putVoucher("received", voucher(42n));
          await store.setCursor("adjudicator", 99n);
          await store.markEventHandled("0xabc:0");
          const key = await sessionKey(store);
          await store.close();
          store = await reopen();
          expect((await sessionKey(store)).address, "the session key after a reopen").to.equal(key.address);
          expect(await store.getChannel(CHANNEL)).to.deep.equal({ ...RECORD, phase: "challenged" });
          expect(await store.getSupportedState(CHANNEL)).to.deep.equal(state(3n));
          expect(await store.getVoucher("received", CHANNEL)).to.deep.equal(voucher(42n));
          expect(await store.getCursor("adjudicator")).to.equal(99n);
          expect(await store.hasHandledEvent("0xabc:0")).to.equal(true);
        });
      }
    });
  });
}
