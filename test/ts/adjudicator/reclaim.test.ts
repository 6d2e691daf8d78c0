// reclaim: a ledger [user, hub] guarantees a virtual channel [payer, hub, payee]; once both are finalized, reclaim
// splits the guarantee between the ledger's user (what the virtual channel still owes it) and the hub (the rest)
// (ADR 0021, decision 3). Every figure below is read from the chain: Reclaimed events, balances after the payouts.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { reclaimEffects } from "../../../sdk/hub/index.js";
import {
  channelId,
  type FixedPart,
  NO_REGISTRATION,
  type Outcome,
  outcomeHash,
  signState,
  stateHash,
  toDestination,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { TestToken__factory } from "../../../typechain-types/index.js";
import { DURATION, deployFixture, ethers, networkHelpers, type Signer, signed } from "../helpers/fixtures.js";

const { loadFixture, time } = networkHelpers;
const MAX_UINT256 = 2n ** 256n - 1n;

/** What the leecher and the hub each deposit into their ledger. */
const LEDGER_DEPOSIT = parseEther("1");
/** x: what the leecher puts into the virtual channel, guaranteed in both ledgers. */
const X = parseEther("0.4");
/** p: the largest voucher, and the hub's fee on it (10 basis points). */
const P = parseEther("0.1");
const FEE = (P * 10n) / 10_000n;

interface Owed {
  stateHash: string;
  outcome: Outcome;
  heldEth: bigint;
}

/** Leecher alice, seeder bob, hub carol; ledgers A [alice, carol] and B [bob, carol], funded; V [alice, carol, bob]. */
async function hubFixture() {
  const f = await deployFixture();
  const { adjudicator, alice: leecher, bob: seeder, carol: hub } = f;
  const fixed = (participants: Signer[], channelNonce: bigint): { fixedPart: FixedPart; id: string } => {
    const fixedPart: FixedPart = {
      participants: participants.map((p) => p.address),
      channelNonce,
      appDefinition: f.appAddress,
      challengeDuration: DURATION,
    };
    return { fixedPart, id: channelId(f.chainId, f.adjudicatorAddress, fixedPart) };
  };
  const a = fixed([leecher, hub], 1n);
  const b = fixed([seeder, hub], 2n);
  const v = fixed([leecher, hub, seeder], 3n);
  await adjudicator.connect(leecher).deposit(ZeroAddress, a.id, 0n, LEDGER_DEPOSIT, { value: LEDGER_DEPOSIT });
  await adjudicator.connect(hub).deposit(ZeroAddress, b.id, 0n, LEDGER_DEPOSIT, { value: LEDGER_DEPOSIT });

  /** Concludes `channel` with a final state paying `outcome`, signed by `signers`; returns what it owes. */
  async function concluded(
    channel: { fixedPart: FixedPart; id: string },
    outcome: Outcome,
    signers: Signer[],
  ): Promise<Owed> {
    const vp: VariablePart = { outcome, appData: "0x", turnNum: 5n, isFinal: true };
    const heldEth = await adjudicator.holdings(ZeroAddress, channel.id);
    await adjudicator.conclude(
      channel.fixedPart,
      await signed(channel.fixedPart, channel.id, vp, signers),
      NO_REGISTRATION,
    );
    return { stateHash: stateHash(channel.id, vp), outcome, heldEth };
  }

  const aOutcome = eth([
    [leecher.address, LEDGER_DEPOSIT - X],
    [hub.address, 0n],
    [v.id, X],
  ]);
  const bOutcome = eth([
    [seeder.address, 0n],
    [hub.address, LEDGER_DEPOSIT - X],
    [v.id, X],
  ]);
  /** V's final state: the payer paid p and the hub's fee on it. */
  const vOutcome = eth([
    [leecher.address, X - P - FEE],
    [hub.address, FEE],
    [seeder.address, P],
  ]);
  return { ...f, leecher, seeder, hub, fixed, a, b, v, aOutcome, bOutcome, vOutcome, concluded };
}

/** A, B and V all concluded: A and B with their guarantees for V, V at p. */
async function settledFixture() {
  const h = await hubFixture();
  const aOwed = await h.concluded(h.a, h.aOutcome, [h.leecher, h.hub]);
  const bOwed = await h.concluded(h.b, h.bOutcome, [h.seeder, h.hub]);
  const vOwed = await h.concluded(h.v, h.vOutcome, [h.leecher, h.hub, h.seeder]);
  return { ...h, aOwed, bOwed, vOwed };
}
type Settled = Awaited<ReturnType<typeof settledFixture>>;

/** An ETH outcome paying `payees` (addresses or channel ids) in order. */
function eth(payees: [string, bigint][], asset = ZeroAddress): Outcome {
  return [
    {
      asset,
      allocations: payees.map(([to, amount]) => ({
        destination: to.length === 42 ? toDestination(to) : to,
        amount,
      })),
    },
  ];
}

/** The ledger's owed outcome after reclaiming its guarantee at 2, as the SDK mirror computes it. */
function afterReclaim(
  s: Settled,
  ledger: { fixedPart: FixedPart; id: string },
  owed: Owed,
  vOutcome: Outcome | undefined,
): Owed {
  const { updated } = reclaimEffects({
    ledger: ledger.fixedPart,
    ledgerId: ledger.id,
    ledgerOutcome: owed.outcome,
    assetIndex: 0,
    guaranteeIndex: 2,
    virtualChannel: s.v.fixedPart,
    virtualId: s.v.id,
    virtualOutcome: vOutcome,
  });
  return { ...owed, outcome: updated };
}

function reclaim(s: Settled, ledger: { fixedPart: FixedPart }, owed: Owed, vOwed: Owed = s.vOwed, index = 2n) {
  return s.adjudicator.reclaim(ledger.fixedPart, owed, 0n, index, s.v.fixedPart, vOwed);
}

describe("Adjudicator.reclaim", () => {
  describe("a virtual channel settled at p, from both ledgers", () => {
    it("payer's ledger: alice gets x - p - fee, the hub p + fee; payee's ledger: bob gets p, the hub x - p; payouts pay exactly that, the hub ends up by the fee", async () => {
      const s = await loadFixture(settledFixture);
      const [vStatus, balanceBefore] = [
        await s.adjudicator.statusOf(s.v.id),
        await ethers.provider.getBalance(s.adjudicatorAddress),
      ];

      const reclaimA = reclaim(s, s.a, s.aOwed);
      await expect(reclaimA)
        .to.emit(s.adjudicator, "Reclaimed")
        .withArgs(s.a.id, s.v.id, 0n, 2n, X - P - FEE, P + FEE);
      await expect(reclaimA).not.to.emit(s.adjudicator, "HoldingsUpdated");
      await expect(reclaim(s, s.b, s.bOwed))
        .to.emit(s.adjudicator, "Reclaimed")
        .withArgs(s.b.id, s.v.id, 0n, 2n, P, X - P);
      // A reclaim moves no wei and leaves the virtual channel's status as it was.
      expect(await ethers.provider.getBalance(s.adjudicatorAddress)).to.equal(balanceBefore);
      expect(await s.adjudicator.statusOf(s.v.id)).to.deep.equal(vStatus);

      const a = afterReclaim(s, s.a, s.aOwed, s.vOutcome);
      const b = afterReclaim(s, s.b, s.bOwed, s.vOutcome);
      await expect(s.adjudicator.transferAllAssets(s.a.id, a.stateHash, a.outcome, a.heldEth)).to.changeEtherBalances(
        ethers,
        [s.leecher, s.hub, s.adjudicator],
        [LEDGER_DEPOSIT - P - FEE, P + FEE, -LEDGER_DEPOSIT],
      );
      await expect(s.adjudicator.transferAllAssets(s.b.id, b.stateHash, b.outcome, b.heldEth)).to.changeEtherBalances(
        ethers,
        [s.seeder, s.hub, s.adjudicator],
        [P, LEDGER_DEPOSIT - P, -LEDGER_DEPOSIT],
      );
      // The hub put 1 ETH into B and took 1 + fee out of the two ledgers.
      expect((await s.adjudicator.statusOf(s.a.id))[2]).to.equal(0n);
      expect((await s.adjudicator.statusOf(s.b.id))[2]).to.equal(0n);
    });

    it("in the other order, B then A, with A paid out before its reclaim: the same wei to each", async () => {
      const s = await loadFixture(settledFixture);
      const b = afterReclaim(s, s.b, s.bOwed, s.vOutcome);
      await reclaim(s, s.b, s.bOwed);
      await expect(s.adjudicator.transferAllAssets(s.b.id, b.stateHash, b.outcome, b.heldEth)).to.changeEtherBalances(
        ethers,
        [s.seeder, s.hub],
        [P, LEDGER_DEPOSIT - P],
      );

      // A's payout before its reclaim pays alice her balance and keeps the guarantee's x in A.
      await expect(
        s.adjudicator.transferAllAssets(s.a.id, s.aOwed.stateHash, s.aOwed.outcome, s.aOwed.heldEth),
      ).to.changeEtherBalances(ethers, [s.leecher, s.hub], [LEDGER_DEPOSIT - X, 0n]);
      const aOwed: Owed = {
        stateHash: s.aOwed.stateHash,
        outcome: eth([
          [s.leecher.address, 0n],
          [s.hub.address, 0n],
          [s.v.id, X],
        ]),
        heldEth: X,
      };
      await expect(reclaim(s, s.a, aOwed))
        .to.emit(s.adjudicator, "Reclaimed")
        .withArgs(s.a.id, s.v.id, 0n, 2n, X - P - FEE, P + FEE);
      const a = afterReclaim(s, s.a, aOwed, s.vOutcome);
      await expect(s.adjudicator.transferAllAssets(s.a.id, a.stateHash, a.outcome, a.heldEth)).to.changeEtherBalances(
        ethers,
        [s.leecher, s.hub, s.adjudicator],
        [X - P - FEE, P + FEE, -X],
      );
    });

    it("through challenges that time out (no conclude): V registered at p by its payee, A and B by the hub", async () => {
      const h = await loadFixture(hubFixture);
      const challengeAndWait = async (
        channel: { fixedPart: FixedPart; id: string },
        outcome: Outcome,
        by: Signer[],
      ) => {
        const vp: VariablePart = { outcome, appData: "0x", turnNum: 7n, isFinal: false };
        const heldEth = await h.adjudicator.holdings(ZeroAddress, channel.id);
        await h.adjudicator
          .connect(by[by.length - 1])
          .challenge(channel.fixedPart, [], await signed(channel.fixedPart, channel.id, vp, by), "0x", NO_REGISTRATION);
        return { stateHash: stateHash(channel.id, vp), outcome, heldEth };
      };
      const aOwed = await challengeAndWait(h.a, h.aOutcome, [h.leecher, h.hub]);
      const bOwed = await challengeAndWait(h.b, h.bOutcome, [h.seeder, h.hub]);
      const vOwed = await challengeAndWait(h.v, h.vOutcome, [h.leecher, h.hub, h.seeder]);
      await expect(h.adjudicator.reclaim(h.a.fixedPart, aOwed, 0n, 2n, h.v.fixedPart, vOwed))
        .to.be.revertedWithCustomError(h.adjudicator, "ChannelNotFinalized")
        .withArgs(h.a.id);
      await time.increase(DURATION);
      await expect(h.adjudicator.reclaim(h.a.fixedPart, aOwed, 0n, 2n, h.v.fixedPart, vOwed))
        .to.emit(h.adjudicator, "Reclaimed")
        .withArgs(h.a.id, h.v.id, 0n, 2n, X - P - FEE, P + FEE);
      await expect(h.adjudicator.reclaim(h.b.fixedPart, bOwed, 0n, 2n, h.v.fixedPart, vOwed))
        .to.emit(h.adjudicator, "Reclaimed")
        .withArgs(h.b.id, h.v.id, 0n, 2n, P, X - P);
    });
  });

  describe("a virtual channel that someone deposited into and paid out", () => {
    it("V paid in full from eve's deposit owes nothing: both guarantees go to the hub, and alice and bob end with exactly their entitlement", async () => {
      const h = await loadFixture(hubFixture);
      const aOwed = await h.concluded(h.a, h.aOutcome, [h.leecher, h.hub]);
      const bOwed = await h.concluded(h.b, h.bOutcome, [h.seeder, h.hub]);
      await h.adjudicator.connect(h.eve).deposit(ZeroAddress, h.v.id, 0n, X, { value: X });
      const vp: VariablePart = { outcome: h.vOutcome, appData: "0x", turnNum: 5n, isFinal: true };
      await expect(
        h.adjudicator.concludeAndTransferAllAssets(
          h.v.fixedPart,
          await signed(h.v.fixedPart, h.v.id, vp, [h.leecher, h.hub, h.seeder]),
        ),
      ).to.changeEtherBalances(ethers, [h.leecher, h.hub, h.seeder], [X - P - FEE, FEE, P]);
      expect((await h.adjudicator.statusOf(h.v.id))[2]).to.equal(0n);

      // V's fingerprint is zero: whatever is presented as V's owed outcome, the user gets nothing more.
      const anything = { stateHash: stateHash(h.v.id, vp), outcome: h.vOutcome, heldEth: 0n };
      await expect(h.adjudicator.reclaim(h.a.fixedPart, aOwed, 0n, 2n, h.v.fixedPart, anything))
        .to.emit(h.adjudicator, "Reclaimed")
        .withArgs(h.a.id, h.v.id, 0n, 2n, 0n, X);
      await expect(h.adjudicator.reclaim(h.b.fixedPart, bOwed, 0n, 2n, h.v.fixedPart, anything))
        .to.emit(h.adjudicator, "Reclaimed")
        .withArgs(h.b.id, h.v.id, 0n, 2n, 0n, X);
      const a = reclaimEffects({
        ledger: h.a.fixedPart,
        ledgerId: h.a.id,
        ledgerOutcome: aOwed.outcome,
        assetIndex: 0,
        guaranteeIndex: 2,
        virtualChannel: h.v.fixedPart,
        virtualId: h.v.id,
        virtualOutcome: undefined,
      }).updated;
      await expect(h.adjudicator.transferAllAssets(h.a.id, aOwed.stateHash, a, aOwed.heldEth)).to.changeEtherBalances(
        ethers,
        [h.leecher, h.hub],
        [LEDGER_DEPOSIT - X, X],
      );
      // Alice: 0.6 + (x - p - fee) from V = 1 - p - fee, her entitlement; eve's x ended with the hub.
    });
  });

  it("V paid in full from a deposit beyond x (1 wei left in it) owes nothing: its state hash and the 1 wei are presented, the guarantees go to the hub (they were frozen before)", async () => {
    const h = await loadFixture(hubFixture);
    const aOwed = await h.concluded(h.a, h.aOutcome, [h.leecher, h.hub]);
    await h.adjudicator.connect(h.eve).deposit(ZeroAddress, h.v.id, 0n, X + 1n, { value: X + 1n });
    const vp: VariablePart = { outcome: h.vOutcome, appData: "0x", turnNum: 5n, isFinal: true };
    await h.adjudicator.concludeAndTransferAllAssets(
      h.v.fixedPart,
      await signed(h.v.fixedPart, h.v.id, vp, [h.leecher, h.hub, h.seeder]),
    );
    const paidOff = { stateHash: stateHash(h.v.id, vp), outcome: h.vOutcome, heldEth: 1n };
    await expect(h.adjudicator.reclaim(h.a.fixedPart, aOwed, 0n, 2n, h.v.fixedPart, { ...paidOff, heldEth: 2n }))
      .to.be.revertedWithCustomError(h.adjudicator, "FingerprintMismatch")
      .withArgs(h.v.id);
    await expect(h.adjudicator.reclaim(h.a.fixedPart, aOwed, 0n, 2n, h.v.fixedPart, paidOff))
      .to.emit(h.adjudicator, "Reclaimed")
      .withArgs(h.a.id, h.v.id, 0n, 2n, 0n, X);
  });

  it("never pays more than a short ledger holds: A holding 0.5 for [alice 0.6, hub 0, V 0.4] pays 0.5 in order after its reclaim", async () => {
    const h = await loadFixture(hubFixture);
    const short = h.fixed([h.leecher, h.hub], 11n);
    await h.adjudicator
      .connect(h.leecher)
      .deposit(ZeroAddress, short.id, 0n, parseEther("0.5"), { value: parseEther("0.5") });
    const owed = await h.concluded(short, h.aOutcome, [h.leecher, h.hub]);
    const vOwed = await h.concluded(h.v, h.vOutcome, [h.leecher, h.hub, h.seeder]);
    await h.adjudicator.reclaim(short.fixedPart, owed, 0n, 2n, h.v.fixedPart, vOwed);
    const updated = eth([
      [h.leecher.address, LEDGER_DEPOSIT - P - FEE],
      [h.hub.address, P + FEE],
      [h.v.id, 0n],
    ]);
    await expect(
      h.adjudicator.transferAllAssets(short.id, owed.stateHash, updated, owed.heldEth),
    ).to.changeEtherBalances(ethers, [h.leecher, h.hub, h.adjudicator], [parseEther("0.5"), 0n, -parseEther("0.5")]);
  });

  describe("refusals: each custom error, and nothing changes", () => {
    /** Extra finalized channels the refusal rows point at. */
    async function refusalFixture() {
      const s = await settledFixture();
      const other = s.fixed([s.leecher, s.hub, s.seeder], 4n);
      const otherOwed = await s.concluded(other, s.vOutcome, [s.leecher, s.hub, s.seeder]);
      const ledgerFor = async (
        participants: Signer[],
        nonce: bigint,
        target: string,
        user = participants[0].address,
        userAmount = 0n,
      ) => {
        const ledger = s.fixed(participants, nonce);
        const outcome = eth([
          [user, userAmount],
          [participants[1].address, 0n],
          [target, X],
        ]);
        return { ...ledger, owed: await s.concluded(ledger, outcome, participants) };
      };
      const twoParty = s.fixed([s.leecher, s.hub], 20n);
      const twoPartyOwed = await s.concluded(twoParty, s.aOutcome.slice(0, 1), [s.leecher, s.hub]);
      const repeated = s.fixed([s.leecher, s.hub, s.leecher], 21n);
      // Participant 0 and 2 are one key: it signs both slots.
      const repeatedVp: VariablePart = { outcome: s.vOutcome, appData: "0x", turnNum: 5n, isFinal: true };
      const [leecherSig, hubSig] = [
        await signState(s.leecher, repeated.id, repeatedVp),
        await signState(s.hub, repeated.id, repeatedVp),
      ];
      await s.adjudicator.conclude(
        repeated.fixedPart,
        toSigned(
          repeatedVp,
          new Map([
            [0, leecherSig],
            [1, hubSig],
            [2, leecherSig],
          ]),
        ),
        NO_REGISTRATION,
      );
      const repeatedOwed: Owed = { stateHash: stateHash(repeated.id, repeatedVp), outcome: s.vOutcome, heldEth: 0n };
      const twoAllocations = s.fixed([s.leecher, s.hub, s.seeder], 22n);
      const twoAllocationsOwed = await s.concluded(
        twoAllocations,
        eth([
          [s.leecher.address, X],
          [s.seeder.address, 0n],
        ]),
        [s.leecher, s.hub, s.seeder],
      );
      const token = await new TestToken__factory(s.deployer).deploy();
      const inToken = s.fixed([s.leecher, s.hub, s.seeder], 23n);
      const inTokenOwed = await s.concluded(
        inToken,
        eth(
          [
            [s.leecher.address, X],
            [s.hub.address, 0n],
            [s.seeder.address, 0n],
          ],
          await token.getAddress(),
        ),
        [s.leecher, s.hub, s.seeder],
      );
      return {
        ...s,
        other,
        otherOwed,
        twoParty,
        twoPartyOwed,
        repeated,
        repeatedOwed,
        twoAllocations,
        twoAllocationsOwed,
        inToken,
        inTokenOwed,
        toTwoParty: await ledgerFor([s.leecher, s.hub], 30n, twoParty.id),
        toRepeated: await ledgerFor([s.leecher, s.hub], 31n, repeated.id),
        toTwoAllocations: await ledgerFor([s.leecher, s.hub], 32n, twoAllocations.id),
        toInToken: await ledgerFor([s.leecher, s.hub], 33n, inToken.id),
        wrongHub: await ledgerFor([s.seeder, s.eve], 34n, s.v.id),
        hubAsUser: await ledgerFor([s.hub, s.leecher], 35n, s.v.id),
        stranger: await ledgerFor([s.eve, s.hub], 36n, s.v.id),
        overflowing: await ledgerFor([s.leecher, s.hub], 37n, s.v.id, s.leecher.address, MAX_UINT256),
        channelAtZero: await ledgerFor([s.leecher, s.hub], 38n, s.v.id, s.v.id),
        open: s.fixed([s.leecher, s.hub], 39n),
      };
    }
    type R = Awaited<ReturnType<typeof refusalFixture>>;
    type Args = Parameters<R["adjudicator"]["reclaim"]>;

    const offBy1 = (owed: Owed): Owed => {
      const [exit] = owed.outcome;
      const allocations = exit.allocations.map((a, i) => (i === 0 ? { ...a, amount: a.amount + 1n } : a));
      return { ...owed, outcome: [{ ...exit, allocations }] };
    };
    const rows: [string, (r: R) => Args, string, (r: R) => unknown[]][] = [
      [
        "the ledger is open",
        (r) => [r.open.fixedPart, r.aOwed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "ChannelNotFinalized",
        (r) => [r.open.id],
      ],
      [
        "the virtual channel has no registered state",
        (r) => [r.a.fixedPart, r.aOwed, 0n, 2n, r.fixed([r.leecher, r.hub, r.seeder], 99n).fixedPart, r.vOwed],
        "ChannelNotFinalized",
        (r) => [r.fixed([r.leecher, r.hub, r.seeder], 99n).id],
      ],
      [
        "the ledger's owed outcome is off by 1 wei",
        (r) => [r.a.fixedPart, offBy1(r.aOwed), 0n, 2n, r.v.fixedPart, r.vOwed],
        "FingerprintMismatch",
        (r) => [r.a.id],
      ],
      [
        "the virtual channel's owed outcome is off by 1 wei",
        (r) => [r.a.fixedPart, r.aOwed, 0n, 2n, r.v.fixedPart, offBy1(r.vOwed)],
        "FingerprintMismatch",
        (r) => [r.v.id],
      ],
      [
        "asset index 1 of a one-asset ledger",
        (r) => [r.a.fixedPart, r.aOwed, 1n, 2n, r.v.fixedPart, r.vOwed],
        "InvalidAssetIndex",
        () => [1n, 1n],
      ],
      [
        "the 'ledger' has three participants (V itself)",
        (r) => [r.v.fixedPart, r.vOwed, 0n, 2n, r.other.fixedPart, r.otherOwed],
        "NotALedgerOutcome",
        (r) => [r.v.id],
      ],
      [
        "the ledger's position 0 is a channel id",
        (r) => [r.channelAtZero.fixedPart, r.channelAtZero.owed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "NotALedgerOutcome",
        (r) => [r.channelAtZero.id],
      ],
      [
        "guarantee index 1 (the hub's balance)",
        (r) => [r.a.fixedPart, r.aOwed, 0n, 1n, r.v.fixedPart, r.vOwed],
        "InvalidAllocationIndex",
        () => [0n, 1n],
      ],
      [
        "guarantee index 3, past the end",
        (r) => [r.a.fixedPart, r.aOwed, 0n, 3n, r.v.fixedPart, r.vOwed],
        "InvalidAllocationIndex",
        () => [0n, 3n],
      ],
      [
        "the guarantee is for another virtual channel",
        (r) => [r.a.fixedPart, r.aOwed, 0n, 2n, r.other.fixedPart, r.otherOwed],
        "GuaranteeTargetMismatch",
        (r) => [r.a.id, 2n, r.other.id],
      ],
      [
        "the 'virtual channel' has two participants",
        (r) => [r.toTwoParty.fixedPart, r.toTwoParty.owed, 0n, 2n, r.twoParty.fixedPart, r.twoPartyOwed],
        "NotAVirtualChannel",
        (r) => [r.twoParty.id],
      ],
      [
        "the virtual channel repeats a participant",
        (r) => [r.toRepeated.fixedPart, r.toRepeated.owed, 0n, 2n, r.repeated.fixedPart, r.repeatedOwed],
        "NotAVirtualChannel",
        (r) => [r.repeated.id],
      ],
      [
        "the virtual channel's outcome has two allocations",
        (r) => [
          r.toTwoAllocations.fixedPart,
          r.toTwoAllocations.owed,
          0n,
          2n,
          r.twoAllocations.fixedPart,
          r.twoAllocationsOwed,
        ],
        "NotAVirtualChannel",
        (r) => [r.twoAllocations.id],
      ],
      [
        "the virtual channel is in a token, the ledger in ETH",
        (r) => [r.toInToken.fixedPart, r.toInToken.owed, 0n, 2n, r.inToken.fixedPart, r.inTokenOwed],
        "AssetMismatch",
        (r) => [ZeroAddress, r.inTokenOwed.outcome[0].asset],
      ],
      [
        "the ledger's hub is not V's hub",
        (r) => [r.wrongHub.fixedPart, r.wrongHub.owed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "NotGuaranteeParties",
        (r) => [r.wrongHub.id, r.v.id],
      ],
      [
        "the ledger is [hub, payer]: roles swapped",
        (r) => [r.hubAsUser.fixedPart, r.hubAsUser.owed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "NotGuaranteeParties",
        (r) => [r.hubAsUser.id, r.v.id],
      ],
      [
        "the ledger's user is a stranger to V",
        (r) => [r.stranger.fixedPart, r.stranger.owed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "NotGuaranteeParties",
        (r) => [r.stranger.id, r.v.id],
      ],
      [
        "the user's balance would overflow",
        (r) => [r.overflowing.fixedPart, r.overflowing.owed, 0n, 2n, r.v.fixedPart, r.vOwed],
        "AmountOverflow",
        () => [MAX_UINT256, X - P - FEE],
      ],
    ];
    for (const [what, args, error, errorArgs] of rows) {
      it(`${what}: ${error}`, async () => {
        const r = await loadFixture(refusalFixture);
        const a = args(r);
        const before = await r.adjudicator.statusOf(r.a.id);
        await expect(r.adjudicator.reclaim(...a))
          .to.be.revertedWithCustomError(r.adjudicator, error)
          .withArgs(...errorArgs(r));
        expect(await r.adjudicator.statusOf(r.a.id)).to.deep.equal(before);
        // The SDK mirror refuses the same arguments with the same code, where the refusal is not about status.
        if (!["ChannelNotFinalized", "FingerprintMismatch"].includes(error)) {
          const [ledger, ledgerOwed, assetIndex, guaranteeIndex, virtualChannel, virtualOwed] = a as unknown as [
            FixedPart,
            Owed,
            bigint,
            bigint,
            FixedPart,
            Owed,
          ];
          expect(() =>
            reclaimEffects({
              ledger,
              ledgerId: channelId(r.chainId, r.adjudicatorAddress, ledger),
              ledgerOutcome: ledgerOwed.outcome,
              assetIndex: Number(assetIndex),
              guaranteeIndex: Number(guaranteeIndex),
              virtualChannel,
              virtualId: channelId(r.chainId, r.adjudicatorAddress, virtualChannel),
              virtualOutcome: virtualOwed.outcome,
            }),
          )
            .to.throw()
            .with.property("code")
            .that.equals(
              error
                .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
                .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
                .toUpperCase(),
            );
        }
      });
    }

    it("a second reclaim of the same guarantee: NothingToReclaim, and the ledger pays each wei once", async () => {
      const s = await loadFixture(settledFixture);
      await reclaim(s, s.a, s.aOwed);
      const a = afterReclaim(s, s.a, s.aOwed, s.vOutcome);
      await expect(reclaim(s, s.a, a))
        .to.be.revertedWithCustomError(s.adjudicator, "NothingToReclaim")
        .withArgs(s.a.id, 2n);
      await expect(reclaim(s, s.a, s.aOwed))
        .to.be.revertedWithCustomError(s.adjudicator, "FingerprintMismatch")
        .withArgs(s.a.id);
      await expect(s.adjudicator.transferAllAssets(s.a.id, a.stateHash, a.outcome, a.heldEth)).to.changeEtherBalances(
        ethers,
        [s.leecher, s.hub],
        [LEDGER_DEPOSIT - P - FEE, P + FEE],
      );
    });
  });

  it("outcomeHash of the updated outcome is what the fingerprint now commits (the SDK can rebuild it from Reclaimed)", async () => {
    const s = await loadFixture(settledFixture);
    await reclaim(s, s.a, s.aOwed);
    const a = afterReclaim(s, s.a, s.aOwed, s.vOutcome);
    const registration = { stateHash: a.stateHash, outcomeHash: outcomeHash(a.outcome), heldEth: a.heldEth };
    expect(await s.adjudicator.ethHoldings(s.a.id, registration)).to.equal(LEDGER_DEPOSIT);
  });
});
