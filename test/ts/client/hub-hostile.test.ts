// The hub path of the paid extension (ADR 0021, wire messages 9 to 13) attacked from either side, on real parts: the
// hub's engine in-process behind its WebSocket API on Hardhat's in-process chain with the real adjudicator and apps,
// a PaidSeeder or PaidLeecher with `hub` on webtorrent over loopback and its store on disk, and a raw peer playing
// the hostile side with real signatures (its own keys, its own HubConnection and ledger). Each test says what
// happens to the money: the ledger states signed by user and hub (what the hub pays out at a withdraw), and the
// chain's PaidOut events once a ledger is withdrawn.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { expect } from "chai";
import { getAddress, parseEther, type Signer, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import type { RpcServer } from "../../../client/hub/rpc-server.js";
import { PaidLeecher } from "../../../client/session/leecher.js";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { encodeMessage } from "../../../client/wire/codec.js";
import { type PaidHandshake, PROTOCOL_VERSION, type VirtualProposeMessage } from "../../../client/wire/messages.js";
import {
  exitLedger,
  HubConnection,
  hubFee,
  ledgerBalances,
  maxVirtualVoucher,
  virtualChannelOutcome,
  virtualNonce,
} from "../../../sdk/hub/index.js";
import { channelId, type FixedPart, signState, signVoucher, type VariablePart } from "../../../sdk/index.js";
import { MemoryChannelStore, SqliteChannelStore } from "../../../sdk/node.js";
import { LedgerApp__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, ethers, networkHelpers, sdkClient } from "../helpers/fixtures.js";
import { startHubEngine } from "../helpers/hub-engine.js";
import {
  BLOCK,
  eventually,
  failOnUnhandledRejections,
  type PaidNetwork,
  PIECE,
  PRICE,
  type RawPeer,
  until,
  usePaidNetwork,
} from "./helpers.js";
import { countPieces, payerHandshake, rawRequest } from "./raw-session.js";

const { time } = networkHelpers;
const DURATION = 3600n;
const FEE_BPS = 25n;
const PIECES = 8;
/** What the leecher's ledger holds, and what the hub puts toward the seeder. */
const DEPOSIT = parseEther("0.01");
const CAPACITY = parseEther("0.005");
/** A virtual channel that pays the whole torrent with the hub's fee on it. */
const X = 8n * PRICE + hubFee(8n * PRICE, FEE_BPS);

async function hubFixture() {
  const f = await deployFixture();
  const ledgerApp = await (await new LedgerApp__factory(f.deployer).deploy()).getAddress();
  const virtualApp = await (await new VirtualVoucherApp__factory(f.deployer).deploy()).getAddress();
  const others = (await ethers.getSigners()).slice(6, 9);
  return { ...f, hubKey: f.carol, ledgerApp, virtualApp, others };
}
type Fixture = Awaited<ReturnType<typeof hubFixture>>;

describe("paying through a hub, attacked from either side (ADR 0021; wire messages 9-13)", function () {
  this.timeout(90_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();
  let f: Fixture;
  let server: RpcServer | undefined;
  const connections: HubConnection[] = [];

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(hubFixture);
    net.f = f; // the network's SDK clients use the chain with the hub's apps
    ({ server } = await startHubEngine(f, {
      feeBps: FEE_BPS,
      challengeDuration: DURATION,
      maxCapacity: CAPACITY,
      store: new MemoryChannelStore(),
    }));
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  /** A user of the hub: an SDK client with its store on disk, logged in, with one open ledger. */
  async function userWith(signer: Signer, ledger: { deposit?: bigint; capacity?: bigint }) {
    const client = await net.sdkFor(signer as Parameters<PaidNetwork["sdkFor"]>[0]);
    const connection = await HubConnection.connect(client.context, (server as RpcServer).url);
    connections.push(connection);
    const { ledgerId } = await connection.openLedger(ledger);
    return { client, connection, ledgerId: ledgerId.toLowerCase(), address: getAddress(await signer.getAddress()) };
  }
  type User = Awaited<ReturnType<typeof userWith>>;

  /** The user's and the hub's balance in `user`'s ledger, from the latest state both signed. */
  async function ledgerOf(user: User) {
    const latest = await user.client.store.getSupportedState(user.ledgerId);
    if (latest?.signedBy !== 3n) throw new Error(`no state of ledger ${user.ledgerId} signed by both`);
    return { ...ledgerBalances(latest.variablePart.outcome), turnNum: latest.variablePart.turnNum };
  }

  /** Sum of PaidOut per destination over `id`, read from the chain. */
  async function paidOut(id: string): Promise<Record<string, bigint>> {
    const paid: Record<string, bigint> = {};
    for (const log of await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id))) {
      const key = getAddress(`0x${log.args.destination.slice(26)}`);
      paid[key] = (paid[key] ?? 0n) + log.args.amount;
    }
    return paid;
  }

  // ------------------------------------------------------------------------------------ a hostile leecher

  describe("when a leecher attacks a PaidSeeder paid through the hub", function () {
    /** The honest seeder (bob) with a ledger at the hub, seeding PIECES pieces; the hostile leecher (alice). */
    async function seederAndLeecher(options: Partial<ConstructorParameters<typeof PaidSeeder>[0]> = {}) {
      const seederUser = await userWith(f.bob, { capacity: CAPACITY });
      const leecher = await userWith(f.alice, { deposit: DEPOSIT });
      const data = randomBytes(PIECES * PIECE);
      const seeded = await net.seed(f.bob, data, {
        client: seederUser.client,
        hub: { connection: seederUser.connection, ledgerId: seederUser.ledgerId },
        enforceAfterMs: 200,
        fundingTimeoutMs: 5_000,
        ...options,
      });
      const warnings: Error[] = [];
      seeded.seeder.on("warning", (e: Error) => warnings.push(e));
      const connect = () => net.rawPeer(seeded.port, seeded.torrent.infoHash, payerHandshake(leecher.client));
      return { ...seeded, data, seederUser, leecher, warnings, connect };
    }

    /** A real proposal: V0 signed by the leecher and, through its API, by the hub. */
    async function honestProposal(leecher: User, seederUser: User, amount = X) {
      return leecher.connection.proposeVirtual({
        payee: seederUser.address,
        payerLedger: leecher.ledgerId,
        payeeLedger: seederUser.ledgerId,
        amount,
      });
    }

    function vproposeOf(p: Awaited<ReturnType<typeof honestProposal>>, amount = X): VirtualProposeMessage {
      return {
        type: "vpropose",
        fixedPart: p.fixedPart,
        asset: ZeroAddress,
        amount,
        payerLedger: p.payerLedger,
        payeeLedger: p.payeeLedger,
        payerSignature: p.payerSignature,
        hubSignature: p.hubSignature,
      };
    }

    /**
     * A crafted V0, signed by the leecher and by the hub's own key (so that only the seeder's checks stand between
     * it and a signature: a hub that colluded with the leecher would sign it too).
     */
    async function crafted(
      leecher: User,
      seederUser: User,
      change: { participants?: string[]; nonce?: bigint; amount?: bigint; payerSigner?: Signer; hubSigner?: Signer },
    ): Promise<VirtualProposeMessage> {
      const amount = change.amount ?? X;
      const participants = change.participants ?? [leecher.address, f.hubKey.address, seederUser.address];
      const fixedPart: FixedPart = {
        participants,
        channelNonce: change.nonce ?? virtualNonce(FEE_BPS, BigInt(Math.floor(Math.random() * 2 ** 40))),
        appDefinition: f.virtualApp,
        challengeDuration: DURATION,
      };
      const v0: VariablePart = {
        outcome: virtualChannelOutcome(ZeroAddress, participants[0], participants[1], participants[2], amount),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      };
      const id = channelId(f.chainId, f.adjudicatorAddress, fixedPart);
      return {
        type: "vpropose",
        fixedPart,
        asset: ZeroAddress,
        amount,
        payerLedger: leecher.ledgerId,
        payeeLedger: seederUser.ledgerId,
        payerSignature: await signState(change.payerSigner ?? f.alice, id, v0),
        hubSignature: await signState(change.hubSigner ?? f.hubKey, id, v0),
      };
    }

    /** A virtual channel opened by the raw leecher as an honest one would: proposed, accepted, funded, ready. */
    async function openVirtual(s: Awaited<ReturnType<typeof seederAndLeecher>>, peer: RawPeer) {
      const proposal = await honestProposal(s.leecher, s.seederUser);
      peer.send(encodeMessage(vproposeOf(proposal)));
      const accept = await peer.next("vaccept");
      await s.leecher.connection.fundVirtual(proposal, accept.payeeSignature);
      const ready = await peer.next("vready");
      expect(ready.channelId).to.equal(accept.channelId);
      return { proposal, id: accept.channelId.toLowerCase() };
    }

    it("a vpropose through another hub, to another ledger or payee, in another asset, below one piece and its fee, with a forged signature or another fee: refused, nothing signed or stored, no ledger moves", async function () {
      const s = await seederAndLeecher();
      const { leecher, seederUser } = s;
      const [stranger, otherHub] = f.others;
      const before = { seeder: await ledgerOf(seederUser), leecher: await ledgerOf(leecher) };
      const honest = vproposeOf(await honestProposal(leecher, seederUser));
      const cases: { what: string; message: VirtualProposeMessage; why: RegExp }[] = [
        {
          what: "another hub",
          message: await crafted(leecher, seederUser, {
            participants: [leecher.address, otherHub.address, seederUser.address],
            hubSigner: otherHub,
          }),
          why: /another hub/,
        },
        {
          what: "another payee ledger",
          message: { ...honest, payeeLedger: `0x${"ab".repeat(32)}` },
          why: /another ledger of ours/,
        },
        {
          what: "a payee that is not the seeder",
          message: await crafted(leecher, seederUser, {
            participants: [leecher.address, f.hubKey.address, stranger.address],
          }),
          why: /participants are not/,
        },
        { what: "another asset", message: { ...honest, asset: f.others[2].address }, why: /another asset/ },
        {
          what: "an amount below one piece and its fee",
          message: await crafted(leecher, seederUser, { amount: PRICE }),
          why: /below the price of one piece/,
        },
        {
          what: "a forged payer signature",
          message: await crafted(leecher, seederUser, { payerSigner: stranger }),
          why: /not signed by the payer/,
        },
        {
          what: "a forged hub signature",
          message: await crafted(leecher, seederUser, { hubSigner: stranger }),
          why: /not signed by the hub/,
        },
        {
          what: "a fee in the nonce other than the hub's",
          message: await crafted(leecher, seederUser, { nonce: virtualNonce(0n, 7n) }),
          why: /another fee than the hub's/,
        },
        {
          what: "a V0 whose amount is not the message's",
          message: { ...honest, amount: honest.amount + 1n },
          why: /not signed by the payer/,
        },
      ];
      for (const { what, message, why } of cases) {
        const peer = await s.connect();
        const count = s.warnings.length;
        peer.send(encodeMessage(message));
        expect(await peer.dropped(), what).to.equal(true);
        expect(
          s.warnings
            .slice(count)
            .map((w) => w.message)
            .join("; "),
          what,
        ).to.match(why);
        const id = channelId(f.chainId, f.adjudicatorAddress, message.fixedPart);
        expect(await seederUser.client.store.getChannel(id), `${what}: nothing stored`).to.equal(undefined);
      }
      // Nothing signed into either ledger, and no unfunded slot kept.
      expect(await ledgerOf(seederUser)).to.deep.equal(before.seeder);
      expect(await ledgerOf(leecher)).to.deep.equal(before.leecher);
      await eventually(() => s.seeder.unfunded.total === 0, "every unfunded slot released", 3_000);
    });

    it("a second vpropose on one connection drops the leecher; the first V0, signed by the seeder, is never funded and costs nobody anything", async function () {
      const s = await seederAndLeecher();
      const peer = await s.connect();
      const first = await honestProposal(s.leecher, s.seederUser);
      peer.send(encodeMessage(vproposeOf(first)));
      await peer.next("vaccept");
      peer.send(encodeMessage(vproposeOf(await honestProposal(s.leecher, s.seederUser))));
      expect(await peer.dropped()).to.equal(true);
      expect(s.warnings.map((w) => w.message).join("; ")).to.match(/a second channel proposal/);
      // Its row goes with the connection: a leecher that proposes and leaves leaves nothing in the seeder's store.
      const firstId = channelId(f.chainId, f.adjudicatorAddress, first.fixedPart);
      await eventually(
        async () => (await s.seederUser.client.store.getChannel(firstId)) === undefined,
        "the unfunded V0 forgotten",
        3_000,
      );
      // V0 pays the leecher all of X: a signature on it costs the seeder nothing. No ledger holds a guarantee.
      expect((await ledgerOf(s.seederUser)).turnNum).to.equal(0n);
      expect(await ledgerOf(s.leecher)).to.include({ user: DEPOSIT, turnNum: 0n });
    });

    it("a vpropose to a seeder without a hub: refused with a clear error, nothing stored", async function () {
      const s = await seederAndLeecher();
      const plain = await net.seed(f.bob, s.data, { enforceAfterMs: 200 });
      const warnings: Error[] = [];
      plain.seeder.on("warning", (e: Error) => warnings.push(e));
      const peer = await net.rawPeer(plain.port, plain.torrent.infoHash, payerHandshake(s.leecher.client));
      const message = vproposeOf(await honestProposal(s.leecher, s.seederUser));
      peer.send(encodeMessage(message));
      expect(await peer.dropped()).to.equal(true);
      expect(warnings.map((w) => w.message).join("; ")).to.match(/a seeder that takes no hub/);
      const id = channelId(f.chainId, f.adjudicatorAddress, message.fixedPart);
      expect(await plain.seeder.options.client.store.getChannel(id)).to.equal(undefined);
    });

    it("a vpropose whose payer ledger is the seeder's own ledger (the field the hub does not sign): the seeder still serves once its guarantee is in", async function () {
      const s = await seederAndLeecher();
      const peer = await s.connect();
      const proposal = await honestProposal(s.leecher, s.seederUser);
      peer.send(encodeMessage({ ...vproposeOf(proposal), payerLedger: s.seederUser.ledgerId }));
      const accept = await peer.next("vaccept");
      await s.leecher.connection.fundVirtual(proposal, accept.payeeSignature);
      // The hub's guarantee in the seeder's ledger is what the seeder waits for, whatever the wire said.
      const ready = await peer.next("vready", 4_000);
      expect(ready.channelId).to.equal(accept.channelId);
      const seederSide = await ledgerOf(s.seederUser);
      expect(seederSide.hub).to.equal(CAPACITY - X);
    });

    it("vouchers above maxVirtualVoucher(x, fee), for another channel, or replayed: refused, the seeder credits nothing for them", async function () {
      const s = await seederAndLeecher();
      const bound = maxVirtualVoucher(X, FEE_BPS);
      // Above the bound: V cannot pay it with the hub's fee on it.
      {
        const peer = await s.connect();
        const { id } = await openVirtual(s, peer);
        peer.send(encodeMessage({ type: "voucher", voucher: await signVoucher(f.alice, id, bound + 1n) }));
        expect(await peer.dropped(), "above the bound").to.equal(true);
        expect(await s.seederUser.client.store.getVoucher("received", id)).to.equal(undefined);
      }
      // For another channel (a real virtual channel of the same leecher, on another connection).
      {
        const other = await s.connect();
        const { id: otherId } = await openVirtual(s, other);
        const peer = await s.connect();
        const { id } = await openVirtual(s, peer);
        peer.send(encodeMessage({ type: "voucher", voucher: await s.leecher.client.pay(otherId, PRICE) }));
        expect(await peer.dropped(), "another channel").to.equal(true);
        expect(await s.seederUser.client.store.getVoucher("received", id)).to.equal(undefined);
        other.destroy();
      }
      // Replayed: the second copy drops the leecher and adds nothing.
      const peer = await s.connect();
      const { id } = await openVirtual(s, peer);
      const voucher = await s.leecher.client.pay(id, 2n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher }));
      expect((await peer.next("receipt")).amount).to.equal(2n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher }));
      expect(await peer.dropped(), "replayed").to.equal(true);
      expect((await s.seederUser.client.store.getVoucher("received", id))?.amount).to.equal(2n * PRICE);
      expect(s.warnings.map((w) => w.message).join("; ")).to.match(/replayed or older voucher/);
      // It left with a voucher of 2 pieces: the hub settles exactly that into the seeder's ledger, nothing for the
      // other two channels (no voucher).
      await until(s.seeder, "enforced", () => true, 20_000);
      expect((await ledgerOf(s.seederUser)).user).to.equal(2n * PRICE);
    });

    /** Asks for every block of pieces `pieces` and resolves once they all arrived. */
    async function download(peer: RawPeer, pieces: number[]) {
      const got = countPieces(peer.wire);
      peer.wire.interested();
      await peer.unchoked();
      for (const index of pieces) for (let at = 0; at < PIECE; at += BLOCK) rawRequest(peer.wire, index, at, BLOCK);
      await eventually(() => got.bytes === pieces.length * PIECE, "the pieces paid for");
    }

    it("a vclose below what the seeder delivered: refused; the hub settles the seeder's largest voucher into its ledger, and withdraw pays it on chain to the wei", async function () {
      const s = await seederAndLeecher();
      const peer = await s.connect();
      const { id } = await openVirtual(s, peer);
      const voucher = await s.leecher.client.pay(id, 3n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher }));
      await peer.next("receipt");
      await download(peer, [0, 1, 2]);
      // The leecher offers one piece for the three it got.
      const { signature } = await s.leecher.connection.finalState(id, PRICE);
      const enforced = until<[{ paid: bigint; earned?: bigint }]>(s.seeder, "enforced", () => true, 20_000);
      peer.send(encodeMessage({ type: "vclose", channelId: id, paid: PRICE, signature }));
      expect(await peer.dropped()).to.equal(true);
      expect(s.warnings.map((w) => w.message).join("; ")).to.match(/below the .* we are owed/);
      const [stats] = await enforced;
      expect(stats.paid).to.equal(3n * PRICE);
      // The seeder's ledger, in the state it and the hub signed: its largest voucher, exactly.
      const b = await ledgerOf(s.seederUser);
      expect(b.user).to.equal(3n * PRICE);
      expect(b.hub).to.equal(CAPACITY - 3n * PRICE);
      // The hub settled the leecher's side too (it countersigned what its own voucher covers): 3 pieces and the fee.
      await eventually(
        async () => (await ledgerOf(s.leecher)).user === DEPOSIT - 3n * PRICE - hubFee(3n * PRICE, FEE_BPS),
        "the leecher's ledger settled at its voucher",
      );
      // On chain: the seeder withdraws its ledger; the chain pays it exactly its largest voucher.
      await s.seederUser.connection.withdraw(s.seederUser.ledgerId);
      expect(await paidOut(s.seederUser.ledgerId)).to.deep.equal({
        [s.seederUser.address]: 3n * PRICE,
        [getAddress(f.hubKey.address)]: CAPACITY - 3n * PRICE,
      });
    });

    it("a leecher that vanishes mid-download on a virtual channel: the seeder is paid its largest voucher through the hub", async function () {
      const s = await seederAndLeecher();
      const peer = await s.connect();
      const { id } = await openVirtual(s, peer);
      const voucher = await s.leecher.client.pay(id, 2n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher }));
      await peer.next("receipt");
      await download(peer, [4]);
      const enforced = until(s.seeder, "enforced", () => true, 20_000);
      peer.destroy(); // gone, with one piece received and two paid
      await enforced;
      expect((await ledgerOf(s.seederUser)).user).to.equal(2n * PRICE);
      await s.seederUser.connection.withdraw(s.seederUser.ledgerId);
      expect((await paidOut(s.seederUser.ledgerId))[s.seederUser.address]).to.equal(2n * PRICE);
    });

    it("a seeder that crashed after the leecher vanished: restarted on its store on disk, resume() settles the largest voucher through the hub", async function () {
      // No enforcement in the first run: it crashes first.
      const s = await seederAndLeecher({ enforce: false });
      const peer = await s.connect();
      const { id } = await openVirtual(s, peer);
      const voucher = await s.leecher.client.pay(id, 2n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher }));
      await peer.next("receipt");
      await download(peer, [1]);
      peer.destroy();
      // The crash: torrent client, session and hub connection gone; the store stays as it is on disk.
      s.seeder.destroy();
      await new Promise((resolve) => s.client.destroy(resolve));
      s.seederUser.connection.close();
      const path = (s.seederUser.client.store as SqliteChannelStore).path;
      await s.seederUser.client.store.close();
      const store = new SqliteChannelStore(path);
      try {
        const client = await sdkClient(f, f.bob, store);
        const connection = await HubConnection.connect(client.context, (server as RpcServer).url);
        connections.push(connection);
        const seeder = new PaidSeeder({
          client,
          pricePerPiece: PRICE,
          asset: ZeroAddress,
          hub: { connection, ledgerId: s.seederUser.ledgerId },
          enforceAfterMs: 100,
        });
        const enforced = until(seeder, "enforced", () => true, 20_000);
        await seeder.resume();
        await enforced;
        seeder.destroy();
        const latest = await store.getSupportedState(s.seederUser.ledgerId);
        expect(latest?.signedBy).to.equal(3n);
        expect(ledgerBalances(latest?.variablePart.outcome ?? []).user).to.equal(2n * PRICE);
      } finally {
        await store.close();
      }
    });
  });

  // ------------------------------------------------------------------------------------ a hostile seeder

  describe("when a seeder attacks a PaidLeecher that pays through the hub", function () {
    /** The honest leecher (alice) with a ledger at the hub; the hostile seeder (bob) has one too. */
    async function leecherAndSeeder() {
      const leecherUser = await userWith(f.alice, { deposit: DEPOSIT });
      const seederUser = await userWith(f.bob, { capacity: CAPACITY });
      const source = await new Promise<Torrent>((resolve) =>
        net
          .webtorrent()
          .seed(randomBytes(PIECES * PIECE), { name: "file.bin", announce: [], pieceLength: PIECE }, resolve),
      );
      const client = net.webtorrent();
      const leecher = new PaidLeecher({
        client: leecherUser.client,
        maxPricePerPiece: 2n * PRICE,
        budget: DEPOSIT,
        asset: ZeroAddress,
        hub: { connection: leecherUser.connection, ledgerId: leecherUser.ledgerId },
        closeTimeoutMs: 3_000,
      });
      const torrent = client.add(source.torrentFile, { path: join(net.dir, "leecher-out") });
      leecher.attach(torrent);
      await eventually(() => Boolean(client.address()?.port && torrent.pieces.length), "the leecher to listen");
      const port = client.address()?.port as number;
      const warnings: Error[] = [];
      leecher.on("warning", (e: Error) => warnings.push(e));
      const offer = (hubs = true): PaidHandshake => ({
        version: PROTOCOL_VERSION,
        chainId: f.chainId,
        adjudicator: f.adjudicatorAddress,
        offer: {
          payee: seederUser.address,
          asset: ZeroAddress,
          pricePerPiece: PRICE,
          ...(hubs ? { hubs: [{ hub: getAddress(f.hubKey.address), ledger: seederUser.ledgerId }] } : {}),
        },
      });
      const connect = (hubs = true) => net.rawPeer(port, torrent.infoHash, offer(hubs));
      return { leecher, leecherUser, seederUser, torrent, warnings, connect };
    }
    type Setup = Awaited<ReturnType<typeof leecherAndSeeder>>;

    /** The leecher's vpropose, and V0 countersigned by the hostile seeder through its own HubConnection. */
    async function proposedTo(s: Setup, peer: RawPeer) {
      const p = await peer.next("vpropose");
      const id = channelId(f.chainId, f.adjudicatorAddress, p.fixedPart).toLowerCase();
      const v0: VariablePart = {
        outcome: virtualChannelOutcome(
          ZeroAddress,
          ...(p.fixedPart.participants as [string, string, string]),
          p.amount,
        ),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      };
      const payeeSignature = await s.seederUser.connection.joinVirtual({
        fixedPart: p.fixedPart,
        v0,
        payerSignature: p.payerSignature,
        hubSignature: p.hubSignature,
        payerLedger: p.payerLedger,
        payeeLedger: p.payeeLedger,
      });
      return { p, id, payeeSignature };
    }

    /** The leecher's free balance: its ledger's, less what proposals not yet guaranteed hold. */
    async function free(s: Setup) {
      return (await ledgerOf(s.leecherUser)).user - s.leecher.hubReserved();
    }

    it("a vaccept it did not ask for, for another channel, or not signed by the payee: the seeder is dropped, and neither the ledger nor the budget keeps anything for it", async function () {
      const s = await leecherAndSeeder();
      const sig = `0x${randomBytes(64).toString("hex")}1b`;
      // Unasked: the seeder's offer names no hub, so the leecher proposed a direct channel.
      {
        const peer = await s.connect(false);
        const p = await peer.next("propose");
        const id = channelId(p.chainId, p.adjudicator, p.fixedPart).toLowerCase();
        peer.send(encodeMessage({ type: "vaccept", channelId: id, payeeSignature: sig }));
        expect(await peer.dropped(), "unasked").to.equal(true);
      }
      const cases = [
        { what: "another channel", make: (c: { id: string; sig: string }) => ({ ...c, id: `0x${"22".repeat(32)}` }) },
        { what: "not the payee's signature", make: (c: { id: string; sig: string }) => ({ ...c, sig }) },
      ];
      for (const { what, make } of cases) {
        const peer = await s.connect();
        const { id, payeeSignature } = await proposedTo(s, peer);
        const bad = make({ id, sig: payeeSignature });
        peer.send(encodeMessage({ type: "vaccept", channelId: bad.id, payeeSignature: bad.sig }));
        expect(await peer.dropped(), what).to.equal(true);
        // Nothing was funded: the whole ledger is free again for honest seeders, and the whole budget.
        await eventually(() => s.leecher.hubReserved() === 0n, `${what}: the ledger's hold released`, 3_000);
        expect(s.leecher.budgetLeft(), `${what}: the budget`).to.equal(DEPOSIT);
      }
      expect(await ledgerOf(s.leecherUser)).to.include({ user: DEPOSIT, turnNum: 0n });
      expect(await free(s)).to.equal(DEPOSIT);
      expect(s.leecher.stats().every((p) => p.paid === 0n)).to.equal(true);
    });

    it("a vready unasked or for another channel drops the seeder; a vready before the leecher's guarantee is in sends no voucher before it", async function () {
      const s = await leecherAndSeeder();
      {
        const peer = await s.connect();
        const { id } = await proposedTo(s, peer);
        peer.send(encodeMessage({ type: "vready", channelId: id })); // before its vaccept
        expect(await peer.dropped(), "before vaccept").to.equal(true);
      }
      {
        const peer = await s.connect();
        const { id, payeeSignature } = await proposedTo(s, peer);
        peer.send(encodeMessage({ type: "vaccept", channelId: id, payeeSignature }));
        peer.send(encodeMessage({ type: "vready", channelId: `0x${"44".repeat(32)}` })); // another channel's
        expect(await peer.dropped(), "for another channel").to.equal(true);
        expect(s.warnings.map((w) => w.message).join("; ")).to.match(/a ready for a virtual channel we did not open/);
        // Its V0 was countersigned, so the guarantee goes in; no voucher was signed on it: the leecher gets it all
        // back by a close with the seeder or on chain (`withdraw --force`, as in the last test here).
        expect(await s.leecherUser.client.store.getVoucher("sent", id)).to.equal(undefined);
      }
      await eventually(() => s.leecher.hubReserved() === 0n, "the ledger's hold released", 3_000);
      const peer = await s.connect();
      const { p, id, payeeSignature } = await proposedTo(s, peer);
      // In the order they happen: the leecher countersigns its guarantee; a voucher reaches the seeder.
      const order: string[] = [];
      s.leecherUser.connection.onProposal = (o) => {
        if (o.purpose === `fund ${id}` && o.countersigned) order.push("guaranteed");
      };
      peer.wire.on("piecepay", (m: { type?: string }) => {
        if (m.type === "voucher") order.push("voucher");
      });
      peer.send(encodeMessage({ type: "vaccept", channelId: id, payeeSignature }));
      peer.send(encodeMessage({ type: "vready", channelId: id })); // at once, before any guarantee
      const voucher = (await peer.next("voucher")).voucher;
      expect(order.slice(0, 2)).to.deep.equal(["guaranteed", "voucher"]);
      expect(voucher.amount).to.be.at.most(maxVirtualVoucher(p.amount, FEE_BPS));
      // What the leecher risks on this channel is what its vouchers say, within V's guarantee.
      expect((await s.leecherUser.client.store.getChannel(id))?.virtual?.amount).to.equal(p.amount);
    });

    it("a seeder that never sends vready: the leecher's close still settles its guarantee back, all of it", async function () {
      const s = await leecherAndSeeder();
      const peer = await s.connect();
      const { id, payeeSignature } = await proposedTo(s, peer);
      peer.send(encodeMessage({ type: "vaccept", channelId: id, payeeSignature }));
      await eventually(
        async () => (await s.leecherUser.client.store.getChannel(id))?.virtual?.guaranteed.payer === true,
        "the leecher's guarantee",
      );
      const guaranteed = await ledgerOf(s.leecherUser);
      expect(guaranteed.user).to.be.below(DEPOSIT);
      // The leecher stops; the seeder, which never said ready, answers the close (it has nothing to gain).
      const settled = s.leecher.settle();
      const vclose = await peer.next("vclose");
      expect(vclose.paid).to.equal(0n);
      const answer = await s.seederUser.connection.acceptClose(id, vclose.paid, vclose.signature, { minimum: 0n });
      peer.send(encodeMessage({ type: "vclosed", channelId: id, payeeSignature: answer }));
      await settled;
      expect(await ledgerOf(s.leecherUser)).to.include({ user: DEPOSIT });
      expect(await free(s)).to.equal(DEPOSIT);
    });

    it("a vclosed with a bad signature: the leecher does not count the channel closed, and exits on chain (withdraw --force) with all it did not pay", async function () {
      const s = await leecherAndSeeder();
      const peer = await s.connect();
      const { id, payeeSignature } = await proposedTo(s, peer);
      peer.send(encodeMessage({ type: "vaccept", channelId: id, payeeSignature }));
      await eventually(
        async () => (await s.leecherUser.client.store.getChannel(id))?.virtual?.guaranteed.payer === true,
        "the leecher's guarantee",
      );
      const settled = s.leecher.settle();
      const vclose = await peer.next("vclose");
      const forged = await signState(f.others[0], id, {
        outcome: virtualChannelOutcome(ZeroAddress, s.leecherUser.address, f.hubKey.address, s.seederUser.address, 0n),
        appData: "0x",
        turnNum: 1n,
        isFinal: true,
      });
      peer.send(encodeMessage({ type: "vclosed", channelId: vclose.channelId, payeeSignature: forged }));
      await settled;
      expect(s.warnings.map((w) => w.message).join("; ")).to.match(/did not close virtual channel/);
      expect(s.leecher.stats().find((p) => p.channelId === id)?.closed).to.not.equal(true);
      // The guarantee is still in the ledger; the leecher exits on chain: V finalizes at V0 (no voucher was ever
      // sent: no vready), and the chain pays the leecher its whole deposit.
      let deadline: bigint | undefined;
      const exit = exitLedger(s.leecherUser.client.context, s.leecherUser.ledgerId, {
        onWaiting: (at) => {
          deadline = at;
        },
      });
      await eventually(() => deadline !== undefined, "the exit's challenges", 30_000);
      await time.increaseTo(deadline as bigint);
      await exit;
      expect((await paidOut(s.leecherUser.ledgerId))[s.leecherUser.address]).to.equal(DEPOSIT);
    });
  });
});
