// The hub's engine behind its WebSocket API, on Hardhat's in-process chain with the real adjudicator and apps and a
// SQLite store: a leecher and a seeder each open one ledger with the hub, the leecher pays the seeder through a
// virtual channel that no transaction opens or closes, both ledgers are settled off chain, and each party withdraws.
// Every figure is read from the chain's PaidOut events; each user checks every state before it signs it, as the SDK
// rules say (checkLedgerUpdate).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { getAddress, parseEther, type Signer, ZeroAddress } from "ethers";
import { Hub } from "../../../client/hub/hub.js";
import { type RpcServer, startRpcServer } from "../../../client/hub/rpc-server.js";
import {
  checkLedgerUpdate,
  HubConnection,
  type HubError,
  HubRpcClient,
  hubFee,
  ledgerOutcome,
  type ProposalOutcome,
  readVariablePart,
  signLogin,
  virtualChannelOutcome,
  virtualNonce,
} from "../../../sdk/hub/index.js";
import {
  channelId,
  type FixedPart,
  MemoryChannelStore,
  signState,
  signVoucher,
  toDestination,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { SqliteChannelStore } from "../../../sdk/node.js";
import { LedgerApp__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, ethers, networkHelpers, sdkClient } from "../helpers/fixtures.js";

const DURATION = 3600n;
const FEE_BPS = 25n;
const DEPOSIT = parseEther("1");
const CAPACITY = parseEther("0.5");
const X = parseEther("0.2");
const P = parseEther("0.05");

/** A user of the hub: its RPC connection (logged in) and the proposals pushed to it. */
async function userOf(url: string, signer: Signer, hub: string, chainId: bigint) {
  const rpc = await HubRpcClient.connect(url);
  const proposals: { ledgerId: string; state: unknown; signature: string; purpose: string }[] = [];
  const waiting: (() => void)[] = [];
  rpc.onNotification = (method, params) => {
    if (method !== "ledger.proposed") return;
    proposals.push(params as (typeof proposals)[number]);
    for (const wake of waiting.splice(0)) wake();
  };
  const { nonce } = (await rpc.call("login.nonce", {})) as { nonce: string };
  const address = getAddress(await signer.getAddress());
  await rpc.call("login", { address, signature: await signLogin(signer, hub, chainId, nonce) });
  /** The next proposal pushed to us (waits for it). */
  async function nextProposal() {
    while (proposals.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    const proposal = proposals.shift() as (typeof proposals)[number];
    return { ...proposal, state: readVariablePart(proposal, "state") };
  }
  return { rpc, address, signer, nextProposal, proposals };
}
type User = Awaited<ReturnType<typeof userOf>>;

async function hubFixture() {
  const f = await deployFixture();
  const { alice: leecher, bob: seeder, carol: hubKey } = f;
  const ledgerApp = await (await new LedgerApp__factory(f.deployer).deploy()).getAddress();
  const virtualApp = await (await new VirtualVoucherApp__factory(f.deployer).deploy()).getAddress();
  return { ...f, leecher, seeder, hubKey, ledgerApp, virtualApp };
}
type Fixture = Awaited<ReturnType<typeof hubFixture>>;

describe("the hub engine over its API", function () {
  this.timeout(60_000);
  let dir: string;
  let server: RpcServer | undefined;
  let store: SqliteChannelStore | undefined;
  const log: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "piecepay-hub-"));
  });
  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts (or restarts) the hub on the store in `dir`. */
  async function startHub(f: Fixture) {
    await server?.close();
    await store?.close();
    // As `piecepay hub` opens it: group commit.
    store = new SqliteChannelStore(path.join(dir, "hub.db"), { commit: "group" });
    const hubSigner = f.hubKey;
    const hub = new Hub({
      signer: hubSigner,
      chainId: f.chainId,
      adjudicator: f.adjudicatorAddress,
      ledgerApp: f.ledgerApp,
      virtualApp: f.virtualApp,
      feeBps: FEE_BPS,
      challengeDuration: DURATION,
      maxCapacity: CAPACITY,
      store,
      log: (line) => log.push(line),
      chain: {
        holdings: (asset, id) => f.adjudicator.holdings(asset, id),
        deposit: async (asset, id, expectedHeld, amount) => {
          await (
            await f.adjudicator.connect(hubSigner).deposit(asset, id, expectedHeld, amount, { value: amount })
          ).wait();
        },
      },
    });
    await hub.start();
    server = await startRpcServer({
      host: "127.0.0.1",
      port: 0,
      handlers: hub.handlers(),
      log: (line) => log.push(line),
      onClose: (connection) => hub.disconnected(connection),
    });
    return { hub, url: server.url, address: hub.address };
  }

  /** Opens a ledger [user, hub] holding `userAmount` from the user and `hubAmount` from the hub. */
  async function openLedger(f: Fixture, user: User, hub: string, userAmount: bigint, hubAmount: bigint, nonce: bigint) {
    const fixedPart: FixedPart = {
      participants: [user.address, hub],
      channelNonce: nonce,
      appDefinition: f.ledgerApp,
      challengeDuration: DURATION,
    };
    const id = channelId(f.chainId, f.adjudicatorAddress, fixedPart);
    const state: VariablePart = {
      outcome: ledgerOutcome(ZeroAddress, user.address, hub, userAmount, hubAmount),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const signature = await signState(user.signer, id, state);
    const opened = (await user.rpc.call("ledger.open", { fixedPart, state, signature })) as { signature: string };
    if (userAmount > 0n) {
      await f.adjudicator.connect(user.signer as never).deposit(ZeroAddress, id, 0n, userAmount, { value: userAmount });
    }
    expect(await user.rpc.call("ledger.sync", { ledgerId: id })).to.deep.include({ phase: "open" });
    return {
      id,
      fixedPart,
      latest: toSigned(
        state,
        new Map([
          [0, signature],
          [1, opened.signature],
        ]),
      ),
    };
  }

  /** The leecher proposes V [leecher, hub, seeder] holding X to the hub (V0 signed by the leecher); returns V. */
  async function proposeVirtual(
    f: Fixture,
    leecher: User,
    seeder: User,
    hub: string,
    payerLedger: string,
    payeeLedger: string,
    nonce: bigint,
  ) {
    const fixedPart: FixedPart = {
      participants: [leecher.address, hub, seeder.address],
      channelNonce: virtualNonce(FEE_BPS, nonce),
      appDefinition: f.virtualApp,
      challengeDuration: DURATION,
    };
    const id = channelId(f.chainId, f.adjudicatorAddress, fixedPart);
    const v0: VariablePart = {
      outcome: virtualChannelOutcome(ZeroAddress, leecher.address, hub, seeder.address, X),
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    };
    const signature = await signState(leecher.signer, id, v0);
    await leecher.rpc.call("virtual.propose", { fixedPart, state: v0, signature, payerLedger, payeeLedger });
    return { id, v0 };
  }

  /** Checks a pushed proposal against the change we expect, countersigns it and returns the new latest state. */
  async function countersign(
    user: User,
    ledger: { id: string; latest: ReturnType<typeof toSigned> },
    change: Parameters<typeof checkLedgerUpdate>[2],
  ) {
    const proposal = await user.nextProposal();
    expect(proposal.ledgerId).to.equal(ledger.id);
    checkLedgerUpdate(ledger.latest.variablePart, proposal.state, change);
    const signature = await signState(user.signer, ledger.id, proposal.state);
    await user.rpc.call("ledger.countersign", { ledgerId: ledger.id, turnNum: proposal.state.turnNum, signature });
    ledger.latest = toSigned(
      proposal.state,
      new Map([
        [0, signature],
        [1, proposal.signature],
      ]),
    );
  }

  it("one deposit, a virtual channel with no transaction, both ledgers settled off chain, each party paid to the wei on withdrawal", async () => {
    const f = await networkHelpers.loadFixture(hubFixture);
    const { url, address: hub } = await startHub(f);
    const leecher = await userOf(url, f.leecher, hub, f.chainId);
    const seeder = await userOf(url, f.seeder, hub, f.chainId);
    const info = (await leecher.rpc.call("info", {})) as { feeBps: string; hub: string };
    expect([info.hub, info.feeBps]).to.deep.equal([hub, String(FEE_BPS)]);

    const a = await openLedger(f, leecher, hub, DEPOSIT, 0n, 1n);
    const b = await openLedger(f, seeder, hub, 0n, CAPACITY, 2n);
    const nonces = [
      await ethers.provider.getTransactionCount(leecher.address),
      await ethers.provider.getTransactionCount(seeder.address),
    ];

    // Open V [leecher, hub, seeder] with x, no transaction.
    const { id: vId, v0 } = await proposeVirtual(f, leecher, seeder, hub, a.id, b.id, 7n);
    const payeeSignature = await signState(f.seeder, vId, v0); // the seeder's answer over the wire (vaccept)
    await leecher.rpc.call("virtual.fund", { virtualId: vId, payeeSignature });
    await countersign(leecher, a, { kind: "fund", target: vId, amount: X, from: "user", supportedV0: v0 });
    await countersign(seeder, b, {
      kind: "fund",
      target: vId,
      amount: X,
      from: "hub",
      supportedV0: v0,
      payerGuarantee: X,
    });
    expect(await leecher.rpc.call("virtual.get", { virtualId: vId })).to.deep.include({ phase: "open" });

    // Vouchers go from leecher to seeder only (the hub sees none); the largest is p.
    const voucher = await signVoucher(f.leecher, vId, P);
    expect(voucher.amount).to.equal(P);

    // Close V cooperatively at p: the hub takes fee(p) from the leecher's side.
    const fee = hubFee(P, FEE_BPS);
    const vFinal: VariablePart = {
      outcome: [
        {
          asset: ZeroAddress,
          allocations: [
            { destination: toDestination(leecher.address), amount: X - P - fee },
            { destination: toDestination(hub), amount: fee },
            { destination: toDestination(seeder.address), amount: P },
          ],
        },
      ],
      appData: "0x",
      turnNum: 1n,
      isFinal: true,
    };
    await seeder.rpc.call("virtual.close", {
      virtualId: vId,
      state: vFinal,
      payerSignature: await signState(f.leecher, vId, vFinal),
      payeeSignature: await signState(f.seeder, vId, vFinal),
    });
    await countersign(seeder, b, {
      kind: "settle",
      target: vId,
      virtualOutcome: vFinal.outcome,
      side: "payee",
      largestVoucher: P,
    });
    await countersign(leecher, a, {
      kind: "settle",
      target: vId,
      virtualOutcome: vFinal.outcome,
      side: "payer",
      largestVoucher: P,
    });
    // No transaction by the leecher or the seeder since the ledgers opened.
    expect([
      await ethers.provider.getTransactionCount(leecher.address),
      await ethers.provider.getTransactionCount(seeder.address),
    ]).to.deep.equal(nonces);

    // Withdraw: each closes its ledger with the hub's final signature; the chain pays.
    for (const [user, ledger] of [
      [leecher, a],
      [seeder, b],
    ] as const) {
      const closing = (await user.rpc.call("ledger.close", { ledgerId: ledger.id })) as {
        signature: string;
        state: unknown;
      };
      const final = readVariablePart(closing, "state");
      checkLedgerUpdate(ledger.latest.variablePart, final, { kind: "final" });
      const mine = await signState(user.signer, ledger.id, final);
      await f.adjudicator.connect(user.signer as never).concludeAndTransferAllAssets(
        ledger.fixedPart,
        toSigned(
          final,
          new Map([
            [0, mine],
            [1, closing.signature],
          ]),
        ),
      );
    }
    const paid = await paidOut(f, [a.id, b.id]);
    expect(paid).to.deep.equal({
      [`${a.id}:${leecher.address}`]: DEPOSIT - P - fee,
      [`${a.id}:${hub}`]: P + fee,
      [`${b.id}:${seeder.address}`]: P,
      [`${b.id}:${hub}`]: CAPACITY - P,
    });
  });

  it("refuses what it must: no login, a foreign ledger, a bad signature, another fee, a V above the free balance", async () => {
    const f = await networkHelpers.loadFixture(hubFixture);
    const { url, address: hub } = await startHub(f);
    const anonymous = await HubRpcClient.connect(url);
    const reason = (e: unknown) => (e as HubError).reason;
    expect(await anonymous.call("ledger.get", { ledgerId: `0x${"11".repeat(32)}` }).catch(reason)).to.equal(
      "NOT_LOGGED_IN",
    );
    const { nonce } = (await anonymous.call("login.nonce", {})) as { nonce: string };
    const wrong = await signLogin(f.eve, hub, f.chainId, nonce);
    expect(await anonymous.call("login", { address: f.leecher.address, signature: wrong }).catch(reason)).to.equal(
      "BAD_LOGIN",
    );
    anonymous.close();

    const leecher = await userOf(url, f.leecher, hub, f.chainId);
    const seeder = await userOf(url, f.seeder, hub, f.chainId);
    const a = await openLedger(f, leecher, hub, DEPOSIT, 0n, 1n);
    const b = await openLedger(f, seeder, hub, 0n, CAPACITY, 2n);
    expect(await seeder.rpc.call("ledger.get", { ledgerId: a.id }).catch(reason)).to.equal("NOT_YOURS");

    const vAt = (fee: bigint, x: bigint) => {
      const fixedPart: FixedPart = {
        participants: [leecher.address, hub, seeder.address],
        channelNonce: virtualNonce(fee, 9n),
        appDefinition: f.virtualApp,
        challengeDuration: DURATION,
      };
      const state: VariablePart = {
        outcome: virtualChannelOutcome(ZeroAddress, leecher.address, hub, seeder.address, x),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      };
      return { fixedPart, state, id: channelId(f.chainId, f.adjudicatorAddress, fixedPart) };
    };
    const propose = async (v: ReturnType<typeof vAt>, signer: Signer) =>
      leecher.rpc
        .call("virtual.propose", {
          fixedPart: v.fixedPart,
          state: v.state,
          signature: await signState(signer, v.id, v.state),
          payerLedger: a.id,
          payeeLedger: b.id,
        })
        .then(() => "ok", reason);
    expect(await propose(vAt(FEE_BPS + 1n, X), f.leecher)).to.equal("BAD_FIXED_PART");
    expect(await propose(vAt(FEE_BPS, X), f.eve)).to.equal("BAD_SIGNATURE");
    expect(await propose(vAt(FEE_BPS, DEPOSIT + 1n), f.leecher)).to.equal("INSUFFICIENT_BALANCE");
    expect(await propose(vAt(FEE_BPS, CAPACITY + 1n), f.leecher)).to.equal("INSUFFICIENT_CAPACITY");
    expect(await propose(vAt(FEE_BPS, X), f.leecher)).to.equal("ok");
    // Funding without the payee's signature on V0 is refused, and nothing is proposed in the leecher's ledger.
    const v = vAt(FEE_BPS, X);
    const forged = await signState(f.eve, v.id, v.state);
    expect(await leecher.rpc.call("virtual.fund", { virtualId: v.id, payeeSignature: forged }).catch(reason)).to.equal(
      "BAD_SIGNATURE",
    );
    expect(((await leecher.rpc.call("ledger.get", { ledgerId: a.id })) as { pending?: unknown }).pending).to.equal(
      undefined,
    );
  });

  it("a hub restarted between the payer's guarantee and the payee's proposes the payee's again; nothing signed is lost", async () => {
    const f = await networkHelpers.loadFixture(hubFixture);
    let { url, address: hub } = await startHub(f);
    let leecher = await userOf(url, f.leecher, hub, f.chainId);
    let seeder = await userOf(url, f.seeder, hub, f.chainId);
    const a = await openLedger(f, leecher, hub, DEPOSIT, 0n, 1n);
    const b = await openLedger(f, seeder, hub, 0n, CAPACITY, 2n);
    const { id: vId, v0 } = await proposeVirtual(f, leecher, seeder, hub, a.id, b.id, 3n);
    await leecher.rpc.call("virtual.fund", { virtualId: vId, payeeSignature: await signState(f.seeder, vId, v0) });
    await countersign(leecher, a, { kind: "fund", target: vId, amount: X, from: "user", supportedV0: v0 });
    const before = await seeder.nextProposal(); // B' pushed, not countersigned: the hub dies here
    leecher.rpc.close();
    seeder.rpc.close();
    ({ url, address: hub } = await startHub(f));
    leecher = await userOf(url, f.leecher, hub, f.chainId);
    seeder = await userOf(url, f.seeder, hub, f.chainId);
    const again = await seeder.nextProposal(); // pushed at login
    expect(again.state).to.deep.equal(before.state);
    expect(again.signature).to.equal(before.signature);
    checkLedgerUpdate(b.latest.variablePart, again.state, {
      kind: "fund",
      target: vId,
      amount: X,
      from: "hub",
      supportedV0: v0,
      payerGuarantee: X,
    });
    const signature = await signState(f.seeder, b.id, again.state);
    await seeder.rpc.call("ledger.countersign", { ledgerId: b.id, turnNum: again.state.turnNum, signature });
    expect(await leecher.rpc.call("virtual.get", { virtualId: vId })).to.deep.include({ phase: "open" });
  });

  it("through the SDK's HubConnection: leecher and seeder each check and countersign every proposal, pay by vouchers, close and withdraw; the chain pays each to the wei", async () => {
    const f = await networkHelpers.loadFixture(hubFixture);
    const { url, address: hub } = await startHub(f);
    const leecherClient = await sdkClient(f, f.leecher, new MemoryChannelStore());
    const seederClient = await sdkClient(f, f.seeder, new MemoryChannelStore());
    const leecher = await HubConnection.connect(leecherClient.context, url);
    const seeder = await HubConnection.connect(seederClient.context, url);
    const outcomes: ProposalOutcome[] = [];
    leecher.onProposal = (o) => outcomes.push(o);
    seeder.onProposal = (o) => outcomes.push(o);
    try {
      const { ledgerId: a } = await leecher.openLedger({ deposit: DEPOSIT });
      const { ledgerId: b } = await seeder.openLedger({ capacity: CAPACITY });
      const nonces = [
        await ethers.provider.getTransactionCount(f.leecher.address),
        await ethers.provider.getTransactionCount(f.seeder.address),
      ];
      const proposal = await leecher.proposeVirtual({
        payee: f.seeder.address,
        payerLedger: a,
        payeeLedger: b,
        amount: X,
      });
      const payeeSignature = await seeder.joinVirtual(proposal); // over the wire in a download
      await leecher.fundVirtual(proposal, payeeSignature);
      await waitFor(() => outcomes.length >= 2);
      await seeder.settled();
      expect(outcomes.map((o) => [o.purpose.split(" ")[0], o.countersigned])).to.deep.equal([
        ["fund", true],
        ["fund", true],
      ]);
      expect(await leecher.balances(a)).to.deep.equal({ user: DEPOSIT - X, hub: 0n });
      expect(await seeder.balances(b)).to.deep.equal({ user: 0n, hub: CAPACITY - X });

      const vId = channelId(f.chainId, f.adjudicatorAddress, proposal.fixedPart);
      // Vouchers, as the session pays them: the seeder keeps the largest it received.
      await leecherClient.context.store.putVoucher("sent", await signVoucher(f.leecher, vId, P));
      await seederClient.context.store.putVoucher("received", await signVoucher(f.leecher, vId, P));
      const byLeecher = await leecher.finalState(vId, P);
      const bySeeder = await seeder.finalState(vId, P);
      expect(bySeeder.state).to.deep.equal(byLeecher.state);
      await seeder.closeVirtual(vId, bySeeder.state, byLeecher.signature, bySeeder.signature);
      await waitFor(() => outcomes.length >= 4);
      // The leecher, which did not send the close, holds V_F signed by all three (pushed by the hub): it can
      // conclude V itself should the hub vanish now.
      await leecher.settled();
      expect((await leecherClient.context.store.getChannel(vId))?.virtual?.final?.signedBy).to.equal(7n);
      expect(outcomes.slice(2).map((o) => [o.purpose, o.countersigned, o.reason])).to.deep.equal([
        [`settle ${vId}`, true, undefined],
        [`settle ${vId}`, true, undefined],
      ]);
      expect(
        [
          await ethers.provider.getTransactionCount(f.leecher.address),
          await ethers.provider.getTransactionCount(f.seeder.address),
        ],
        "no transaction by leecher or seeder for the virtual channel",
      ).to.deep.equal(nonces);

      await leecher.withdraw(a);
      await seeder.withdraw(b);
      const fee = hubFee(P, FEE_BPS);
      expect(await paidOut(f, [a, b])).to.deep.equal({
        [`${a}:${f.leecher.address}`]: DEPOSIT - P - fee,
        [`${a}:${hub}`]: P + fee,
        [`${b}:${f.seeder.address}`]: P,
        [`${b}:${hub}`]: CAPACITY - P,
      });
    } finally {
      leecher.close();
      seeder.close();
    }
  });

  it("HubConnection refuses a settlement above the vouchers it received... or paid: the payer does not countersign a settle at more than it signed", async () => {
    const f = await networkHelpers.loadFixture(hubFixture);
    const { url } = await startHub(f);
    const leecherClient = await sdkClient(f, f.leecher, new MemoryChannelStore());
    const seederClient = await sdkClient(f, f.seeder, new MemoryChannelStore());
    const leecher = await HubConnection.connect(leecherClient.context, url);
    const seeder = await HubConnection.connect(seederClient.context, url);
    const outcomes: ProposalOutcome[] = [];
    leecher.onProposal = (o) => outcomes.push(o);
    seeder.onProposal = (o) => outcomes.push(o);
    try {
      const { ledgerId: a } = await leecher.openLedger({ deposit: DEPOSIT });
      const { ledgerId: b } = await seeder.openLedger({ capacity: CAPACITY });
      const proposal = await leecher.proposeVirtual({
        payee: f.seeder.address,
        payerLedger: a,
        payeeLedger: b,
        amount: X,
      });
      await leecher.fundVirtual(proposal, await seeder.joinVirtual(proposal));
      await waitFor(() => outcomes.length >= 2);
      const vId = channelId(f.chainId, f.adjudicatorAddress, proposal.fixedPart);
      // The seeder claims 2p while the leecher signed vouchers for p only: it settles alone on a forged voucher
      // state the hub refuses (the voucher's signature is checked), so it settles on its real largest voucher.
      await leecherClient.context.store.putVoucher("sent", await signVoucher(f.leecher, vId, P));
      await seederClient.context.store.putVoucher("received", await signVoucher(f.leecher, vId, P));
      await seeder.settleVirtual(vId);
      await waitFor(() => outcomes.length >= 3);
      expect(outcomes[2]).to.deep.include({ ledgerId: b, countersigned: true });
      // The payer's side is settled on the payee's voucher state: p, which the leecher signed, so it countersigns.
      await waitFor(() => outcomes.length >= 4);
      expect(outcomes[3]).to.deep.include({ ledgerId: a, countersigned: true });
      expect(await leecher.balances(a)).to.deep.equal({
        user: DEPOSIT - P - hubFee(P, FEE_BPS),
        hub: P + hubFee(P, FEE_BPS),
      });
      expect(await seeder.balances(b)).to.deep.equal({ user: P, hub: CAPACITY - P });
    } finally {
      leecher.close();
      seeder.close();
    }
  });
});

/** Sum of PaidOut per (channel, destination) over the given channels, read from the chain. */
async function paidOut(f: Fixture, ids: string[]): Promise<Record<string, bigint>> {
  const paid: Record<string, bigint> = {};
  for (const id of ids) {
    for (const log of await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id))) {
      const key = `${id}:${getAddress(`0x${log.args.destination.slice(26)}`)}`;
      paid[key] = (paid[key] ?? 0n) + log.args.amount;
    }
  }
  return paid;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
