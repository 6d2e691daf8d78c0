// Topping up a hub's ledger (ADR 0021, decision 7), and ledgers in an ERC-20 token,, on Hardhat's in-process chain with the real adjudicator and apps:
// a leecher adds its own deposit to its ledger (one transaction; the hub signs the trailing top-up first, then folds
// it once the chain holds it), a seeder asks the hub for more capacity (the hub's transaction, none of the seeder's).
// The hub's engine runs behind its WebSocket API; the users are the SDK's HubConnection. Every figure is read from the
// chain: holdings, and the PaidOut events of each ledger's withdrawal.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { RpcServer } from "../../../client/hub/rpc-server.js";
import { HubConnection, HubError, hubFee, ledgerBalances } from "../../../sdk/hub/index.js";
import { MemoryChannelStore, settlementOf, signVoucher } from "../../../sdk/index.js";
import { LedgerApp__factory, TestToken__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, networkHelpers, sdkClient } from "../helpers/fixtures.js";
import { startHubEngine } from "../helpers/hub-engine.js";

const DURATION = 3600n;
const FEE_BPS = 25n;
const DEPOSIT = parseEther("0.1");
const TOP_UP = parseEther("0.4");
const CAPACITY = parseEther("0.2");
const MAX_CAPACITY = parseEther("0.5");

async function hubFixture() {
  const f = await deployFixture();
  const ledgerApp = await (await new LedgerApp__factory(f.deployer).deploy()).getAddress();
  const virtualApp = await (await new VirtualVoucherApp__factory(f.deployer).deploy()).getAddress();
  // A plain ERC-20 token, held by the leecher (to pay) and by the hub (for capacity).
  const token = await new TestToken__factory(f.deployer).deploy();
  await token.mint(f.alice.address, TOKENS);
  await token.mint(f.carol.address, TOKENS);
  return { ...f, leecher: f.alice, seeder: f.bob, hubKey: f.carol, ledgerApp, virtualApp, token };
}

const TOKENS = 1_000_000n;

describe("a hub's ledgers: top-ups and ERC-20 tokens", function () {
  this.timeout(120_000);
  let server: RpcServer | undefined;
  const connections: HubConnection[] = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function setup() {
    const f = await networkHelpers.loadFixture(hubFixture);
    ({ server } = await startHubEngine(f, {
      feeBps: FEE_BPS,
      challengeDuration: DURATION,
      maxCapacity: MAX_CAPACITY,
      assets: [ZeroAddress, await f.token.getAddress()],
      capacities: { [await f.token.getAddress()]: 500_000n },
      store: new MemoryChannelStore(),
    }));
    const leecherClient = await sdkClient(f, f.leecher, new MemoryChannelStore());
    const seederClient = await sdkClient(f, f.seeder, new MemoryChannelStore());
    const leecher = await HubConnection.connect(leecherClient.context, server.url);
    const seeder = await HubConnection.connect(seederClient.context, server.url);
    connections.push(leecher, seeder);
    return { f, leecher, seeder, leecherClient, seederClient, url: server.url };
  }

  it("a leecher's top-up: one transaction of its own, then a virtual channel above its first deposit, each paid exactly at withdraw", async () => {
    const { f, leecher, seeder, leecherClient } = await setup();
    const { ledgerId: a } = await leecher.openLedger({ deposit: DEPOSIT });
    const { ledgerId: b } = await seeder.openLedger({ capacity: MAX_CAPACITY });
    const nonce = await f.leecher.getNonce();
    await leecher.topUpLedger(a, TOP_UP);
    expect(await f.leecher.getNonce(), "one transaction: the deposit").to.equal(nonce + 1);
    expect(await f.adjudicator.holdings(ZeroAddress, a)).to.equal(DEPOSIT + TOP_UP);
    expect(await leecher.balances(a)).to.deep.equal({ user: DEPOSIT + TOP_UP, hub: 0n });
    const latest = await leecherClient.context.store.getSupportedState(a);
    expect(latest?.signedBy, "folded and signed by both").to.equal(3n);
    expect(ledgerBalances(latest?.variablePart.outcome ?? []).topUp).to.equal(undefined);
    // The top-up pays: a virtual channel holding more than the first deposit, paid P, closed, settled.
    const x = parseEther("0.3");
    const p = parseEther("0.25");
    const proposal = await leecher.proposeVirtual({
      payee: f.seeder.address,
      payerLedger: a,
      payeeLedger: b,
      amount: x,
    });
    await leecher.fundVirtual(proposal, await seeder.joinVirtual(proposal));
    const vId = (await leecherClient.context.store.listChannels()).find((r) => r.virtual)?.id as string;
    await leecher.waitForLedger(vId, "guaranteed", { timeoutMs: 10_000 });
    await seeder.waitForLedger(vId, "guaranteed", { timeoutMs: 10_000 });
    await leecherClient.context.store.putVoucher("sent", await signVoucher(f.leecher, vId, p));
    const { signature } = await leecher.finalState(vId, p);
    await seeder.acceptClose(vId, p, signature, { minimum: p });
    await leecher.waitForLedger(vId, "settled", { timeoutMs: 10_000 });
    await seeder.waitForLedger(vId, "settled", { timeoutMs: 10_000 });
    await leecher.settled();
    await seeder.settled();
    await leecher.withdraw(a);
    await seeder.withdraw(b);
    const paid = async (id: string, who: string) => (await settlementOf(f.adjudicator, id, [who])).paid[0];
    expect(await paid(a, f.leecher.address)).to.equal(DEPOSIT + TOP_UP - p - hubFee(p, FEE_BPS));
    expect(await paid(b, f.seeder.address)).to.equal(p);
  });

  it("a seeder asks the hub for capacity: the hub deposits, the seeder sends nothing; above the hub's maximum it is refused and nothing moves", async () => {
    const { f, seeder } = await setup();
    const { ledgerId: b } = await seeder.openLedger({ capacity: CAPACITY });
    const nonce = await f.seeder.getNonce();
    await seeder.requestCapacity(b, parseEther("0.2"), { timeoutMs: 20_000 });
    expect(await f.seeder.getNonce(), "no transaction of the seeder's").to.equal(nonce);
    expect(await f.adjudicator.holdings(ZeroAddress, b)).to.equal(CAPACITY + parseEther("0.2"));
    expect(await seeder.balances(b)).to.deep.equal({ user: 0n, hub: CAPACITY + parseEther("0.2") });
    const refused = await seeder.requestCapacity(b, parseEther("0.2"), { timeoutMs: 5_000 }).then(
      () => undefined,
      (error) => error,
    );
    expect(refused).to.be.instanceOf(HubError);
    expect((refused as HubError).reason).to.equal("INSUFFICIENT_CAPACITY");
    expect(await f.adjudicator.holdings(ZeroAddress, b)).to.equal(CAPACITY + parseEther("0.2"));
    await seeder.withdraw(b);
    expect((await settlementOf(f.adjudicator, b, [f.seeder.address])).paid[0], "the seeder earned nothing").to.equal(
      0n,
    );
  });

  it("ledgers in an ERC-20 token: a virtual channel between two token ledgers pays in the token; one between a token ledger and an ETH ledger is refused", async () => {
    const { f, leecher, seeder, leecherClient } = await setup();
    const token = await f.token.getAddress();
    const { ledgerId: a } = await leecher.openLedger({ deposit: 300_000n, asset: token });
    const { ledgerId: b } = await seeder.openLedger({ capacity: 500_000n, asset: token });
    expect(await f.adjudicator.holdings(token, a)).to.equal(300_000n);
    expect(await f.adjudicator.holdings(token, b)).to.equal(500_000n);
    // Above the hub's capacity in this token: refused before anything is deposited.
    const over = await seeder.openLedger({ capacity: 500_001n, asset: token }).then(
      () => undefined,
      (error) => error,
    );
    expect((over as HubError).reason).to.equal("INSUFFICIENT_CAPACITY");
    const { ledgerId: ethLedger } = await seeder.openLedger({ capacity: CAPACITY });
    const mixed = await leecher
      .proposeVirtual({ payee: f.seeder.address, payerLedger: a, payeeLedger: ethLedger, amount: 100_000n })
      .then(
        () => undefined,
        (error) => error,
      );
    expect((mixed as HubError).reason, "a token ledger cannot pay through an ETH ledger").to.equal("BAD_STATE");

    const p = 200_000n;
    const x = 250_000n;
    const proposal = await leecher.proposeVirtual({
      payee: f.seeder.address,
      payerLedger: a,
      payeeLedger: b,
      amount: x,
    });
    expect(proposal.v0.outcome[0].asset).to.equal(token);
    await leecher.fundVirtual(proposal, await seeder.joinVirtual(proposal));
    const vId = (await leecherClient.context.store.listChannels()).find((r) => r.virtual)?.id as string;
    await seeder.waitForLedger(vId, "guaranteed", { timeoutMs: 10_000 });
    const { signature } = await leecher.finalState(vId, p);
    await seeder.acceptClose(vId, p, signature, { minimum: p });
    await leecher.waitForLedger(vId, "settled", { timeoutMs: 10_000 });
    await seeder.waitForLedger(vId, "settled", { timeoutMs: 10_000 });
    await leecher.settled();
    await seeder.settled();
    const before = [await f.token.balanceOf(f.leecher.address), await f.token.balanceOf(f.seeder.address)];
    await leecher.withdraw(a);
    await seeder.withdraw(b);
    const fee = hubFee(p, FEE_BPS);
    expect((await settlementOf(f.adjudicator, a, [f.leecher.address])).paid[0]).to.equal(300_000n - p - fee);
    expect((await settlementOf(f.adjudicator, b, [f.seeder.address])).paid[0]).to.equal(p);
    expect(await f.token.balanceOf(f.leecher.address)).to.equal(before[0] + 300_000n - p - fee);
    expect(await f.token.balanceOf(f.seeder.address)).to.equal(before[1] + p);
  });
});
