// `piecepay hub` as a real process on anvil mining a block every second, killed with SIGKILL after each step of a
// virtual channel's life and started again on its data dir. The leecher and the seeder (the SDK's HubConnection)
// reconnect and carry on; at the end each withdraws its ledger and the chain's PaidOut events pay each to the wei.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { getAddress, HDNodeWallet, JsonRpcProvider, parseEther } from "ethers";
import { HubConnection, hubFee, type ProposalOutcome } from "../../../sdk/hub/index.js";
import { channelId, MemoryChannelStore, PiecepayClient, signVoucher } from "../../../sdk/index.js";
import {
  Adjudicator__factory,
  LedgerApp__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../../../typechain-types/index.js";
import { type LocalNode, startAnvil } from "../helpers/nodes.js";
import { type Running, startCli, useScratchDirs } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const FEE_BPS = 20n;
const DEPOSIT = parseEther("1");
const CAPACITY = parseEther("0.5");
const X = parseEther("0.3");
const P = parseEther("0.1");

describe("piecepay hub, a process killed at each step of a virtual channel's life", function () {
  this.timeout(240_000);
  const scratch = useScratchDirs("piecepay-hub-");
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let record: string;
  let addresses: { adjudicator: string; voucherApp: string; ledgerApp: string; virtualApp: string };

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
  after(async () => {
    provider?.destroy();
    await node?.stop();
  });

  it("prints its URL and fee, and after SIGKILL at each step resumes: one deposit, no further transaction, each paid to the wei", async () => {
    const dataDir = scratch();
    mkdirSync(path.join(dataDir, "deployments"), { recursive: true });
    writeFileSync(path.join(dataDir, "deployments", "31337.json"), record);
    const hubKey = key(2);
    const startHub = () =>
      startCli([
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
    let hub: Running = await startHub();
    expect(hub.ready).to.deep.include({ event: "ready", hub: hubKey.address, feeBps: Number(FEE_BPS) });
    const kill = async () => {
      hub.child.kill("SIGKILL");
      await hub.exited;
      hub = await startHub();
    };

    const client = (i: number) =>
      PiecepayClient.create({
        signer: key(i).connect(provider),
        chainId: 31337n,
        adjudicator: addresses.adjudicator,
        voucherApp: addresses.voucherApp,
        store: new MemoryChannelStore(),
        pollingIntervalMs: 200,
      });
    const leecherClient = await client(0);
    const seederClient = await client(1);
    const outcomes: ProposalOutcome[] = [];
    const connect = async () => {
      const url = String(hub.ready.url);
      const onProposal = (o: ProposalOutcome) => outcomes.push(o);
      const leecher = await HubConnection.connect(leecherClient.context, url, { onProposal });
      const seeder = await HubConnection.connect(seederClient.context, url, { onProposal });
      return { leecher, seeder };
    };
    let { leecher, seeder } = await connect();
    /** The hub holds the same latest state of `ledgerId` as we do. */
    const inStep = async (ledgerId: string) => {
      const mine = (await leecherClient.context.store.getChannel(ledgerId)) !== undefined;
      const [user, store] = mine ? [leecher, leecherClient.context.store] : [seeder, seederClient.context.store];
      const view = (await user.rpc.call("ledger.get", { ledgerId })) as {
        latest: { variablePart: { turnNum: string } };
      };
      return (
        BigInt(view.latest.variablePart.turnNum) === (await store.getSupportedState(ledgerId))?.variablePart.turnNum
      );
    };
    const reconnect = async () => {
      leecher.close();
      seeder.close();
      await kill();
      ({ leecher, seeder } = await connect());
    };
    try {
      const { ledgerId: a } = await leecher.openLedger({ deposit: DEPOSIT });
      const { ledgerId: b } = await seeder.openLedger({ capacity: CAPACITY });
      const nonces = [
        await provider.getTransactionCount(key(0).address),
        await provider.getTransactionCount(key(1).address),
      ];

      const proposal = await leecher.proposeVirtual({
        payee: key(1).address,
        payerLedger: a,
        payeeLedger: b,
        amount: X,
      });
      await reconnect(); // killed after signing V0
      const payeeSignature = await seeder.joinVirtual(proposal);
      await leecher.fundVirtual(proposal, payeeSignature);
      await waitFor(() => outcomes.length >= 1);
      await reconnect(); // killed after the payer's guarantee, before or after the payee's
      await waitUntil(
        async () => (await seeder.balances(b)).hub === CAPACITY - X && (await inStep(b)) && (await inStep(a)),
      );
      expect(await seeder.balances(b)).to.deep.equal({ user: 0n, hub: CAPACITY - X });

      const vId = channelId(31337n, addresses.adjudicator, proposal.fixedPart);
      await leecherClient.context.store.putVoucher("sent", await signVoucher(key(0), vId, P));
      await seederClient.context.store.putVoucher("received", await signVoucher(key(0), vId, P));
      const byLeecher = await leecher.finalState(vId, P);
      const bySeeder = await seeder.finalState(vId, P);
      await seeder.closeVirtual(vId, bySeeder.state, byLeecher.signature, bySeeder.signature);
      await reconnect(); // killed after V_F, with the settlements maybe not countersigned
      await waitUntil(async () => (await seeder.balances(b)).user === P && (await inStep(b)) && (await inStep(a)));
      // Every proposal was countersigned; the only failures are answers cut by our own SIGKILL of the hub.
      expect(
        outcomes.filter((o) => !o.countersigned && !/closed/.test(o.reason ?? "")),
        "nothing refused",
      ).to.deep.equal([]);
      expect(
        [await provider.getTransactionCount(key(0).address), await provider.getTransactionCount(key(1).address)],
        "no transaction by leecher or seeder for the virtual channel",
      ).to.deep.equal(nonces);

      await leecher.withdraw(a);
      await seeder.withdraw(b);
      const fee = hubFee(P, FEE_BPS);
      const adjudicator = Adjudicator__factory.connect(addresses.adjudicator, provider);
      const paid: Record<string, bigint> = {};
      for (const id of [a, b]) {
        for (const log of await adjudicator.queryFilter(adjudicator.filters.PaidOut(id))) {
          const to = getAddress(`0x${log.args.destination.slice(26)}`);
          paid[`${id}:${to}`] = (paid[`${id}:${to}`] ?? 0n) + log.args.amount;
        }
      }
      expect(paid).to.deep.equal({
        [`${a}:${key(0).address}`]: DEPOSIT - P - fee,
        [`${a}:${hubKey.address}`]: P + fee,
        [`${b}:${key(1).address}`]: P,
        [`${b}:${hubKey.address}`]: CAPACITY - P,
      });
      expect(hub.stdout()).to.match(/"event":"log"/);
    } catch (error) {
      console.log(
        "outcomes",
        outcomes,
        "\nhub stdout",
        hub.stdout().slice(-4000),
        "\nhub stderr",
        hub.stderr().slice(-2000),
      );
      throw error;
    } finally {
      leecher.close();
      seeder.close();
      hub.child.kill("SIGINT");
      await hub.exited;
    }
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
