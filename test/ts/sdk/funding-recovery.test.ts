// docs/security.md rows 44 to 46 ("every wei accounted for"): every deposit we send is in the store before it is
// broadcast and can be recovered from the chain whatever happens after (the process killed right after sending, the RPC
// gone); an account that cannot pay a deposit and its gas is told so before anything is sent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther, type TransactionRequest, Wallet, ZeroAddress } from "ethers";
import { type ChannelRecord, PiecepayError, SqliteChannelStore } from "../../../sdk/node.js";
import { gasSpentSince } from "../helpers/balances.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";

const DEPOSIT = parseEther("1");

/**
 * `signer` whose sendTransaction broadcasts and then throws, as if the process were killed right after the send;
 * `seen` gets what the store held for the channel at the moment of the broadcast.
 */
function killedAfterSend(signer: Signer, onBroadcast: () => void): Signer {
  return new Proxy(signer, {
    get(target, prop) {
      if (prop === "sendTransaction") {
        return async (tx: TransactionRequest) => {
          onBroadcast();
          await target.sendTransaction(tx);
          throw new Error("killed right after the send");
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("funding: every deposit we send is in the store first, and recoverable from the chain", function () {
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];
  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-funding-recovery-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = (name: string) => {
    const s = new SqliteChannelStore(join(dir, `${name}.db`));
    stores.push(s);
    return s;
  };

  it("writes the channel as `funding` before the deposit is broadcast; a process killed after sending loses nothing: recoverFunding finds the deposit and the funding state pays it all back", async function () {
    const payerStore = store("payer");
    const payee = await sdkClient(f, f.bob, store("payee"));
    let id = "";
    let atBroadcast: ChannelRecord | undefined;
    const killed = await sdkClient(
      f,
      killedAfterSend(f.alice, async () => {
        atBroadcast = await payerStore.getChannel(id);
      }),
      payerStore,
    );
    const start = await ethers.provider.getBlockNumber();
    const before = await ethers.provider.getBalance(f.alice.address);
    const proposal = await killed.propose({ payee: f.bob.address, deposit: DEPOSIT });
    const acceptance = await payee.join(proposal);
    id = acceptance.channelId;
    let failed = false;
    try {
      await killed.fund(proposal, acceptance);
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    expect(atBroadcast?.phase, "the row before the broadcast").to.equal("funding");
    expect(atBroadcast?.funding?.amount).to.equal(DEPOSIT);
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(DEPOSIT);
    // A proposal's cleanup never deletes a channel whose deposit may be on chain.
    expect(await payerStore.forgetUnfunded(id)).to.equal(false);

    // "After a restart": a new client on the same store.
    const payer = await sdkClient(f, f.alice, payerStore);
    const recovered = await payer.recoverFunding(id);
    expect(recovered).to.deep.include({ phase: "open", deposited: DEPOSIT });
    await payer.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(0n);
    const gas = await gasSpentSince(ethers.provider, f.alice.address, start);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(before - gas);
    expect((await payerStore.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("recoverFunding leaves a proposal whose deposit never reached the chain as it was, and forgetUnfunded deletes it", async function () {
    const payerStore = store("payer");
    const payer = await sdkClient(f, f.alice, payerStore);
    const payee = await sdkClient(f, f.bob, store("payee"));
    const proposal = await payer.propose({ payee: f.bob.address, deposit: DEPOSIT });
    const { channelId: id } = await payee.join(proposal);
    expect(await payer.recoverFunding(id)).to.equal(undefined);
    expect((await payerStore.getChannel(id))?.phase).to.equal("proposed");
    expect(await payerStore.forgetUnfunded(id)).to.equal(true);
  });

  it("an account that cannot pay the deposit and its gas fails before anything is sent, saying what it holds and needs; the proposal can be forgotten", async function () {
    const empty = Wallet.createRandom().connect(ethers.provider);
    const payerStore = store("empty");
    const payer = await sdkClient(f, empty as unknown as Signer, payerStore);
    const payee = await sdkClient(f, f.bob, store("payee"));
    const proposal = await payer.propose({ payee: f.bob.address, deposit: DEPOSIT });
    const acceptance = await payee.join(proposal);
    const head = await ethers.provider.getBlockNumber();
    let error: unknown;
    try {
      await payer.fund(proposal, acceptance);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PiecepayError);
    expect((error as PiecepayError).code).to.equal("INSUFFICIENT_FUNDS");
    expect((error as PiecepayError).shortMessage).to.match(
      new RegExp(`^account ${empty.address} holds 0 ETH; the deposit needs 1\\.\\d+ ETH \\(1 ETH plus about`),
    );
    expect(await ethers.provider.getBlockNumber()).to.equal(head); // nothing sent
    expect((await payerStore.getChannel(acceptance.channelId))?.phase).to.equal("proposed");
    expect(await payerStore.forgetUnfunded(acceptance.channelId)).to.equal(true);
  });
});

describe("a side with no ETH for gas", function () {
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];
  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-gasless-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = (name: string) => {
    const s = new SqliteChannelStore(join(dir, `${name}.db`));
    stores.push(s);
    return s;
  };

  it("a payee with 0 ETH cannot close (INSUFFICIENT_FUNDS, nothing sent) but countersigns; the payer submits, and the payee gets exactly what was paid", async function () {
    const gasless = Wallet.createRandom().connect(ethers.provider) as unknown as Signer;
    const payer = await sdkClient(f, f.alice, store("payer"));
    const payee = await sdkClient(f, gasless, store("payee"));
    const PRICE = parseEther("0.01");
    const channel = await payer.open({ payee: gasless.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id);
    for (let i = 0; i < 3; i++) await payee.receive(await payer.pay(channel.id, PRICE));
    const offer = await payer.offerClose(channel.id);
    expect(await payee.canPayGas()).to.equal(false);
    const head = await ethers.provider.getBlockNumber();
    let error: unknown;
    try {
      await payee.close(offer);
    } catch (e) {
      error = e;
    }
    expect((error as PiecepayError).code).to.equal("INSUFFICIENT_FUNDS");
    expect((error as PiecepayError).shortMessage).to.match(
      new RegExp(`^account ${gasless.address} holds 0 ETH; the close needs`),
    );
    expect(await ethers.provider.getBlockNumber()).to.equal(head);
    const counter = await payee.countersign(offer);
    await payer.close(counter);
    expect(await ethers.provider.getBalance(gasless.address)).to.equal(3n * PRICE);
    expect(await f.adjudicator.holdings(ZeroAddress, channel.id)).to.equal(0n);
    expect((await payer.store.getChannel(channel.id))?.phase).to.equal("withdrawn");
  });

  it("a payee with 0 ETH cannot enforce its voucher: the challenge fails before sending, saying what the account holds", async function () {
    const gasless = Wallet.createRandom().connect(ethers.provider) as unknown as Signer;
    const payer = await sdkClient(f, f.alice, store("payer"));
    const payee = await sdkClient(f, gasless, store("payee"));
    const channel = await payer.open({ payee: gasless.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id);
    await payee.receive(await payer.pay(channel.id, parseEther("0.01")));
    const head = await ethers.provider.getBlockNumber();
    let error: unknown;
    try {
      await payee.challenge(channel.id);
    } catch (e) {
      error = e;
    }
    expect((error as PiecepayError).code).to.equal("INSUFFICIENT_FUNDS");
    expect((error as PiecepayError).shortMessage).to.match(/holds 0 ETH; the challenge needs/);
    expect(await ethers.provider.getBlockNumber()).to.equal(head);
  });
});
