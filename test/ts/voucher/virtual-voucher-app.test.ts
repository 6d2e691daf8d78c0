// The two apps of ADR 0021 on the adjudicator: VirtualVoucherApp (a virtual channel [payer, hub, payee] whose payee
// enforces the payer's vouchers, the hub's fee moving with each) and LedgerApp (a ledger [user, hub] supports only
// states both signed). A table raises every custom error of both apps, through the adjudicator wherever it asks the
// app (challenge, respond) and on the app itself where the adjudicator refuses the state first (a final state).
// Then the stories: a payee's challenge answered by a higher voucher, a cooperative close; the money is read from
// the chain (the transactions are sent by eve, so the three parties' balance changes are exactly their payouts).
import { expect } from "chai";
import { type BaseContract, parseEther, ZeroAddress } from "ethers";
import { virtualChannelOutcome, virtualNonce, virtualVoucherState } from "../../../sdk/hub/index.js";
import {
  ContractRevertError,
  channelId,
  decodeContractError,
  encodeVoucher,
  type FixedPart,
  findRegistration,
  NO_REGISTRATION,
  type SignedVariablePart,
  signVoucher,
  stateHash,
  toDestination,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { LedgerApp__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { DURATION, deployFixture, ethers, networkHelpers, signed } from "../helpers/fixtures.js";

const { loadFixture, time } = networkHelpers;

const HUB = 1;
const PAYEE = 2;
/** The hub's fee: 2.5 %. */
const FEE_BPS = 250n;
/** What the payer puts into the virtual channel. */
const X = parseEther("1");
/** A voucher and the fee on it, worked out by hand: floor((0.3 ETH + 7) * 250 / 10,000) = 0.0075 ETH. */
const P1 = parseEther("0.3") + 7n;
const FEE1 = parseEther("0.0075");
/** A higher voucher: floor((0.5 ETH + 13) * 250 / 10,000) = 0.0125 ETH. */
const P2 = parseEther("0.5") + 13n;
const FEE2 = parseEther("0.0125");
/**
 * The largest voucher the payer's X pays with its fee: a + floor(a / 40) <= 10^18 holds for a = LIMIT (fee
 * LIMIT_FEE, sum exactly 10^18) and fails for LIMIT + 1 (same fee, sum 10^18 + 1).
 */
const LIMIT = 975609756097560976n;
const LIMIT_FEE = 24390243902439024n;

/** The adjudicator, both apps, and a virtual channel [alice, carol, bob] (payer, hub, payee) with V0 signed by all. */
async function virtualFixture() {
  const f = await deployFixture();
  const virtualApp = await new VirtualVoucherApp__factory(f.deployer).deploy();
  const ledgerApp = await new LedgerApp__factory(f.deployer).deploy();
  const virtualAppAddress = await virtualApp.getAddress();
  const ledgerAppAddress = await ledgerApp.getAddress();
  const payer = f.alice;
  const hub = f.carol;
  const payee = f.bob;

  function channel(overrides: Partial<FixedPart> = {}): { fixedPart: FixedPart; id: string } {
    const fixedPart: FixedPart = {
      participants: [payer.address, hub.address, payee.address],
      channelNonce: virtualNonce(FEE_BPS, 7n),
      appDefinition: virtualAppAddress,
      challengeDuration: DURATION,
      ...overrides,
    };
    return { fixedPart, id: channelId(f.chainId, f.adjudicatorAddress, fixedPart) };
  }

  const { fixedPart, id } = channel();
  const v0: VariablePart = {
    outcome: virtualChannelOutcome(ZeroAddress, payer.address, hub.address, payee.address, X),
    appData: "0x",
    turnNum: 0n,
    isFinal: false,
  };
  const v0Signed = await signed(fixedPart, id, v0, [payer, hub, payee]);
  return { ...f, virtualApp, ledgerApp, ledgerAppAddress, payer, hub, payee, channel, fixedPart, id, v0, v0Signed };
}

type Virtual = Awaited<ReturnType<typeof virtualFixture>>;

/** `vp` "signed" by participant `index` sending the transaction itself (an empty signature). */
function sentBy(vp: VariablePart, index: number): SignedVariablePart {
  return toSigned(vp, new Map([[index, "0x"]]));
}

/** The payee's voucher state for `amount` on `base`, built by the SDK (the contract's verdict is checked apart). */
async function voucherOn(c: Virtual, base: VariablePart, amount: bigint, turnNum = base.turnNum + 1n) {
  return virtualVoucherState(c.fixedPart, base, await signVoucher(c.payer, c.id, amount), turnNum);
}

/** Outcome [payer, hub, payee] of channel `c` with the given amounts. */
function outcome(c: Virtual, payer: bigint, hub: bigint, payee: bigint) {
  return [
    {
      asset: ZeroAddress,
      allocations: [
        { destination: toDestination(c.payer.address), amount: payer },
        { destination: toDestination(c.hub.address), amount: hub },
        { destination: toDestination(c.payee.address), amount: payee },
      ],
    },
  ];
}

/** A payee's challenge of `c` on V0 with `candidate` (sent by the payee unless the candidate says otherwise). */
function challengeOnV0(c: Virtual, candidate: SignedVariablePart, proof = [c.v0Signed], from = c.payee) {
  return c.adjudicator.connect(from).challenge(c.fixedPart, proof, candidate, "0x", NO_REGISTRATION);
}

/**
 * `c` with V_p1 (the payee's voucher for P1 on V0) registered by the payee's challenge. V holds nothing in the hub's
 * design (its ledgers' guarantees settle it through reclaim); here eve deposits x first, so that the registered
 * outcome is paid out and read from the chain.
 */
async function registeredVoucher() {
  const c = await virtualFixture();
  await c.adjudicator.connect(c.eve).deposit(ZeroAddress, c.id, 0n, X, { value: X });
  const vp1 = await voucherOn(c, c.v0, P1);
  await challengeOnV0(c, sentBy(vp1, PAYEE));
  return { ...c, vp1 };
}

interface Row {
  when: string;
  error: string;
  /** Which contract's error: the virtual voucher app's (default) or the ledger app's. */
  app?: "ledger";
  /** How the error is reached: a challenge on V0 (default), a respond, or a direct call of the app. */
  via?: "respond" | "app";
  /** The failing call and the error's arguments. */
  run(c: Virtual): Promise<{ call: Promise<unknown>; args: unknown[] }>;
}

const rows: Row[] = [
  {
    when: "a 2-party channel uses the app (a response to a state both signed)",
    error: "NotThreeParticipants",
    via: "respond",
    run: async (c) => {
      const { fixedPart, id } = c.channel({ participants: [c.payer.address, c.payee.address] });
      const two = {
        outcome: [{ asset: ZeroAddress, allocations: outcome(c, X, 0n, 0n)[0].allocations.slice(0, 2) }],
        appData: "0x",
        turnNum: 1n,
        isFinal: false,
      };
      await c.adjudicator
        .connect(c.payer)
        .challenge(fixedPart, [], await signed(fixedPart, id, two, [c.payer, c.payee]), "0x", NO_REGISTRATION);
      const next = { ...two, turnNum: 2n, appData: encodeVoucher(await signVoucher(c.payer, id, 1n)) };
      return {
        call: c.adjudicator.connect(c.payee).respond(fixedPart, id, two, sentBy(next, 1), 0n),
        args: [2n],
      };
    },
  },
  {
    when: "the channel's nonce carries a fee above 10,000 basis points",
    error: "FeeTooHigh",
    run: async (c) => {
      const { fixedPart, id } = c.channel({ channelNonce: (10_001n << 48n) | 7n });
      const v0Signed = await signed(fixedPart, id, c.v0, [c.payer, c.hub, c.payee]);
      const voucher = await signVoucher(c.payer, id, P1);
      const vp = { ...(await voucherOn(c, c.v0, P1)), appData: encodeVoucher(voucher) };
      return {
        call: c.adjudicator.connect(c.payee).challenge(fixedPart, [v0Signed], sentBy(vp, PAYEE), "0x", NO_REGISTRATION),
        args: [10_001n],
      };
    },
  },
  {
    when: "the payee's state comes without a proof",
    error: "ProofLengthNotOne",
    run: async (c) => ({ call: challengeOnV0(c, sentBy(await voucherOn(c, c.v0, P1), PAYEE), []), args: [0n] }),
  },
  {
    when: "the proof is V0 signed by the payer and the hub only",
    error: "BaseNotSignedByAll",
    run: async (c) => {
      const partial = await signed(c.fixedPart, c.id, c.v0, [c.payer, c.hub]);
      return { call: challengeOnV0(c, sentBy(await voucherOn(c, c.v0, P1), PAYEE), [partial]), args: [3n] };
    },
  },
  {
    when: "the voucher state's turn is V0's",
    error: "TurnNumberNotAfterBase",
    run: async (c) => ({ call: challengeOnV0(c, sentBy(await voucherOn(c, c.v0, P1, 0n), PAYEE)), args: [0n, 0n] }),
  },
  {
    when: "the voucher state is signed by the hub, not the payee",
    error: "NotSignedByPayee",
    run: async (c) => ({
      call: challengeOnV0(c, sentBy(await voucherOn(c, c.v0, P1), HUB), [c.v0Signed], c.hub),
      args: [2n],
    }),
  },
  {
    when: "the voucher state is final (the adjudicator refuses one first: asked on the app)",
    error: "VoucherStateIsFinal",
    via: "app",
    run: async (c) => {
      const final = sentBy({ ...(await voucherOn(c, c.v0, P1)), isFinal: true }, PAYEE);
      return { call: c.virtualApp.requireStateSupported(c.fixedPart, c.id, [c.v0Signed], final), args: [] };
    },
  },
  {
    when: "the move starts from a final state (the adjudicator never registers one: asked on the app)",
    error: "BaseIsFinal",
    via: "app",
    run: async (c) => {
      const vp = sentBy(await voucherOn(c, c.v0, P1), PAYEE);
      return { call: c.virtualApp.requireValidTransition(c.fixedPart, c.id, { ...c.v0, isFinal: true }, vp), args: [] };
    },
  },
  {
    when: "the appData is 2 bytes, not a voucher",
    error: "MalformedVoucher",
    run: async (c) => ({
      call: challengeOnV0(c, sentBy({ ...(await voucherOn(c, c.v0, P1)), appData: "0x1234" }, PAYEE)),
      args: [2n],
    }),
  },
  {
    when: "the payee answers its registered voucher with a lower one",
    error: "VoucherAmountDecreased",
    via: "respond",
    run: async (c) => {
      const vp1 = await voucherOn(c, c.v0, P1);
      await challengeOnV0(c, sentBy(vp1, PAYEE));
      const lower = { ...vp1, turnNum: 2n, appData: encodeVoucher(await signVoucher(c.payer, c.id, P1 - 1n)) };
      return {
        call: c.adjudicator.connect(c.payee).respond(c.fixedPart, c.id, vp1, sentBy(lower, PAYEE), 0n),
        args: [P1, P1 - 1n],
      };
    },
  },
  {
    when: "the voucher is within x but not with its fee (one wei above the largest that fits)",
    error: "VoucherExceedsDeposit",
    run: async (c) => {
      const amount = LIMIT + 1n;
      const vp = {
        ...c.v0,
        turnNum: 1n,
        outcome: outcome(c, 0n, LIMIT_FEE, amount),
        appData: encodeVoucher(await signVoucher(c.payer, c.id, amount)),
      };
      // fee(LIMIT + 1) = floor(975609756097560977 / 40) = LIMIT_FEE: the move takes 10^18 + 1 of 10^18.
      return { call: challengeOnV0(c, sentBy(vp, PAYEE)), args: [X + 1n, X] };
    },
  },
  {
    when: "the outcome has two allocations",
    error: "OutcomeNotThreePartyOneAsset",
    run: async (c) => {
      const vp = await voucherOn(c, c.v0, P1);
      const two = [{ ...vp.outcome[0], allocations: vp.outcome[0].allocations.slice(0, 2) }];
      return { call: challengeOnV0(c, sentBy({ ...vp, outcome: two }, PAYEE)), args: [] };
    },
  },
  {
    when: "the payee's state leaves the hub's fee with the payer (payer and payee cutting the hub out)",
    error: "OutcomeNotVoucherMove",
    run: async (c) => {
      const vp = { ...(await voucherOn(c, c.v0, P1)), outcome: outcome(c, X - P1, 0n, P1) };
      return { call: challengeOnV0(c, sentBy(vp, PAYEE)), args: [P1] };
    },
  },
  {
    when: "the payee's state gives the hub one wei more than the fee",
    error: "OutcomeNotVoucherMove",
    run: async (c) => {
      const vp = { ...(await voucherOn(c, c.v0, P1)), outcome: outcome(c, X - P1 - FEE1 - 1n, FEE1 + 1n, P1) };
      return { call: challengeOnV0(c, sentBy(vp, PAYEE)), args: [P1] };
    },
  },
  {
    when: "the voucher is signed by the hub, not the payer",
    error: "InvalidVoucherSignature",
    run: async (c) => {
      const vp = { ...(await voucherOn(c, c.v0, P1)), appData: encodeVoucher(await signVoucher(c.hub, c.id, P1)) };
      return { call: challengeOnV0(c, sentBy(vp, PAYEE)), args: [c.hub.address] };
    },
  },
  {
    when: "a ledger state is signed by the user only (a challenge)",
    error: "LedgerNeedsAllSignatures",
    app: "ledger",
    run: async (c) => {
      const ledger = ledgerChannel(c);
      const state = ledgerState(c, 1n, X, 0n);
      const byUser = await signed(ledger.fixedPart, ledger.id, state, [c.payer]);
      return {
        call: c.adjudicator.connect(c.payer).challenge(ledger.fixedPart, [], byUser, "0x", NO_REGISTRATION),
        args: [],
      };
    },
  },
  {
    when: "a ledger state signed by the hub only is built on one both signed (a challenge with a proof)",
    error: "LedgerNeedsAllSignatures",
    app: "ledger",
    run: async (c) => {
      const ledger = ledgerChannel(c);
      const both = await signed(ledger.fixedPart, ledger.id, ledgerState(c, 1n, X, 0n), [c.payer, c.hub]);
      const byHub = await signed(ledger.fixedPart, ledger.id, ledgerState(c, 2n, 0n, X), [c.hub]);
      return {
        call: c.adjudicator.connect(c.hub).challenge(ledger.fixedPart, [both], byHub, "0x", NO_REGISTRATION),
        args: [],
      };
    },
  },
  {
    when: "the hub answers a ledger challenge with a state only it signed (respond)",
    error: "LedgerNeedsAllSignatures",
    app: "ledger",
    via: "respond",
    run: async (c) => {
      const ledger = ledgerChannel(c);
      const registered = ledgerState(c, 1n, X, 0n);
      const both = await signed(ledger.fixedPart, ledger.id, registered, [c.payer, c.hub]);
      await c.adjudicator.connect(c.payer).challenge(ledger.fixedPart, [], both, "0x", NO_REGISTRATION);
      const next = ledgerState(c, 2n, 0n, X);
      return {
        call: c.adjudicator.connect(c.hub).respond(ledger.fixedPart, ledger.id, registered, sentBy(next, 1), 0n),
        args: [],
      };
    },
  },
];

/** A ledger channel [alice (user), carol (hub)] with LedgerApp. */
function ledgerChannel(c: Virtual): { fixedPart: FixedPart; id: string } {
  const fixedPart: FixedPart = {
    participants: [c.payer.address, c.hub.address],
    channelNonce: 3n,
    appDefinition: c.ledgerAppAddress,
    challengeDuration: DURATION,
  };
  return { fixedPart, id: channelId(c.chainId, c.adjudicatorAddress, fixedPart) };
}

/** A ledger state [user, hub] in ETH. */
function ledgerState(c: Virtual, turnNum: bigint, user: bigint, hub: bigint): VariablePart {
  return {
    outcome: [{ asset: ZeroAddress, allocations: outcome(c, user, hub, 0n)[0].allocations.slice(0, 2) }],
    appData: "0x",
    turnNum,
    isFinal: false,
  };
}

describe("VirtualVoucherApp and LedgerApp", function () {
  describe("every custom error, one row each (the refused state registers nothing)", function () {
    for (const row of rows) {
      const where = row.via === "app" ? "on the app" : row.via === "respond" ? "through respond" : "through challenge";
      it(`when ${row.when}: ${row.error} (${where})`, async function () {
        const c = await loadFixture(virtualFixture);
        const { call, args } = await row.run(c);
        const app: BaseContract = row.app === "ledger" ? c.ledgerApp : c.virtualApp;
        await expect(call)
          .to.be.revertedWithCustomError(app, row.error)
          .withArgs(...args);
        if (row.via === undefined) expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
      });
    }

    it("covers every custom error of both apps", function () {
      const errors = [...VirtualVoucherApp__factory.abi, ...LedgerApp__factory.abi]
        .filter((f) => f.type === "error")
        .map((f) => f.name);
      expect([...new Set(rows.map((r) => r.error))].sort()).to.deep.equal([...new Set(errors)].sort());
    });
  });

  describe("the payee enforces its voucher", function () {
    it("a challenge with the payee's voucher state on V0 registers it (the payee's allocation P1, the hub's fee on it)", async function () {
      const c = await loadFixture(virtualFixture);
      const vp1 = await voucherOn(c, c.v0, P1);
      expect(vp1.outcome).to.deep.equal(outcome(c, X - P1 - FEE1, FEE1, P1));
      await expect(challengeOnV0(c, sentBy(vp1, PAYEE))).to.emit(c.adjudicator, "ChallengeRegistered");
      const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
      expect(turnNumRecord).to.equal(1n);
      expect(finalizesAt).to.equal(BigInt(await time.latest()) + DURATION);
      const found = await findRegistration(c.adjudicator, c.id);
      expect(found?.variablePart.outcome.map((e) => e.allocations.map((a) => a.amount))).to.deep.equal([
        [X - P1 - FEE1, FEE1, P1],
      ]);
    });

    it("the voucher that takes exactly x with its fee is accepted (the limit of VoucherExceedsDeposit's row)", async function () {
      const c = await loadFixture(virtualFixture);
      const vp = await voucherOn(c, c.v0, LIMIT);
      expect(vp.outcome).to.deep.equal(outcome(c, 0n, LIMIT_FEE, LIMIT));
      await challengeOnV0(c, sentBy(vp, PAYEE));
      expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(1n);
    });

    it("respond with a higher voucher replaces the registered one under the same deadline; the payout pays [payer, hub, payee] by it", async function () {
      const c = await loadFixture(registeredVoucher);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      const vp2 = await voucherOn(c, c.vp1, P2);
      expect(vp2.outcome).to.deep.equal(outcome(c, X - P2 - FEE2, FEE2, P2));
      await c.adjudicator.connect(c.payee).respond(c.fixedPart, c.id, c.vp1, sentBy(vp2, PAYEE), X);
      const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
      expect([turnNumRecord, finalizesAt]).to.deep.equal([2n, deadline]);
      await time.increaseTo(deadline);
      await expect(
        c.adjudicator.connect(c.eve).transferAllAssets(c.id, stateHash(c.id, vp2), vp2.outcome, X),
      ).to.changeEtherBalances(ethers, [c.payer, c.hub, c.payee, c.adjudicator], [X - P2 - FEE2, FEE2, P2, -X]);
    });

    it("the payer challenges with V0 after paying; the payee answers with its voucher by respond; the payout after the deadline pays the hub its fee", async function () {
      const c = await loadFixture(virtualFixture);
      await c.adjudicator.connect(c.eve).deposit(ZeroAddress, c.id, 0n, X, { value: X });
      await c.adjudicator.connect(c.payer).challenge(c.fixedPart, [], c.v0Signed, "0x", NO_REGISTRATION);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      const vp2 = await voucherOn(c, c.v0, P2);
      await c.adjudicator.connect(c.payee).respond(c.fixedPart, c.id, c.v0, sentBy(vp2, PAYEE), X);
      await time.increaseTo(deadline);
      await expect(
        c.adjudicator.connect(c.eve).transferAllAssets(c.id, stateHash(c.id, vp2), vp2.outcome, X),
      ).to.changeEtherBalances(ethers, [c.payer, c.hub, c.payee, c.adjudicator], [X - P2 - FEE2, FEE2, P2, -X]);
    });
  });

  describe("a cooperative close", function () {
    it("concludeAndTransferAllAssets of V_F signed by all three pays [x - p - fee(p), fee(p), p]", async function () {
      const c = await loadFixture(virtualFixture);
      await c.adjudicator.connect(c.eve).deposit(ZeroAddress, c.id, 0n, X, { value: X });
      const final = { outcome: outcome(c, X - P2 - FEE2, FEE2, P2), appData: "0x", turnNum: 1n, isFinal: true };
      const finalSigned = await signed(c.fixedPart, c.id, final, [c.payer, c.hub, c.payee]);
      await expect(
        c.adjudicator.connect(c.eve).concludeAndTransferAllAssets(c.fixedPart, finalSigned),
      ).to.changeEtherBalances(ethers, [c.payer, c.hub, c.payee, c.adjudicator], [X - P2 - FEE2, FEE2, P2, -X]);
    });
  });

  describe("a ledger", function () {
    it("registers a state both signed (the unanimity rule), and nothing less", async function () {
      const c = await loadFixture(virtualFixture);
      const ledger = ledgerChannel(c);
      const both = await signed(ledger.fixedPart, ledger.id, ledgerState(c, 4n, X, 0n), [c.payer, c.hub]);
      await c.adjudicator.connect(c.hub).challenge(ledger.fixedPart, [], both, "0x", NO_REGISTRATION);
      expect((await c.adjudicator.statusOf(ledger.id))[0]).to.equal(4n);
    });

    it("a refusal reaches an SDK user as ContractRevertError LEDGER_NEEDS_ALL_SIGNATURES", async function () {
      const c = await loadFixture(virtualFixture);
      const ledger = ledgerChannel(c);
      const byUser = await signed(ledger.fixedPart, ledger.id, ledgerState(c, 1n, X, 0n), [c.payer]);
      const error = await c.adjudicator
        .connect(c.payer)
        .challenge(ledger.fixedPart, [], byUser, "0x", NO_REGISTRATION)
        .then(
          () => undefined,
          (e: unknown) => decodeContractError(e),
        );
      expect(error).to.be.instanceOf(ContractRevertError);
      expect((error as ContractRevertError).code).to.equal("LEDGER_NEEDS_ALL_SIGNATURES");
    });
  });
});
