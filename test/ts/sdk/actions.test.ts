// The SDK's actions as functions of a context (`piecepay/sdk/actions`), without a PiecepayClient: a channel opened,
// paid, closed and disputed through them, with the chain as the judge of every wei; each action checking the chain
// once however many steps it runs; and a wallet that moves to another chain after that check still sending nothing,
// because every transaction is pinned to the context's chain.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { expect } from "chai";
import { type Eip1193Provider, parseEther, Wallet } from "ethers";
import { network } from "hardhat";
import {
  challenge,
  close,
  createPiecepayContext,
  fund,
  join,
  offerClose,
  open,
  type PiecepayContext,
  type PiecepayContextOptions,
  pay,
  payout,
  propose,
  receive,
  settlement,
  settlementIn,
  waitForFunding,
} from "../../../sdk/actions/index.js";
import { SqliteChannelStore, toDestination, WrongChainError, walletFromEip1193 } from "../../../sdk/node.js";
import { connection, deployFixture, FAST, networkHelpers, ONE } from "../helpers/fixtures.js";

const PRICE = parseEther("0.01");

type Fixture = Awaited<ReturnType<typeof deployFixture>>;

/** Counts the chain checks made through `context` (its real ChainGuard, observed, not replaced). */
function countChecks(context: PiecepayContext): () => number {
  let checks = 0;
  const assert = context.chain.assert.bind(context.chain);
  context.chain.assert = () => {
    checks++;
    return assert();
  };
  return () => {
    const seen = checks;
    checks = 0;
    return seen;
  };
}

describe("actions as functions of a context", function () {
  this.timeout(60_000);
  let dir: string;
  const stores: SqliteChannelStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(joinPath(tmpdir(), "piecepay-actions-"));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function contextFor(
    f: Fixture,
    name: string,
    extra: Partial<PiecepayContextOptions> & Pick<PiecepayContextOptions, "signer">,
  ) {
    const store = new SqliteChannelStore(joinPath(dir, `${name}.db`));
    stores.push(store);
    return createPiecepayContext({
      chainId: f.chainId,
      adjudicator: f.adjudicatorAddress,
      voucherApp: f.appAddress,
      store,
      ...FAST,
      ...extra,
    });
  }

  it("open, pay, close with no client: the chain pays the payee what the vouchers say and refunds the rest, to the wei", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payer = await contextFor(f, "payer", { signer: f.alice });
    const payee = await contextFor(f, "payee", { signer: f.bob });
    const { id } = await open(payer, {
      payee: f.bob.address,
      deposit: ONE,
      ask: (proposal) => join(payee, { proposal }),
    });
    await waitForFunding(payee, { channelId: id });
    for (let i = 0; i < 5; i++) {
      const { delta } = await receive(payee, { voucher: await pay(payer, { channelId: id, amount: PRICE }) });
      expect(delta).to.equal(PRICE);
    }
    const receipt = await close(payee, { offer: await offerClose(payer, { channelId: id }) });
    // The chain: PaidOut events of this channel, and nothing left in it.
    const events = await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id));
    const paid = new Map(events.map((e) => [e.args.destination.toLowerCase(), e.args.amount]));
    expect(paid.get(toDestination(f.bob.address))).to.equal(5n * PRICE);
    expect(paid.get(toDestination(f.alice.address))).to.equal(ONE - 5n * PRICE);
    expect(await f.adjudicator.holdings("0x0000000000000000000000000000000000000000", id)).to.equal(0n);
    // What the actions report agrees with those events.
    expect(await settlementIn(payee, { channelId: id, receipt })).to.deep.equal({
      toUs: 5n * PRICE,
      toPeer: ONE - 5n * PRICE,
    });
    expect((await settlement(payer, { channelId: id })).toUs).to.equal(ONE - 5n * PRICE);
  });

  it("each action checks the chain once, however many steps it runs (a challenge used to ask three times)", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payer = await contextFor(f, "payer", { signer: f.alice });
    const payee = await contextFor(f, "payee", { signer: f.bob });
    const payerChecks = countChecks(payer);
    const payeeChecks = countChecks(payee);

    const proposal = await propose(payer, { payee: f.bob.address, deposit: ONE });
    expect(payerChecks(), "propose").to.equal(1);
    const acceptance = await join(payee, { proposal });
    expect(payeeChecks(), "join").to.equal(1);
    const { id } = await fund(payer, { proposal, acceptance });
    expect(payerChecks(), "fund: the check, then the deposit sent without another").to.equal(1);
    await waitForFunding(payee, { channelId: id });
    payeeChecks(); // the funding poll checks once per look: not an action's
    await receive(payee, { voucher: await pay(payer, { channelId: id, amount: PRICE }) });
    expect([payerChecks(), payeeChecks()], "pay and receive: no round trip").to.deep.equal([0, 0]);

    await challenge(payee, { channelId: id });
    expect(payeeChecks(), "challenge: bestState and the transaction inside it ask no more").to.equal(1);
    const [, finalizesAt] = await f.adjudicator.statusOf(id);
    await networkHelpers.time.increaseTo(finalizesAt);
    const receipt = await payout(payee, { channelId: id });
    expect(payeeChecks(), "payout").to.equal(1);
    // The payee's voucher, paid by the chain.
    expect((await settlementIn(payee, { channelId: id, receipt })).toUs).to.equal(PRICE);
    const events = await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id));
    expect(events.find((e) => e.args.destination.toLowerCase() === toDestination(f.bob.address))?.args.amount).to.equal(
      PRICE,
    );
  });

  it("a wallet moved to another chain after the action's check: the pinned chain id stops the deposit (WRONG_CHAIN), nothing is sent on either chain, the channel stays proposed", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const other = await network.create({ override: { chainId: 1337 } });
    try {
      let target: Eip1193Provider = connection.provider;
      let moveOnEstimate = false;
      const calls: string[] = [];
      const switching: Eip1193Provider = {
        request(args) {
          calls.push(args.method);
          // The user switches networks while the deposit is being prepared: after fund's check, before the send.
          if (moveOnEstimate && args.method === "eth_estimateGas") target = other.provider;
          return target.request(args);
        },
      };
      const wallet = await walletFromEip1193(switching, { account: f.alice.address, cacheTimeout: -1 });
      const payer = await contextFor(f, "payer", { signer: Wallet.createRandom(), wallet });
      const payee = await contextFor(f, "payee", { signer: f.bob });
      const proposal = await propose(payer, { payee: f.bob.address, deposit: ONE });
      const acceptance = await join(payee, { proposal });
      const nonce = await connection.ethers.provider.getTransactionCount(f.alice.address);
      moveOnEstimate = true;
      const error = await fund(payer, { proposal, acceptance }).then(
        () => expect.fail("the deposit went through"),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(WrongChainError);
      expect([(error as WrongChainError).expected, (error as WrongChainError).actual]).to.deep.equal([31337n, 1337n]);
      // The funds: no transaction from alice on either chain, the channel holds nothing, the store says proposed.
      expect(await connection.ethers.provider.getTransactionCount(f.alice.address)).to.equal(nonce);
      const onOther = await other.provider.request({
        method: "eth_getTransactionCount",
        params: [f.alice.address, "latest"],
      });
      expect(BigInt(onOther as string)).to.equal(0n);
      expect(await f.adjudicator.holdings("0x0000000000000000000000000000000000000000", acceptance.channelId)).to.equal(
        0n,
      );
      expect((await payer.store.getChannel(acceptance.channelId))?.phase).to.equal("proposed");
    } finally {
      await other.close();
    }
  });
});
