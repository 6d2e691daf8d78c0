// The SDK's dispute paths where a counterparty plays by the contract's rules but against us: malicious close
// offers, extra funding, challenges before any voucher, a plain conclude, our own challenge overtaken by a later
// voucher. Each test says who ends with what.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { hexlify, parseEther, randomBytes, Wallet, ZeroAddress } from "ethers";
import {
  ChannelWatcher,
  type CloseOffer,
  type PiecepayError,
  SqliteChannelStore,
  signState,
  signVoucher,
  toDestination,
  toSigned,
  variablePartFromEvent,
} from "../../../sdk/node.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");

describe("SDK disputes against a rule-abiding adversary", function () {
  let dir: string;
  let f: Awaited<ReturnType<typeof deployFixture>>;
  const stores: SqliteChannelStore[] = [];

  async function clientFor(signer: Signer) {
    const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
    stores.push(store);
    return sdkClient(f, signer, store);
  }

  async function channel(paid: bigint) {
    const payer = await clientFor(f.alice);
    const payee = await clientFor(f.bob);
    const { id } = await payer.open({ payee: f.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(id);
    if (paid > 0n) await payee.receive(await payer.pay(id, paid));
    return { payer, payee, id };
  }

  async function expectCode(promise: Promise<unknown>, code: string) {
    try {
      await promise;
    } catch (error) {
      expect((error as PiecepayError).code).to.equal(code);
      return;
    }
    expect.fail(`expected ${code}`);
  }

  /** A close offer with the given allocations, signed by `signer`. */
  async function forgedOffer(
    id: string,
    signer: Signer,
    allocations: { to: string; amount: bigint }[],
    asset = ZeroAddress,
  ) {
    const final = {
      outcome: [
        { asset, allocations: allocations.map((a) => ({ destination: toDestination(a.to), amount: a.amount })) },
      ],
      appData: "0x",
      turnNum: 2n,
      isFinal: true,
    };
    return { channelId: id, final, signature: await signState(signer, id, final) } satisfies CloseOffer;
  }

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-disputes-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the payer refuses close offers that pay the payee more than its vouchers, in any shape: nothing moves", async function () {
    const { payer, id } = await channel(PRICE);
    const { alice, bob, carol } = f;
    const offers = [
      await forgedOffer(id, bob, [
        { to: bob.address, amount: DEPOSIT },
        { to: alice.address, amount: 0n },
      ]),
      await forgedOffer(id, bob, [{ to: alice.address, amount: DEPOSIT - PRICE }]),
      await forgedOffer(id, bob, [
        { to: alice.address, amount: DEPOSIT - 2n * PRICE },
        { to: bob.address, amount: PRICE },
        { to: carol.address, amount: PRICE },
      ]),
      await forgedOffer(id, bob, [
        { to: alice.address, amount: DEPOSIT - 2n * PRICE },
        { to: bob.address, amount: 2n * PRICE },
      ]),
      await forgedOffer(
        id,
        bob,
        [
          { to: alice.address, amount: DEPOSIT - PRICE },
          { to: bob.address, amount: PRICE },
        ],
        carol.address,
      ),
    ];
    for (const offer of offers) await expectCode(payer.close(offer), "INVALID_CLOSE_OFFER");
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(DEPOSIT);
  });

  it("the payee refuses close offers that pay it less than its vouchers, e.g. the payer's allocation raised", async function () {
    const { payee, id } = await channel(5n * PRICE);
    const { alice, bob } = f;
    const greedy = await forgedOffer(id, alice, [
      { to: alice.address, amount: DEPOSIT },
      { to: bob.address, amount: 5n * PRICE },
    ]);
    await expectCode(payee.close(greedy), "INVALID_CLOSE_OFFER");
    const short = await forgedOffer(id, alice, [
      { to: alice.address, amount: DEPOSIT - PRICE },
      { to: bob.address, amount: PRICE },
    ]);
    await expectCode(payee.close(short), "INVALID_CLOSE_OFFER");
    // A fair offer is accepted: bob gets exactly 5 x price.
    const bobBefore = await ethers.provider.getBalance(bob.address);
    const fair = await forgedOffer(id, alice, [
      { to: alice.address, amount: DEPOSIT - 5n * PRICE },
      { to: bob.address, amount: 5n * PRICE },
    ]);
    const receipt = await payee.close(fair);
    expect(await ethers.provider.getBalance(bob.address)).to.equal(
      bobBefore + 5n * PRICE - receipt.gasUsed * receipt.gasPrice,
    );
  });

  it("extra funding by anyone does not let a voucher exceed the funding allocation; the payee's voucher stays enforceable", async function () {
    const { payer, payee, id } = await channel(PRICE);
    await f.adjudicator.connect(f.carol).deposit(ZeroAddress, id, DEPOSIT, 1n, { value: 1n });
    expect((await payee.store.getChannel(id))?.deposited).to.equal(DEPOSIT);
    const tooMuch = await payer.pay(id, 0n).catch(() => undefined);
    expect(tooMuch).to.equal(undefined); // a zero payment is not a new voucher
    await expectCode(
      (async () => await payee.receive({ ...(await payer.pay(id, DEPOSIT - PRICE)), amount: DEPOSIT + 1n }))(),
      "VOUCHER_WRONG_SIGNER",
    );
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    // bob enforced his largest voucher (the whole deposit); carol's stray wei stays in the channel (ADR 0002),
    // committed in the fingerprint with nothing owed; the SDK reads it, and has nothing more to pay out.
    expect((await payee.onChain(id)).holdings).to.equal(1n);
    expect((await payee.registration(id)).owed).to.deep.equal([]);
    expect(await payee.defend(id)).to.equal(undefined);
    expect((await payee.store.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("a challenge registered before any voucher is answered by the next scan once vouchers arrive: the payee is paid", async function () {
    const { payer, payee, id } = await channel(0n);
    await payer.challenge(id); // the funding state, before any payment
    const watcher = new ChannelWatcher(payee);
    expect((await watcher.scanOnce()).answered).to.deep.equal([]); // nothing to answer with yet
    // The payer (whose own SDK no longer pays into a channel it challenged) signs a voucher during the window.
    await payee.receive(await signVoucher(f.alice, id, 50n * PRICE));
    expect((await watcher.scanOnce()).answered).to.deep.equal([id]);
    await networkHelpers.time.increase(Number(DEPOSIT > 0n ? 3600 : 0));
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    expect((await watcher.scanOnce()).paidOut).to.deep.equal([id]);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore + DEPOSIT - 50n * PRICE);
  });

  it("a voucher that arrives while the payee's own challenge runs is enforced too (re-challenge, not a checkpoint)", async function () {
    const { payer, payee, id } = await channel(PRICE);
    await payee.challenge(id);
    await payee.receive(await payer.pay(id, PRICE)); // a voucher already on its way
    expect((await new ChannelWatcher(payee).scanOnce()).answered).to.deep.equal([id]);
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore + DEPOSIT - 2n * PRICE);
  });

  it("a channel closed with a plain conclude (no payout) is paid out from the final state we signed", async function () {
    const { payer, payee, id } = await channel(3n * PRICE);
    const offer = await payee.offerClose(id);
    const record = await payer.store.getChannel(id);
    if (!record) throw new Error("no channel");
    const both = toSigned(
      offer.final,
      new Map([
        [0, await signState(f.alice, id, offer.final)],
        [1, offer.signature],
      ]),
    );
    await f.adjudicator
      .connect(f.alice)
      .conclude(record.fixedPart, both, await registrationNow(f.adjudicator, record.fixedPart));
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    expect((await new ChannelWatcher(payee).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore + DEPOSIT - 3n * PRICE);
  });

  it("refuses vouchers after offering to close, and refuses a watcher with no confirmation depth", async function () {
    const { payer, payee, id } = await channel(PRICE);
    const next = await payer.pay(id, PRICE);
    await payee.offerClose(id);
    await expectCode(payee.receive(next), "CHANNEL_NOT_OPEN");
    await expectCode(new ChannelWatcher(payee, { confirmations: 0 }).scanOnce(), "INVALID_CONFIRMATIONS");
  });

  it("credits each wei once when two processes share a store (each sees what the other stored)", async function () {
    const { payer, payee, id } = await channel(3n);
    const other = new SqliteChannelStore(stores[stores.length - 1].path);
    stores.push(other);
    const v5 = await payer.pay(id, 2n);
    const v7 = await payer.pay(id, 2n);
    expect((await payee.receive(v5)).delta).to.equal(2n);
    expect(await other.putVoucher("received", v7)).to.deep.equal({ kept: true, previous: 5n });
    expect((await payee.receive(v7)).delta).to.equal(0n);
  });

  it("respond answers the payer's challenge of the funding state: the voucher is registered, the payer's deadline stays, both are paid", async function () {
    const { payer, payee, id } = await channel(2n * PRICE);
    await payer.challenge(id);
    const [event] = await f.adjudicator.queryFilter(f.adjudicator.filters.ChallengeRegistered(id));
    const deadline = event.args.finalizesAt;
    await payee.respond(id, variablePartFromEvent(event.args));
    // The channel stays under challenge with the payee's voucher registered (ADR 0005: it never reopens).
    expect(await payee.onChain(id)).to.deep.include({ challenged: true, finalizesAt: deadline, turnNumRecord: 1n });
    await expectCode(payer.checkpoint(id), "TURN_NUMBER_TOO_LOW"); // the payer has nothing newer
    await networkHelpers.time.increaseTo(deadline);
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    expect((await new ChannelWatcher(payee).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore + DEPOSIT - 2n * PRICE);
  });

  it("one account sends concurrent transactions without a nonce race (two closes at once from a bare Wallet)", async function () {
    const wallet = new Wallet(hexlify(randomBytes(32)), ethers.provider);
    await (await f.deployer.sendTransaction({ to: wallet.address, value: parseEther("1") })).wait();
    const payer = await clientFor(f.alice);
    const payee = await clientFor(wallet as unknown as Signer);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { id } = await payer.open({ payee: wallet.address, deposit: DEPOSIT }, (p) => payee.join(p));
      await payee.waitForFunding(id);
      await payee.receive(await payer.pay(id, PRICE));
      ids.push(id);
    }
    const offers = await Promise.all(ids.map((id) => payer.offerClose(id)));
    const receipts = await Promise.all(offers.map((offer) => payee.close(offer)));
    expect(receipts.map((r) => r.status)).to.deep.equal([1, 1]);
    expect(await ethers.provider.getBalance(wallet.address)).to.be.greaterThan(parseEther("1"));
  });
});
