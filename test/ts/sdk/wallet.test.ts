// A wallet apart from the channel's participant, as a web page has it: the wallet is a real EIP-1193 provider (the
// Hardhat network's own, which signs with the node's unlocked development accounts, wrapped by ethers'
// BrowserProvider as a page wraps window.ethereum), the participant a session key the SDK made and kept in the
// store, holding no ETH. Money terms: every payout and refund reaches the wallets, to the wei (gas added back,
// read from the chain), the session keys' balances stay exactly 0 throughout, and a wallet that refuses, is on
// another chain or cannot pay leaves the chain and the balances untouched and nothing stored as funded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type Eip1193Provider, parseEther, type Wallet } from "ethers";
import { network } from "hardhat";
import {
  channelId,
  gasSpentSince,
  InsufficientFundsError,
  type PiecepayClient,
  type PiecepayError,
  SqliteChannelStore,
  sessionKey,
  signState,
  toDestination,
  WrongChainError,
  walletFromEip1193,
} from "../../../sdk/node.js";
import { TestToken__factory } from "../../../typechain-types/index.js";
import { connection, deployFixture, ethers, networkHelpers, sdkClient } from "../helpers/fixtures.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");
/** Methods that make a real wallet show its user a prompt. */
const PROMPTS = /^(eth_sendTransaction|personal_sign|eth_sign|eth_signTypedData.*|eth_signTransaction)$/;

/** The Hardhat network's EIP-1193 provider, recording every method a page would send to its wallet. */
function recordingWallet(inner: Eip1193Provider = connection.provider): Eip1193Provider & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    request(args) {
      calls.push(args.method);
      return inner.request(args);
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<PiecepayError> {
  try {
    await promise;
  } catch (error) {
    return error as PiecepayError;
  }
  return expect.fail("expected a rejection");
}

describe("a wallet apart from the session key", function () {
  this.timeout(60_000);
  let dir: string;
  const stores: SqliteChannelStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "piecepay-wallet-"));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A client whose wallet is `eip1193`'s account `account` and whose participant is its store's session key. */
  async function side(
    f: Awaited<ReturnType<typeof deployFixture>>,
    name: string,
    account: string,
    eip1193: Eip1193Provider,
  ): Promise<{ client: PiecepayClient; key: Wallet; store: SqliteChannelStore }> {
    const store = new SqliteChannelStore(join(dir, `${name}.db`));
    stores.push(store);
    const key = await sessionKey(store);
    // No cache: the test moves the chain's clock between calls, and every read must see it.
    const wallet = await walletFromEip1193(eip1193, { account, cacheTimeout: -1, pollingInterval: 20 });
    return { client: await sdkClient(f, key, store, { wallet }), key, store };
  }

  /** What `account` gained since `block` with its gas added back: exactly what the adjudicator paid it. */
  async function receivedSince(account: string, before: bigint, block: number): Promise<bigint> {
    const [gas] = await gasSpentSince(ethers.provider, [account], block);
    return (await ethers.provider.getBalance(account)) - before + gas;
  }

  async function paidOut(f: Awaited<ReturnType<typeof deployFixture>>, id: string) {
    const events = await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id));
    return events.map((e) => ({ destination: e.args.destination.toLowerCase(), amount: e.args.amount }));
  }

  async function senderOf(hash: string): Promise<string> {
    return (await ethers.provider.getTransaction(hash))?.from ?? "none";
  }

  it("opens with one wallet prompt, pays 10 vouchers with none, and a cooperative close pays both wallets to the wei; the session keys hold 0 throughout", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payerWallet = recordingWallet();
    const payeeWallet = recordingWallet();
    const payer = await side(f, "payer", f.alice.address, payerWallet);
    const payee = await side(f, "payee", f.bob.address, payeeWallet);
    expect(payer.client.walletAddress).to.equal(f.alice.address);
    expect(payer.client.address).to.equal(payer.key.address);
    const keys = [payer.key.address, payee.key.address];
    const keyBalances = () => Promise.all(keys.map((k) => ethers.provider.getBalance(k)));
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all([f.alice, f.bob].map((s) => ethers.provider.getBalance(s)));

    const { id, fixedPart } = await payer.client.open(
      { payee: payee.key.address, payeeDestination: f.bob.address, deposit: DEPOSIT },
      (p) => payee.client.join(p),
    );
    expect(fixedPart.participants).to.deep.equal(keys);
    await payee.client.waitForFunding(id);
    expect(await keyBalances()).to.deep.equal([0n, 0n]);
    expect(payerWallet.calls.filter((m) => PROMPTS.test(m))).to.deep.equal(["eth_sendTransaction"]);

    for (let i = 0; i < 10; i++) await payee.client.receive(await payer.client.pay(id, PRICE));
    // No prompt per piece: the vouchers are signed by the session key, the wallets were not asked anything.
    expect(payerWallet.calls.filter((m) => PROMPTS.test(m))).to.have.length(1);
    expect(payeeWallet.calls.filter((m) => PROMPTS.test(m))).to.deep.equal([]);

    const receipt = await payee.client.close(await payer.client.offerClose(id));
    expect(await senderOf(receipt.hash)).to.equal(f.bob.address);
    const paid = 10n * PRICE;
    expect(await paidOut(f, id)).to.have.deep.members([
      { destination: toDestination(f.alice.address), amount: DEPOSIT - paid },
      { destination: toDestination(f.bob.address), amount: paid },
    ]);
    // alice paid DEPOSIT and got DEPOSIT - paid back; bob got paid; neither lost a wei besides gas.
    expect(await receivedSince(f.alice.address, aliceBefore, start)).to.equal(-paid);
    expect(await receivedSince(f.bob.address, bobBefore, start)).to.equal(paid);
    expect(await keyBalances()).to.deep.equal([0n, 0n]);
    expect(await payee.client.settlement(id)).to.include({ toUs: paid, toPeer: DEPOSIT - paid });
    expect(await payer.client.settlement(id)).to.include({ toUs: DEPOSIT - paid, toPeer: paid });
    expect(await payee.client.settlementIn(id, receipt)).to.deep.equal({ toUs: paid, toPeer: DEPOSIT - paid });
  });

  it("a dispute: the payer's wallet challenges, the payee's wallet answers with its voucher, after the timeout the payer's wallet pays out; the wallets get every wei, the session keys 0", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payer = await side(f, "payer", f.alice.address, recordingWallet());
    const payee = await side(f, "payee", f.bob.address, recordingWallet());
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all([f.alice, f.bob].map((s) => ethers.provider.getBalance(s)));
    const { id } = await payer.client.open(
      { payee: payee.key.address, payeeDestination: f.bob.address, deposit: DEPOSIT },
      (p) => payee.client.join(p),
    );
    await payee.client.waitForFunding(id);
    for (let i = 0; i < 7; i++) await payee.client.receive(await payer.client.pay(id, PRICE));
    const paid = 7n * PRICE;

    // The payer registers the funding state (it pays the payer everything): the session key signs the challenge,
    // the wallet sends it.
    const challenged = await payer.client.challenge(id);
    expect(await senderOf(challenged.hash)).to.equal(f.alice.address);
    expect(await payee.client.defend(id)).to.equal("answered");
    expect((await payee.client.registeredState(id)).outcome[0].allocations[1].amount).to.equal(paid);
    const { finalizesAt } = await payee.client.onChain(id);
    await networkHelpers.time.increaseTo(finalizesAt);
    const payout = await payer.client.payout(id);
    expect(await senderOf(payout.hash)).to.equal(f.alice.address);

    const txs = await Promise.all(
      [challenged.hash, payout.hash].map(async (h) => (await ethers.provider.getTransaction(h))?.to),
    );
    expect(txs).to.deep.equal([f.adjudicatorAddress, f.adjudicatorAddress]);
    expect(await paidOut(f, id)).to.have.deep.members([
      { destination: toDestination(f.alice.address), amount: DEPOSIT - paid },
      { destination: toDestination(f.bob.address), amount: paid },
    ]);
    expect(await receivedSince(f.alice.address, aliceBefore, start)).to.equal(-paid);
    expect(await receivedSince(f.bob.address, bobBefore, start)).to.equal(paid);
    expect(await Promise.all([payer.key, payee.key].map((k) => ethers.provider.getBalance(k)))).to.deep.equal([0n, 0n]);
    expect(await payer.client.settlementIn(id, payout)).to.deep.equal({ toUs: DEPOSIT - paid, toPeer: paid });
  });

  it("the payee alone enforces its voucher (challenge, timeout, payout) from its wallet: paid to its wallet, the payer refunded to its own", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payer = await side(f, "payer", f.alice.address, recordingWallet());
    const payee = await side(f, "payee", f.bob.address, recordingWallet());
    const { id } = await payer.client.open(
      { payee: payee.key.address, payeeDestination: f.bob.address, deposit: DEPOSIT },
      (p) => payee.client.join(p),
    );
    await payee.client.waitForFunding(id);
    for (let i = 0; i < 3; i++) await payee.client.receive(await payer.client.pay(id, PRICE));
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all([f.alice, f.bob].map((s) => ethers.provider.getBalance(s)));
    const receipt = await payee.client.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect(await senderOf(receipt.hash)).to.equal(f.bob.address);
    expect(await receivedSince(f.bob.address, bobBefore, start)).to.equal(3n * PRICE);
    expect(await receivedSince(f.alice.address, aliceBefore, start)).to.equal(DEPOSIT - 3n * PRICE);
    expect(await ethers.provider.getBalance(payee.key.address)).to.equal(0n);
    expect(await payee.client.settlement(id)).to.include({ toUs: 3n * PRICE, toPeer: DEPOSIT - 3n * PRICE });
  });

  it("in an ERC-20 token: two prompts (approve, deposit), the close pays both wallets in the token to the unit; a wallet short of the token is INSUFFICIENT_FUNDS before the approve", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const token = await new TestToken__factory(f.deployer).deploy();
    const asset = await token.getAddress();
    await (await token.mint(f.alice.address, DEPOSIT)).wait();
    const payerWallet = recordingWallet();
    const payer = await side(f, "payer", f.alice.address, payerWallet);
    const payee = await side(f, "payee", f.bob.address, recordingWallet());
    const ask = (p: Parameters<PiecepayClient["join"]>[0]) => payee.client.join(p, { assets: [asset] });

    // More than alice holds: refused before anything is sent, her nonce and tokens as they were.
    const nonce = await ethers.provider.getTransactionCount(f.alice.address);
    const short = await rejection(
      payer.client.open(
        { payee: payee.key.address, payeeDestination: f.bob.address, deposit: DEPOSIT + 1n, asset },
        ask,
      ),
    );
    expect(short).to.be.instanceOf(InsufficientFundsError);
    expect([(short as InsufficientFundsError).held, (short as InsufficientFundsError).needed]).to.deep.equal([
      DEPOSIT,
      DEPOSIT + 1n,
    ]);
    expect((short as InsufficientFundsError).asset).to.equal(asset);
    expect(await ethers.provider.getTransactionCount(f.alice.address)).to.equal(nonce);
    expect(payerWallet.calls.filter((m) => PROMPTS.test(m))).to.deep.equal([]);

    const { id } = await payer.client.open(
      { payee: payee.key.address, payeeDestination: f.bob.address, deposit: DEPOSIT, asset },
      ask,
    );
    await payee.client.waitForFunding(id);
    for (let i = 0; i < 4; i++) await payee.client.receive(await payer.client.pay(id, PRICE));
    expect(payerWallet.calls.filter((m) => PROMPTS.test(m))).to.deep.equal([
      "eth_sendTransaction",
      "eth_sendTransaction",
    ]);
    await payee.client.close(await payer.client.offerClose(id));
    expect(await token.balanceOf(f.alice.address)).to.equal(DEPOSIT - 4n * PRICE);
    expect(await token.balanceOf(f.bob.address)).to.equal(4n * PRICE);
    for (const key of [payer.key, payee.key]) {
      expect(await token.balanceOf(key.address)).to.equal(0n);
      expect(await ethers.provider.getBalance(key.address)).to.equal(0n);
    }
  });

  it("the session key is made once per store and survives a restart; a payee refuses a funding state that pays its share elsewhere, and a zero or channel refund address", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payer = await side(f, "payer", f.alice.address, recordingWallet());
    const payee = await side(f, "payee", f.bob.address, recordingWallet());
    expect((await sessionKey(payer.store)).address).to.equal(payer.key.address);
    await payer.store.close();
    const reopened = new SqliteChannelStore(join(dir, "payer.db"));
    stores.push(reopened);
    expect((await sessionKey(reopened)).address).to.equal(payer.key.address);
    expect(payee.key.address).to.not.equal(payer.key.address);

    const payerAgain = await sdkClient(f, await sessionKey(reopened), reopened, {
      wallet: await walletFromEip1193(connection.provider, { account: f.alice.address, cacheTimeout: -1 }),
    });
    // Without payeeDestination the payee's share goes to the payee's session key: the payee refuses.
    const toKey = await payerAgain.propose({ payee: payee.key.address, deposit: DEPOSIT });
    const refused = await rejection(payee.client.join(toKey));
    expect(refused.code).to.equal("INVALID_PROPOSAL");
    expect(refused.message).to.include(`not to our wallet ${f.bob.address}`);
    // A payer refund to the zero address or to a channel (an internal destination), signed by the payer: refused.
    const good = await payerAgain.propose({ payee: payee.key.address, payeeDestination: f.bob.address, deposit: 5n });
    for (const destination of [`0x${"00".repeat(32)}`, `0x${"ab".repeat(32)}`]) {
      const funding = structuredClone(good.funding);
      funding.outcome[0].allocations[0].destination = destination;
      const id = channelId(f.chainId, f.adjudicatorAddress, good.fixedPart);
      const payerSignature = await signState(payer.key, id, funding);
      const error = await rejection(payee.client.join({ ...good, funding, payerSignature }));
      expect(error.code).to.equal("INVALID_PROPOSAL");
      expect(error.message).to.include("not to an account");
    }
    expect(
      (
        await rejection(
          payerAgain.propose({ payee: payee.key.address, payeeDestination: ethers.ZeroAddress, deposit: 5n }),
        )
      ).code,
    ).to.equal("INVALID_PROPOSAL");
    // The well-formed one is accepted.
    expect((await payee.client.join(good)).channelId).to.match(/^0x[0-9a-f]{64}$/);
  });

  describe("when the wallet cannot fund the channel, nothing is sent and nothing is stored as funded", function () {
    /** Proposes and joins with `payerWallet` as the payer's wallet; returns the fund() call's error and the state. */
    async function fundWith(
      payerWallet: Eip1193Provider,
      before?: (f: Awaited<ReturnType<typeof deployFixture>>) => Promise<void>,
    ) {
      const f = await networkHelpers.loadFixture(deployFixture);
      const payer = await side(f, "payer", f.alice.address, payerWallet);
      const payee = await side(f, "payee", f.bob.address, recordingWallet());
      const proposal = await payer.client.propose({
        payee: payee.key.address,
        payeeDestination: f.bob.address,
        deposit: DEPOSIT,
      });
      const acceptance = await payee.client.join(proposal);
      await before?.(f);
      const nonce = await ethers.provider.getTransactionCount(f.alice.address);
      const balance = await ethers.provider.getBalance(f.alice.address);
      const error = await rejection(payer.client.fund(proposal, acceptance));
      const record = await payer.store.getChannel(acceptance.channelId);
      // The funds: no transaction left alice's account, her balance is what it was, the channel holds nothing.
      expect(await ethers.provider.getTransactionCount(f.alice.address)).to.equal(nonce);
      expect(await ethers.provider.getBalance(f.alice.address)).to.equal(balance);
      expect(await f.adjudicator.holdings(ethers.ZeroAddress, acceptance.channelId)).to.equal(0n);
      expect(record?.phase).to.equal("proposed");
      expect(record?.deposited).to.equal(0n);
      expect(record?.funding).to.equal(undefined);
      return { f, error, payer };
    }

    it("the user rejects the deposit's prompt (EIP-1193 4001): USER_REJECTED", async function () {
      const rejecting = recordingWallet({
        async request(args) {
          if (args.method === "eth_sendTransaction") {
            throw Object.assign(new Error("User rejected the request."), { code: 4001 });
          }
          return connection.provider.request(args);
        },
      });
      const { error } = await fundWith(rejecting);
      expect(error.code).to.equal("USER_REJECTED");
      expect(error.message).to.include("rejected the deposit transaction");
      expect(rejecting.calls).to.include("eth_sendTransaction");
    });

    it("the wallet holds the deposit but not its gas: INSUFFICIENT_FUNDS with the amounts, before any transaction", async function () {
      const wallet = recordingWallet();
      const { error } = await fundWith(wallet, (f) => networkHelpers.setBalance(f.alice.address, DEPOSIT));
      expect(error).to.be.instanceOf(InsufficientFundsError);
      const short = error as InsufficientFundsError;
      expect(short.held).to.equal(DEPOSIT);
      expect(short.needed > DEPOSIT).to.equal(true);
      expect(short.message).to.include("holds 1 ETH; the deposit needs 1.");
      expect(wallet.calls).to.not.include("eth_sendTransaction");
    });

    it("the user switched the wallet to another chain: WRONG_CHAIN with both chain ids", async function () {
      const other = await network.create({ override: { chainId: 1337 } });
      try {
        let target: Eip1193Provider = connection.provider;
        const switching = recordingWallet({ request: (args) => target.request(args) });
        const { error, f } = await fundWith(switching, async () => {
          target = other.provider;
        });
        // Nothing was sent on the other chain either.
        const aliceOnOther = await other.provider.request({
          method: "eth_getTransactionCount",
          params: [f.alice.address, "latest"],
        });
        expect(error).to.be.instanceOf(WrongChainError);
        expect((error as WrongChainError).expected).to.equal(31337n);
        expect((error as WrongChainError).actual).to.equal(1337n);
        expect(error.message).to.include("chain 1337, not 31337");
        expect(switching.calls).to.not.include("eth_sendTransaction");
        expect(aliceOnOther).to.equal("0x0");
      } finally {
        await other.close();
      }
    });
  });

  it("a wallet on another chain from the start: create refuses with WRONG_CHAIN and both chain ids", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const other = await network.create({ override: { chainId: 1337 } });
    try {
      const store = new SqliteChannelStore(join(dir, "other.db"));
      stores.push(store);
      const [account] = (await other.provider.request({ method: "eth_accounts" })) as string[];
      const wallet = await walletFromEip1193(other.provider, { account, cacheTimeout: -1 });
      const error = await rejection(sdkClient(f, await sessionKey(store), store, { wallet }));
      expect(error).to.be.instanceOf(WrongChainError);
      expect([(error as WrongChainError).expected, (error as WrongChainError).actual]).to.deep.equal([31337n, 1337n]);
      expect(error.message).to.include("the wallet is on chain 1337, not 31337");
    } finally {
      await other.close();
    }
  });
});
