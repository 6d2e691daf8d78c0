// `piecepay channels` and `piecepay withdraw` on a hub's ledger and virtual channels (ADR 0021), run as a user runs
// them: client/cli/bin.mjs as a child process on the stores a leecher and a seeder keep on disk
// (<data-dir>/channels/<address>.db), with `piecepay hub` as a real process on anvil mining a block every second.
// The ledgers and the virtual channel are set up through the SDK's HubConnection, as `get --hub` and `seed --hub`
// would. Every amount is read from the chain: PaidOut events, balances less the gas the chain says was spent.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { getAddress, HDNodeWallet, JsonRpcProvider, parseEther, ZeroAddress } from "ethers";
import { accountStorePath } from "../../../client/cli/stores.js";
import { HubConnection, hubFee, type ProposalOutcome } from "../../../sdk/hub/index.js";
import { channelId, gasSpentSince, PiecepayClient, SqliteChannelStore, signVoucher } from "../../../sdk/node.js";
import {
  Adjudicator__factory,
  LedgerApp__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../../../typechain-types/index.js";
import { type LocalNode, rpc, startAnvil } from "../helpers/nodes.js";
import { cli, jsonLines, type Running, startCli, useScratchDirs } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const FEE_BPS = 20n;
const DEPOSIT = parseEther("1");
const CAPACITY = parseEther("0.5");
const X = parseEther("0.3");
const P = parseEther("0.1");
const FEE = hubFee(P, FEE_BPS);
/** Seconds that mining an exit's few transactions may add to one challenge duration (far below it). */
const MINING_SLACK = 30n;

describe("piecepay channels and withdraw on a hub's ledger and virtual channels", function () {
  this.timeout(300_000);
  const scratch = useScratchDirs("piecepay-ledgers-");
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let record: string;
  let addresses: { adjudicator: string; voucherApp: string; ledgerApp: string; virtualApp: string };
  const running: Running[] = [];

  before(async () => {
    node = await startAnvil(["--block-time", "1"]);
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, staticNetwork: true });
    const deployer = key(9).connect(provider);
    const deploy = async (factory: {
      deploy(): Promise<{ getAddress(): Promise<string>; waitForDeployment(): Promise<unknown> }>;
    }) => {
      const contract = await factory.deploy();
      await contract.waitForDeployment();
      return contract.getAddress();
    };
    addresses = {
      adjudicator: await deploy(new Adjudicator__factory(deployer)),
      voucherApp: await deploy(new VoucherPaymentApp__factory(deployer)),
      ledgerApp: await deploy(new LedgerApp__factory(deployer)),
      virtualApp: await deploy(new VirtualVoucherApp__factory(deployer)),
    };
    record = JSON.stringify({
      chainId: 31337,
      contracts: {
        Adjudicator: { address: addresses.adjudicator },
        VoucherPaymentApp: { address: addresses.voucherApp },
        LedgerApp: { address: addresses.ledgerApp },
        VirtualVoucherApp: { address: addresses.virtualApp },
      },
    });
  });
  afterEach(async () => {
    for (const hub of running.splice(0)) {
      if (hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill("SIGINT");
      await hub.exited;
    }
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
  });

  /** `piecepay hub` with `hubKey`, on a data dir of its own. */
  async function startHub(hubKey: HDNodeWallet): Promise<Running> {
    const dataDir = scratch();
    mkdirSync(path.join(dataDir, "deployments"), { recursive: true });
    writeFileSync(path.join(dataDir, "deployments", "31337.json"), record);
    const hub = await startCli([
      "hub",
      "--key",
      hubKey.privateKey,
      "--rpc",
      node.url,
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--fee-bps",
      String(FEE_BPS),
      "--capacity",
      "0.5",
    ]);
    running.push(hub);
    return hub;
  }

  /** One user: its account's store in its own data dir, where the CLI finds it, and an SDK client on it. */
  async function user(i: number) {
    const dataDir = scratch();
    const wallet = key(i);
    const store = new SqliteChannelStore(accountStorePath(dataDir, wallet.address));
    const client = await PiecepayClient.create({
      signer: wallet.connect(provider),
      chainId: 31337n,
      adjudicator: addresses.adjudicator,
      voucherApp: addresses.voucherApp,
      store,
      pollingIntervalMs: 200,
    });
    return { dataDir, wallet, address: wallet.address, store, client };
  }
  type User = Awaited<ReturnType<typeof user>>;

  /**
   * Ledgers A [leecher, hub] (DEPOSIT) and B [seeder, hub] (CAPACITY), V [leecher, hub, seeder] holding X guaranteed
   * in both, and the leecher's vouchers up to P kept on both sides as a paid session keeps them. The connections
   * are closed on return: the CLI then has the stores (and the hub) to itself.
   */
  async function funded(hub: Running, leecher: User, seeder: User) {
    const url = String(hub.ready.url);
    const outcomes: ProposalOutcome[] = [];
    const onProposal = (o: ProposalOutcome) => outcomes.push(o);
    const l = await HubConnection.connect(leecher.client.context, url, { onProposal });
    const s = await HubConnection.connect(seeder.client.context, url, { onProposal });
    try {
      const { ledgerId: a } = await l.openLedger({ deposit: DEPOSIT });
      const { ledgerId: b } = await s.openLedger({ capacity: CAPACITY });
      const proposal = await l.proposeVirtual({ payee: seeder.address, payerLedger: a, payeeLedger: b, amount: X });
      await l.fundVirtual(proposal, await s.joinVirtual(proposal));
      await waitUntil(async () => outcomes.length >= 2);
      await Promise.all([l.settled(), s.settled()]);
      expect(outcomes.map((o) => o.countersigned)).to.deep.equal([true, true]);
      const v = channelId(31337n, addresses.adjudicator, proposal.fixedPart).toLowerCase();
      for (const amount of [P / 2n, P]) {
        await leecher.store.putVoucher("sent", await signVoucher(leecher.wallet, v, amount));
        await seeder.store.putVoucher("received", await signVoucher(leecher.wallet, v, amount));
      }
      return {
        a: a.toLowerCase(),
        b: b.toLowerCase(),
        v,
        hub: getAddress(String(hub.ready.hub)),
        duration: l.info.challengeDuration,
      };
    } finally {
      l.close();
      s.close();
    }
  }

  /** The payer and payee close V at P through the hub, and the hub settles both ledgers by it. */
  async function closeVirtual(hub: Running, leecher: User, seeder: User, ids: { a: string; b: string; v: string }) {
    const url = String(hub.ready.url);
    const l = await HubConnection.connect(leecher.client.context, url);
    const s = await HubConnection.connect(seeder.client.context, url);
    try {
      const byLeecher = await l.finalState(ids.v, P);
      const bySeeder = await s.finalState(ids.v, P);
      await s.closeVirtual(ids.v, bySeeder.state, byLeecher.signature, bySeeder.signature);
      await waitUntil(async () => (await s.balances(ids.b)).user === P && (await l.balances(ids.a)).hub === P + FEE);
      await Promise.all([l.settled(), s.settled()]);
    } finally {
      l.close();
      s.close();
    }
  }

  /** What each ledger's PaidOut events paid, by `ledger:address`. */
  async function paidOut(ids: string[]): Promise<Record<string, bigint>> {
    const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, provider);
    const paid: Record<string, bigint> = {};
    for (const id of ids) {
      for (const log of await adjudicator.queryFilter(adjudicator.filters.PaidOut(id))) {
        const to = getAddress(`0x${log.args.destination.slice(26)}`);
        paid[`${id}:${to}`] = (paid[`${id}:${to}`] ?? 0n) + log.args.amount;
      }
    }
    return paid;
  }

  const channels = (u: User, ...extra: string[]) => cli(["channels", "--json", "--data-dir", u.dataDir, ...extra]);
  const withdraw = (u: User, ...extra: string[]) =>
    cli(["withdraw", "--json", "--data-dir", u.dataDir, "--rpc", node.url, ...extra], {
      PIECEPAY_KEY: u.wallet.privateKey,
    });
  const kinds = (stdout: string, kind: string) => jsonLines(stdout).filter((row) => row.kind === kind);

  it("channels lists each side's ledger and virtual channel; withdraw --hub is refused while V is guaranteed (nothing lost), then closes each ledger for exactly what V settled", async () => {
    const hub = await startHub(key(2));
    const [leecher, seeder] = [await user(0), await user(1)];
    const ids = await funded(hub, leecher, seeder);

    // --- channels --json: the figures of the latest states both signed, and the vouchers
    const [asLeecher, asSeeder, withChain, table] = await Promise.all([
      channels(leecher),
      channels(seeder),
      channels(leecher, "--rpc", node.url),
      cli(["channels", "--data-dir", seeder.dataDir]),
    ]);
    for (const run of [asLeecher, asSeeder, withChain, table]) expect(run.code, run.stderr).to.equal(0);
    expect(kinds(asLeecher.stdout, "ledger")).to.have.length(1);
    expect(kinds(asLeecher.stdout, "ledger")[0]).to.deep.include({
      id: ids.a,
      hub: ids.hub,
      account: leecher.address,
      phase: "open",
      ourBalance: (DEPOSIT - X).toString(),
      hubBalance: "0",
      locked: X.toString(),
      guarantees: 1,
    });
    expect(kinds(asLeecher.stdout, "virtual")).to.deep.equal([
      {
        kind: "virtual",
        id: ids.v,
        chainId: "31337",
        adjudicator: addresses.adjudicator,
        account: leecher.address,
        role: "payer",
        hub: ids.hub,
        peer: seeder.address,
        phase: "open",
        asset: ZeroAddress,
        amount: X.toString(),
        feeBps: FEE_BPS.toString(),
        vouchers: P.toString(),
        ledger: ids.a,
        guaranteed: true,
        settled: false,
      },
    ]);
    expect(kinds(asSeeder.stdout, "ledger")[0]).to.deep.include({
      id: ids.b,
      hub: ids.hub,
      ourBalance: "0",
      hubBalance: (CAPACITY - X).toString(),
      locked: X.toString(),
      guarantees: 1,
      hubDeposit: CAPACITY.toString(),
    });
    expect(kinds(asSeeder.stdout, "virtual")[0]).to.deep.include({
      role: "payee",
      peer: leecher.address,
      amount: X.toString(),
      vouchers: P.toString(),
      ledger: ids.b,
    });
    expect(kinds(asSeeder.stdout, "direct")).to.deep.equal([]);
    // With --rpc, the ledger's holdings as the chain reads them.
    expect(kinds(withChain.stdout, "ledger")[0].onChain).to.deep.include({
      holdings: DEPOSIT.toString(),
      status: "open",
      paidToUs: "0",
    });
    expect(table.stdout).to.include("Ledger channels with a hub:");
    expect(table.stdout).to.match(/^LEDGER\s+HUB\s+PHASE\s+ASSET\s+OURS\s+HUB'S\s+LOCKED$/m);
    expect(table.stdout).to.match(/open\s+ETH\s+0\.0\s+0\.2\s+0\.3 in 1$/m);
    expect(table.stdout).to.match(/payee\s+\S+\s+\S+\s+open\s+ETH\s+0\.3\s+20 bps\s+received 0\.1$/m);

    // --- withdraw --hub while V is live: the hub refuses, we say why and what to do; no transaction, nothing moved
    const nonce = await provider.getTransactionCount(seeder.address);
    const refused = await withdraw(seeder, "--hub", String(hub.ready.url));
    expect(refused.code, refused.stderr).to.equal(1);
    const [ledgerLine] = kinds(refused.stdout, "ledger");
    const [virtualLine] = kinds(refused.stdout, "virtual");
    expect(ledgerLine).to.deep.include({ id: ids.b, kind: "ledger", action: "failed" });
    expect(String(ledgerLine.error)).to.match(
      /the hub will not close this ledger while it guarantees 1 virtual channel\(s\) \(0\.3 ETH locked\): close or settle them through the hub first, or exit on chain with --force/,
    );
    expect(String(ledgerLine.error)).to.match(/The hub said: .*guarantee/);
    expect(virtualLine).to.deep.include({
      id: ids.v,
      kind: "virtual",
      role: "payee",
      action: "covered",
      ledger: ids.b,
    });
    expect(await provider.getTransactionCount(seeder.address), "no transaction").to.equal(nonce);
    const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, provider);
    expect(await adjudicator.holdings(ZeroAddress, ids.b)).to.equal(CAPACITY);
    expect((await adjudicator.statusOf(ids.b))[1], "not challenged").to.equal(0n);
    expect(kinds((await channels(seeder)).stdout, "ledger")[0]).to.deep.include({
      phase: "open",
      ourBalance: "0",
      locked: X.toString(),
    });

    // --- V closes at P through the hub; then each withdraw --hub is one transaction and pays what V settled
    await closeVirtual(hub, leecher, seeder, ids);
    const settled = await channels(seeder);
    expect(kinds(settled.stdout, "ledger")[0]).to.deep.include({
      ourBalance: P.toString(),
      hubBalance: (CAPACITY - P).toString(),
      locked: "0",
      guarantees: 0,
    });
    expect(kinds(settled.stdout, "virtual")[0]).to.deep.include({ phase: "finalized", settled: true });

    const start = await provider.getBlockNumber();
    const before = await provider.getBalance(seeder.address);
    const closed = await withdraw(seeder, "--hub", String(hub.ready.url));
    expect(closed.code, closed.stderr).to.equal(0);
    expect(kinds(closed.stdout, "ledger")).to.deep.equal([
      {
        id: ids.b,
        kind: "ledger",
        role: "user",
        asset: ZeroAddress,
        action: "paid-out",
        via: "hub",
        paidToUs: P.toString(),
        paidToPeer: (CAPACITY - P).toString(),
      },
    ]);
    expect(kinds(closed.stdout, "virtual")).to.deep.equal([
      { id: ids.v, kind: "virtual", role: "payee", asset: ZeroAddress, action: "nothing", ledger: ids.b },
    ]);
    expect(await provider.getTransactionCount(seeder.address), "one transaction by the seeder").to.equal(nonce + 1);
    const [gas] = await gasSpentSince(provider, [seeder.address], start);
    expect((await provider.getBalance(seeder.address)) - before + gas, "the seeder's balance gained P").to.equal(P);

    const byLeecher = await withdraw(leecher, "--hub", String(hub.ready.url));
    expect(byLeecher.code, byLeecher.stderr).to.equal(0);
    expect(kinds(byLeecher.stdout, "ledger")[0]).to.deep.include({
      action: "paid-out",
      via: "hub",
      paidToUs: (DEPOSIT - P - FEE).toString(),
      paidToPeer: (P + FEE).toString(),
    });
    expect(await paidOut([ids.a, ids.b])).to.deep.equal({
      [`${ids.a}:${leecher.address}`]: DEPOSIT - P - FEE,
      [`${ids.a}:${ids.hub}`]: P + FEE,
      [`${ids.b}:${seeder.address}`]: P,
      [`${ids.b}:${ids.hub}`]: CAPACITY - P,
    });
    const after = kinds((await channels(seeder, "--rpc", node.url)).stdout, "ledger")[0];
    expect(after).to.deep.include({ phase: "withdrawn" });
    expect(after.onChain).to.deep.include({
      holdings: "0",
      paidToUs: P.toString(),
      paidToPeer: (CAPACITY - P).toString(),
    });
    await Promise.all([leecher.store.close(), seeder.store.close()]);
  });

  it("withdraw --force with the hub gone: the seeder is paid exactly P from B, the leecher DEPOSIT - P - fee(P) from A, each within one challenge duration", async () => {
    const hub = await startHub(key(5));
    const [leecher, seeder] = [await user(3), await user(4)];
    const ids = await funded(hub, leecher, seeder);
    hub.child.kill("SIGKILL"); // the hub vanishes mid-download
    await hub.exited;

    const unreachable = await withdraw(seeder, "--hub", String(hub.ready.url));
    expect(unreachable.code).to.equal(1);
    expect(kinds(unreachable.stdout, "ledger")[0]).to.deep.include({ action: "failed" });
    expect(String(kinds(unreachable.stdout, "ledger")[0].error)).to.match(
      /^the hub did not close the ledger: .*\(--force exits on chain without the hub\)$/,
    );

    const start = await provider.getBlockNumber();
    const seederBefore = await provider.getBalance(seeder.address);
    const bySeeder = await forced(seeder, [ids.b, ids.v]);
    expect(bySeeder.code, bySeeder.stderr).to.equal(0);
    expect(bySeeder.stderr).to.match(/exiting the ledger on chain with the 1 virtual channel\(s\) it guarantees/);
    expect(kinds(bySeeder.stdout, "ledger")).to.deep.equal([
      {
        id: ids.b,
        kind: "ledger",
        role: "user",
        asset: ZeroAddress,
        action: "paid-out",
        via: "exit",
        paidToUs: P.toString(),
        paidToPeer: (CAPACITY - P).toString(),
        transactions: 4, // challenge B, challenge V with the largest voucher, reclaim, payout
      },
    ]);
    const [seederGas] = await gasSpentSince(provider, [seeder.address], start);
    expect((await provider.getBalance(seeder.address)) - seederBefore + seederGas).to.equal(P);

    const byLeecher = await forced(leecher, [ids.a]);
    expect(byLeecher.code, byLeecher.stderr).to.equal(0);
    expect(kinds(byLeecher.stdout, "ledger")[0]).to.deep.include({
      action: "paid-out",
      via: "exit",
      paidToUs: (DEPOSIT - P - FEE).toString(),
      paidToPeer: (P + FEE).toString(),
      transactions: 3, // challenge A, reclaim, payout: V was registered by the seeder
    });
    expect(await paidOut([ids.a, ids.b])).to.deep.equal({
      [`${ids.b}:${seeder.address}`]: P,
      [`${ids.b}:${ids.hub}`]: CAPACITY - P,
      [`${ids.a}:${leecher.address}`]: DEPOSIT - P - FEE,
      [`${ids.a}:${ids.hub}`]: P + FEE,
    });
    // Each party's channels finalized within one challenge duration of its first exit transaction.
    const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, provider);
    for (const [party, channelIds] of [
      [seeder, [ids.b, ids.v]],
      [leecher, [ids.a]],
    ] as const) {
      const first = await firstChallengeBy(party.address, start);
      for (const id of channelIds) {
        const [, finalizesAt] = await adjudicator.statusOf(id);
        expect(finalizesAt, `${id} finalized within one duration`).to.be.at.most(first + ids.duration + MINING_SLACK);
      }
    }
    const listed = kinds((await channels(seeder)).stdout, "ledger")[0];
    expect(listed).to.deep.include({ phase: "withdrawn" });
    await Promise.all([leecher.store.close(), seeder.store.close()]);
  });

  /**
   * `withdraw --force` for `u`, letting the chain's time run to the deadline once every channel in `ids` is
   * registered (as waiting one challenge duration would), without moving any deadline.
   */
  async function forced(u: User, ids: string[]) {
    const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, provider);
    let done = false;
    const run = withdraw(u, "--force").finally(() => {
      done = true;
    });
    for (;;) {
      if (done) break;
      const deadlines = await Promise.all(ids.map(async (id) => (await adjudicator.statusOf(id))[1]));
      if (deadlines.every((d) => d > 0n)) {
        const at = deadlines.reduce((m, d) => (d > m ? d : m), 0n);
        const head = BigInt((await provider.getBlock("latest"))?.timestamp ?? 0);
        if (head < at) {
          await rpc(node.url, "evm_setNextBlockTimestamp", [Number(at)]);
          await rpc(node.url, "evm_mine");
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return run;
  }

  /** The timestamp of the block of `account`'s first transaction after block `from`. */
  async function firstChallengeBy(account: string, from: number): Promise<bigint> {
    const head = await provider.getBlockNumber();
    for (let n = from + 1; n <= head; n++) {
      const block = await provider.getBlock(n, true);
      if (block?.prefetchedTransactions.some((tx) => tx.from === account)) return BigInt(block.timestamp);
    }
    throw new Error(`no transaction by ${account}`);
  }
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
