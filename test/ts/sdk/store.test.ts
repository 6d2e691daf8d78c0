// The durable store: what it keeps, what it refuses to overwrite, and that it survives a reopen. The kill-a-process
// tests for each step of a channel's life live with the SDK actions that write to it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { type ChannelRecord, type SignedVariablePart, SqliteChannelStore } from "../../../sdk/node.js";

const id = `0x${"ab".repeat(32)}`;
const record: ChannelRecord = {
  id,
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

function state(turnNum: bigint): SignedVariablePart {
  return {
    variablePart: { outcome: [], appData: "0x", turnNum, isFinal: false },
    signedBy: 3n,
    sigs: [`0x${"11".repeat(65)}`, `0x${"22".repeat(65)}`],
  };
}

describe("SqliteChannelStore", function () {
  let dir: string;
  let store: SqliteChannelStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "piecepay-store-"));
    store = new SqliteChannelStore(join(dir, "nested", "channels.db"));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps channel records exactly, bigints included, and across a reopen", function () {
    store.putChannel(record);
    store.setPhase(id, "challenged");
    store.close();
    store = new SqliteChannelStore(join(dir, "nested", "channels.db"));
    expect(store.getChannel(id)).to.deep.equal({ ...record, phase: "challenged" });
    expect(store.getChannel(id.toUpperCase().replace("0X", "0x"))?.deposited).to.equal(2n ** 255n + 1n);
    expect(store.listChannels()).to.have.length(1);
    expect(() => store.setPhase(`0x${"00".repeat(32)}`, "open")).to.throw(/no channel/);
  });

  it("keeps only a larger voucher, per channel and direction: a replay or an older one credits nothing", function () {
    const v = (amount: bigint) => ({ channelId: id, amount, signature: `0x${"aa".repeat(65)}` });
    expect(store.putVoucher("received", v(100n))).to.deep.equal({ kept: true, previous: 0n });
    expect(store.putVoucher("received", v(100n))).to.deep.equal({ kept: false, previous: 100n });
    expect(store.putVoucher("received", v(99n))).to.deep.equal({ kept: false, previous: 100n });
    expect(store.putVoucher("received", v(0xffn)).kept).to.equal(true);
    // 0x100 > 0xff numerically though "100" < "ff" as text: amounts are compared as numbers
    expect(store.putVoucher("received", v(0x100n))).to.deep.equal({ kept: true, previous: 0xffn });
    expect(store.putVoucher("received", v(2n ** 256n - 1n)).kept).to.equal(true);
    expect(store.getVoucher("received", id)?.amount).to.equal(2n ** 256n - 1n);
    expect(store.getVoucher("sent", id)).to.equal(undefined);
    expect(store.putVoucher("sent", v(5n)).kept).to.equal(true);
    expect(store.getVoucher("sent", id)?.amount).to.equal(5n);
  });

  it("forgets a channel that never received a deposit, and nothing else: funded, open or holding a voucher stays", function () {
    const proposed: ChannelRecord = { ...record, phase: "proposed", deposited: 0n };
    const other = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(32)}`;
    const keep: [string, ChannelRecord, boolean][] = [
      ["funded but not yet seen open", { ...proposed, id: other(1), deposited: 5n }, false],
      ["open", { ...proposed, id: other(2), phase: "open" }, false],
      ["closing", { ...proposed, id: other(3), phase: "closing" }, false],
      ["holding a received voucher", { ...proposed, id: other(4) }, true],
    ];
    store.putChannel(proposed);
    store.putSupportedState(id, state(0n));
    for (const [, channel, voucher] of keep) {
      store.putChannel(channel);
      store.putSupportedState(channel.id, state(0n));
      if (voucher)
        store.putVoucher("received", { channelId: channel.id, amount: 1n, signature: `0x${"33".repeat(65)}` });
    }
    expect(store.forgetUnfunded(id.toUpperCase().replace("0X", "0x"))).to.equal(true);
    expect(store.getChannel(id)).to.equal(undefined);
    expect(store.getSupportedState(id)).to.equal(undefined);
    expect(store.forgetUnfunded(id), "already gone").to.equal(false);
    for (const [what, channel] of keep) {
      expect(store.forgetUnfunded(channel.id), what).to.equal(false);
      expect(store.getChannel(channel.id), what).to.deep.equal(channel);
      expect(store.getSupportedState(channel.id), what).to.deep.equal(state(0n));
    }
    // A sent voucher counts too: the payer's own promise is never forgotten.
    store.putChannel({ ...proposed, id: other(5), myIndex: 0 });
    store.putVoucher("sent", { channelId: other(5), amount: 1n, signature: `0x${"33".repeat(65)}` });
    expect(store.forgetUnfunded(other(5))).to.equal(false);
  });

  it("keeps only a newer supported state", function () {
    expect(store.putSupportedState(id, state(5n))).to.equal(true);
    expect(store.putSupportedState(id, state(4n))).to.equal(false);
    expect(store.putSupportedState(id, state(5n))).to.equal(false);
    expect(store.putSupportedState(id, state(2n ** 48n - 1n))).to.equal(true);
    expect(store.getSupportedState(id)).to.deep.equal(state(2n ** 48n - 1n));
  });

  it("remembers the watcher's cursor and handles each event once", function () {
    expect(store.getCursor("adjudicator")).to.equal(undefined);
    store.setCursor("adjudicator", 1234n);
    expect(store.getCursor("adjudicator")).to.equal(1234n);
    expect(store.markEventHandled("0xabc:0")).to.equal(true);
    expect(store.markEventHandled("0xabc:0")).to.equal(false);
  });

  it("refuses a database written by a newer schema, with what to do", function () {
    store.close();
    const path = join(dir, "nested", "channels.db");
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    expect(() => new SqliteChannelStore(path)).to.throw(/newer piecepay.*upgrade/);
  });
});
