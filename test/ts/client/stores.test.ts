// One channel store per account in a data dir (client/cli/stores.ts), and what happens to the one shared
// channels.db an older piecepay kept: moved to its account when it is that account's alone, else kept in use, so
// that no channel (and no deposit in it) drops out of sight.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, ZeroAddress, zeroPadValue } from "ethers";
import { accountStorePath, openAccountStore, sharedStorePath, storeFiles } from "../../../client/cli/stores.js";
import { type ChannelRecord, SqliteChannelStore } from "../../../sdk/node.js";

const alice = Wallet.createRandom().address;
const bob = Wallet.createRandom().address;

/** A funded channel record between payer and payee, seen from `myIndex`, with a deposit of 1 ETH. */
function record(n: number, payer: string, payee: string, myIndex: number): ChannelRecord {
  return {
    id: zeroPadValue(`0x0${n}`, 32),
    chainId: 31337n,
    adjudicator: ZeroAddress,
    fixedPart: {
      participants: [payer, payee],
      channelNonce: BigInt(n),
      appDefinition: ZeroAddress,
      challengeDuration: 60n,
    },
    myIndex,
    asset: ZeroAddress,
    deposited: 10n ** 18n,
    phase: "open",
  };
}

describe("channel stores: one per account in a data dir", function () {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "piecepay-stores-"));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it("the payer's and the payee's sides of one channel live in two stores of one data dir, each with its 1 ETH deposit", async function () {
    const payer = await openAccountStore(dataDir, alice);
    const payee = await openAccountStore(dataDir, bob);
    await payer.putChannel(record(1, alice, bob, 0));
    await payee.putChannel(record(1, alice, bob, 1)); // one shared store would hold only one of them
    expect(await payer.getChannel(record(1, alice, bob, 0).id)).to.deep.include({ myIndex: 0, deposited: 10n ** 18n });
    expect(await payee.getChannel(record(1, alice, bob, 1).id)).to.deep.include({ myIndex: 1, deposited: 10n ** 18n });
    payer.close();
    payee.close();
    expect(storeFiles(dataDir)).to.have.members([accountStorePath(dataDir, alice), accountStorePath(dataDir, bob)]);
  });

  it("an older shared channels.db holding one account's channels becomes that account's store, its deposits intact", async function () {
    const legacy = new SqliteChannelStore(sharedStorePath(dataDir));
    await legacy.putChannel(record(1, alice, bob, 0));
    await legacy.putChannel(record(2, alice, bob, 0));
    legacy.close();
    const notes: string[] = [];
    const store = await openAccountStore(dataDir, alice, (text) => notes.push(text));
    try {
      expect(store.path).to.equal(accountStorePath(dataDir, alice));
      expect((await store.listChannels()).map((r) => [r.myIndex, r.deposited])).to.deep.equal([
        [0, 10n ** 18n],
        [0, 10n ** 18n],
      ]);
    } finally {
      store.close();
    }
    expect(existsSync(sharedStorePath(dataDir))).to.equal(false);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^note: moved .*channels\.db to .*channels\/0x[0-9a-fA-F]{40}\.db/);
  });

  it("an older channels.db shared by two accounts stays in use for both: neither account loses sight of its deposit", async function () {
    const legacy = new SqliteChannelStore(sharedStorePath(dataDir));
    await legacy.putChannel(record(1, alice, bob, 0)); // alice pays bob
    await legacy.putChannel(record(2, bob, alice, 0)); // bob pays alice, another channel
    legacy.close();
    for (const [account, id] of [
      [alice, record(1, alice, bob, 0).id],
      [bob, record(2, bob, alice, 0).id],
    ]) {
      const notes: string[] = [];
      const store = await openAccountStore(dataDir, account, (text) => notes.push(text));
      try {
        expect(store.path).to.equal(sharedStorePath(dataDir));
        expect((await store.getChannel(id))?.deposited).to.equal(10n ** 18n);
      } finally {
        store.close();
      }
      expect(notes[0]).to.include("also holds channels of other accounts");
    }
    expect(storeFiles(dataDir)).to.deep.equal([sharedStorePath(dataDir)]);
  });
});
