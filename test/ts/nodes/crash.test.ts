import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther, Wallet, ZeroAddress } from "ethers";
import { SeederProcess } from "../../../client/simulate/processes/handle.js";
import { type ChannelProposal, PiecepayClient, SqliteChannelStore, type Voucher } from "../../../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, rpc, startAnvil } from "../helpers/nodes.js";

const PHRASE = "test test test test test test test test test test test junk";
const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.001");

describe("crash tests: the payee killed at each step of a channel's life", function () {
  this.timeout(180_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let adjudicator: string;
  let voucherApp: string;
  let chainId: bigint;
  let run = 0;
  const keys = new Map<number, string>();
  const wallet = (i: number) => {
    if (!keys.has(i)) keys.set(i, HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey);
    return new Wallet(keys.get(i) as string, provider);
  };

  before(async () => {
    node = await startAnvil(["--accounts", "20"]);
    provider = new JsonRpcProvider(node.url, undefined, { pollingInterval: 50, cacheTimeout: -1 });
    chainId = (await provider.getNetwork()).chainId;
    dir = mkdtempSync(join(tmpdir(), "piecepay-crash-"));
    const deployer = wallet(0);
    adjudicator = await (await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment()).getAddress();
    voucherApp = await (
      await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment()
    ).getAddress();
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh payer (in this process) and payee (a child process, restartable on the same store). */
  async function parties() {
    run++;
    const payerWallet = wallet(2 * run);
    const payeeKey = wallet(2 * run + 1).privateKey;
    const payeeAddress = wallet(2 * run + 1).address;
    const storePath = join(dir, `payee-${run}.db`);
    const payer = await PiecepayClient.create({
      signer: payerWallet,
      chainId,
      adjudicator,
      voucherApp,
      store: new SqliteChannelStore(join(dir, `payer-${run}.db`)),
      confirmations: 1,
      pollingIntervalMs: 50,
      blockTimeSeconds: 1,
      safetyMarginSeconds: 5,
    });
    const startPayee = async () => {
      const p = new SeederProcess([node.url, `${chainId}`, adjudicator, voucherApp, storePath], payeeKey);
      await p.ready;
      return p;
    };
    return { payer, payeeAddress, startPayee };
  }

  async function openChannel(payer: PiecepayClient, payeeAddress: string, payee: SeederProcess) {
    const proposal = await payer.propose({ payee: payeeAddress, deposit: DEPOSIT });
    const acceptance = (await payee.call("join", proposal)) as Parameters<PiecepayClient["fund"]>[1];
    const channel = await payer.fund(proposal, acceptance);
    await payee.call("waitForFunding", channel.id);
    return { proposal, id: channel.id };
  }

  /** Sends `count` vouchers without waiting and kills the payee as soon as `killAfterAcks` are acknowledged. */
  async function payAndKill(
    payer: PiecepayClient,
    payee: SeederProcess,
    id: string,
    count: number,
    killAfterAcks: number,
  ) {
    const vouchers: Voucher[] = [];
    for (let i = 0; i < count; i++) vouchers.push(await payer.pay(id, PRICE));
    let acked = 0n;
    let acks = 0;
    const amountById = new Map<number, bigint>();
    const killed = new Promise<void>((resolve) => {
      payee.onAnswer = (answer) => {
        const amount = amountById.get(answer.id);
        if (!answer.ok || amount === undefined) return;
        if (amount > acked) acked = amount;
        if (++acks === killAfterAcks) void payee.kill().then(resolve);
      };
    });
    for (const voucher of vouchers) amountById.set(payee.post("receive", voucher), voucher.amount);
    await killed;
    return { acked, sent: vouchers[vouchers.length - 1].amount };
  }

  async function payeeGasSince(address: string, fromBlock: number): Promise<bigint> {
    let spent = 0n;
    for (let n = fromBlock; n <= (await provider.getBlockNumber()); n++) {
      const block = await provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from !== address) continue;
        const receipt = await provider.getTransactionReceipt(tx.hash);
        if (receipt) spent += receipt.gasUsed * receipt.gasPrice;
      }
    }
    return spent;
  }

  it("killed right after joining: after a restart it still knows the channel and sees it funded", async function () {
    const { payer, payeeAddress, startPayee } = await parties();
    let payee = await startPayee();
    const proposal: ChannelProposal = await payer.propose({ payee: payeeAddress, deposit: DEPOSIT });
    const acceptance = (await payee.call("join", proposal)) as Parameters<PiecepayClient["fund"]>[1];
    await payee.kill();
    const channel = await payer.fund(proposal, acceptance); // the payer funds while the payee is down
    payee = await startPayee();
    const funded = (await payee.call("waitForFunding", channel.id)) as { phase: string; deposited: bigint };
    expect(funded).to.include({ phase: "open", deposited: DEPOSIT });
    expect(await payee.call("receive", await payer.pay(channel.id, PRICE))).to.equal(PRICE);
    await payee.kill();
  });

  for (const killAfterAcks of [1, 37, 120]) {
    it(`killed with vouchers in flight after ${killAfterAcks} acknowledgements: the store holds at least the largest acknowledged`, async function () {
      const { payer, payeeAddress, startPayee } = await parties();
      let payee = await startPayee();
      const { id } = await openChannel(payer, payeeAddress, payee);
      const { acked, sent } = await payAndKill(payer, payee, id, 150, killAfterAcks);
      expect(acked).to.be.greaterThanOrEqual(BigInt(killAfterAcks) * PRICE);
      payee = await startPayee();
      const { best } = (await payee.call("state", id)) as { best: bigint };
      expect(best >= acked && best <= sent, `acked ${acked} <= best ${best} <= sent ${sent}`).to.equal(true);
      // Settle: the payer offers what it signed; the payee gets it all and the payer the rest, to the wei.
      const payerBefore = await provider.getBalance(payer.address);
      const payeeBefore = await provider.getBalance(payeeAddress);
      const block = await provider.getBlockNumber();
      await payee.call("close", await payer.offerClose(id));
      const gas = await payeeGasSince(payeeAddress, block + 1);
      expect(await provider.getBalance(payer.address)).to.equal(payerBefore + DEPOSIT - sent);
      expect(await provider.getBalance(payeeAddress)).to.equal(payeeBefore + sent - gas);
      await payee.kill();
    });
  }

  it("killed in the middle of the cooperative close: after a restart the close completes once, both paid", async function () {
    const { payer, payeeAddress, startPayee } = await parties();
    let payee = await startPayee();
    const { id } = await openChannel(payer, payeeAddress, payee);
    for (let i = 0; i < 5; i++) await payee.call("receive", await payer.pay(id, PRICE));
    const offer = await payer.offerClose(id);
    const payerBefore = await provider.getBalance(payer.address);
    payee.post("close", offer);
    await new Promise((r) => setTimeout(r, 30)); // the transaction may or may not have gone out
    await payee.kill();
    payee = await startPayee();
    // Either the close went out before the kill, or the restarted payee sends it now: never both.
    if ((await holdings(id)) > 0n) await payee.call("close", offer);
    expect(await holdings(id)).to.equal(0n);
    expect(await provider.getBalance(payer.address)).to.equal(payerBefore + DEPOSIT - 5n * PRICE);
    await payee.kill();
  });

  it("killed after its challenge: after a restart its watcher pays out once the challenge finalizes", async function () {
    const { payer, payeeAddress, startPayee } = await parties();
    let payee = await startPayee();
    const { id } = await openChannel(payer, payeeAddress, payee);
    for (let i = 0; i < 3; i++) await payee.call("receive", await payer.pay(id, PRICE));
    // The payer vanishes; the payee starts enforcing its voucher, then crashes.
    await payee.call("challenge", id);
    await payee.kill();
    const [, finalizesAt] = await Adjudicator__factory.connect(adjudicator, provider).statusOf(id);
    await rpc(node.url, "evm_setNextBlockTimestamp", [Number(finalizesAt) + 1]);
    await rpc(node.url, "evm_mine");
    const payerBefore = await provider.getBalance(payer.address);
    payee = await startPayee();
    const report = (await payee.call("scan")) as { paidOut: string[] };
    expect(report.paidOut).to.deep.equal([id]);
    expect(await holdings(id)).to.equal(0n);
    expect(await provider.getBalance(payer.address)).to.equal(payerBefore + DEPOSIT - 3n * PRICE);
    await payee.kill();
  });

  async function holdings(id: string): Promise<bigint> {
    return Adjudicator__factory.connect(adjudicator, provider).holdings(ZeroAddress, id);
  }
});
