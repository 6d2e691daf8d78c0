// Every custom error of IVoucherPaymentApp, raised through the adjudicator (challenge, checkpoint, respond) and,
// where that is clearer or the adjudicator refuses the state first (a final state: its StateIsFinal, ADR 0005), by
// calling the app directly. A refused voucher state registers nothing: the payer's deposit stays in the channel, and
// a challenge already registered keeps its state and its clock.
import { expect } from "chai";
import { MaxUint256, parseEther, ZeroAddress, zeroPadValue } from "ethers";
import {
  type FixedPart,
  type SignedVariablePart,
  signVoucher,
  stateHash,
  toDestination,
  type VariablePart,
} from "../../../sdk/index.js";
import { DURATION, ethers, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  challengeAs,
  checkpointAs,
  DEPOSIT,
  fundedVoucherChannel,
  highS,
  PAYEE,
  PAYER,
  sentByParticipant,
  stateSignature,
  stateWith,
  type VoucherChannel,
  voucherData,
  voucherSigner,
  withSignatures,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;

const AMOUNT = parseEther("0.3");

/** A challenge the app must refuse: the proof and candidate the payee (or whoever) sends, and the error's args. */
interface Rejected {
  proof: SignedVariablePart[];
  candidate: SignedVariablePart;
  args: unknown[];
  /** Defaults to the funded channel's. */
  fixedPart?: FixedPart;
  /** The id of `fixedPart`, when given. */
  id?: string;
  /** Defaults to the payee. */
  sender?: "payer" | "payee";
}

interface ChallengeCase {
  when: string;
  error: string;
  /** Who raises the error: the app unless the adjudicator refuses the state before asking it. */
  by?: "adjudicator";
  build(c: VoucherChannel): Promise<Rejected>;
}

/** The payee's voucher state for AMOUNT on top of the funding state, sent by the payee itself. */
async function goodVoucherState(c: VoucherChannel, turnNum = 2n, amount = AMOUNT): Promise<VariablePart> {
  return voucherState(c.alice, c.id, c.funding, turnNum, amount);
}

function allocations(c: VoucherChannel, payerGets: bigint, payeeGets: bigint) {
  return [
    { destination: toDestination(c.alice.address), amount: payerGets },
    { destination: toDestination(c.bob.address), amount: payeeGets },
  ];
}

/** The payer's valid voucher signature for AMOUNT in the funded channel. */
async function payerVoucherSig(c: VoucherChannel, amount = AMOUNT): Promise<string> {
  return (await signVoucher(c.alice, c.id, amount)).signature;
}

const challengeCases: ChallengeCase[] = [
  // ------------------------------------------------------------------------------------ ProofLengthNotOne
  {
    when: "the proof is empty",
    error: "ProofLengthNotOne",
    build: async (c) => ({ proof: [], candidate: sentByParticipant(await goodVoucherState(c), PAYEE), args: [0n] }),
  },
  {
    when: "the proof holds two states signed by both",
    error: "ProofLengthNotOne",
    build: async (c) => {
      const second = await signed(c.fixedPart, c.id, { ...c.funding, turnNum: 2n }, [c.alice, c.bob]);
      return {
        proof: [c.fundingSigned, second],
        candidate: sentByParticipant(await goodVoucherState(c, 3n), PAYEE),
        args: [2n],
      };
    },
  },
  // ---------------------------------------------------------------------------------- BaseNotSignedByBoth
  {
    when: "the base is signed by the payer only",
    error: "BaseNotSignedByBoth",
    build: async (c) => ({
      proof: [await signed(c.fixedPart, c.id, c.funding, [c.alice])],
      candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
      args: [1n],
    }),
  },
  {
    when: "the base is signed by the payee only",
    error: "BaseNotSignedByBoth",
    build: async (c) => ({
      proof: [await signed(c.fixedPart, c.id, c.funding, [c.bob])],
      candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
      args: [2n],
    }),
  },
  {
    when: "the base carries only the payee's empty signature (it sends the challenge)",
    error: "BaseNotSignedByBoth",
    build: async (c) => ({
      proof: [sentByParticipant(c.funding, PAYEE)],
      candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
      args: [2n],
    }),
  },
  {
    when: "the base is signed by nobody",
    error: "BaseNotSignedByBoth",
    build: async (c) => ({
      proof: [withSignatures(c.funding, 0n, [])],
      candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
      args: [0n],
    }),
  },
  // ------------------------------------------------------------------------------- TurnNumberNotAfterBase
  {
    when: "the voucher state has the base's turn number",
    error: "TurnNumberNotAfterBase",
    build: async (c) => {
      const base = { ...c.funding, turnNum: 5n };
      return {
        proof: [await signed(c.fixedPart, c.id, base, [c.alice, c.bob])],
        candidate: sentByParticipant(await voucherState(c.alice, c.id, base, 5n, AMOUNT), PAYEE),
        args: [5n, 5n],
      };
    },
  },
  {
    when: "the voucher state has a turn number below the base's",
    error: "TurnNumberNotAfterBase",
    build: async (c) => {
      const base = { ...c.funding, turnNum: 5n };
      return {
        proof: [await signed(c.fixedPart, c.id, base, [c.alice, c.bob])],
        candidate: sentByParticipant(await voucherState(c.alice, c.id, base, 3n, AMOUNT), PAYEE),
        args: [5n, 3n],
      };
    },
  },
  // ----------------------------------------------------------------------------------- NotTwoParticipants
  {
    when: "the channel has three participants (payer, payee and a third)",
    error: "NotTwoParticipants",
    build: async (c) => {
      const { fixedPart, id } = c.channel({
        channelNonce: 8n,
        participants: [c.alice, c.bob, c.carol].map((s) => s.address),
      });
      const base = ethState(c.alice.address, c.bob.address, 1n, DEPOSIT, 0n);
      return {
        fixedPart,
        id,
        proof: [await signed(fixedPart, id, base, [c.alice, c.bob])],
        candidate: sentByParticipant(await voucherState(c.alice, id, base, 2n, AMOUNT), PAYEE),
        args: [3n],
      };
    },
  },
  // ------------------------------------------------------------------------------------- NotSignedByPayee
  {
    when: "the voucher state is signed by the payer, not the payee",
    error: "NotSignedByPayee",
    build: async (c) => ({
      proof: [c.fundingSigned],
      candidate: await signed(c.fixedPart, c.id, await goodVoucherState(c), [c.alice]),
      args: [1n],
    }),
  },
  {
    when: "the payer sends a voucher state that it signs alone (empty signature)",
    error: "NotSignedByPayee",
    build: async (c) => ({
      sender: "payer",
      proof: [c.fundingSigned],
      candidate: sentByParticipant(await goodVoucherState(c), PAYER),
      args: [1n],
    }),
  },
  {
    when: "the voucher state is signed by nobody",
    error: "NotSignedByPayee",
    build: async (c) => ({
      proof: [c.fundingSigned],
      candidate: withSignatures(await goodVoucherState(c), 0n, []),
      args: [0n],
    }),
  },
  // --------------------------------------- VoucherStateIsFinal and BaseIsFinal (the adjudicator refuses first)
  {
    when: "the voucher state is final",
    error: "StateIsFinal",
    by: "adjudicator",
    build: async (c) => ({
      proof: [c.fundingSigned],
      candidate: sentByParticipant({ ...(await goodVoucherState(c)), isFinal: true }, PAYEE),
      args: [2n],
    }),
  },
  {
    when: "the base is a final state signed by both",
    error: "StateIsFinal",
    by: "adjudicator",
    build: async (c) => ({
      proof: [await signed(c.fixedPart, c.id, { ...c.funding, isFinal: true }, [c.alice, c.bob])],
      candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
      args: [1n],
    }),
  },
  // ------------------------------------------------------------------------------------- MalformedVoucher
  ...[0, 96, 98].map(
    (length): ChallengeCase => ({
      when: `the voucher state's appData has ${length} bytes`,
      error: "MalformedVoucher",
      build: async (c) => {
        const good = await goodVoucherState(c);
        const appData = length === 0 ? "0x" : length < 97 ? good.appData.slice(0, 2 + 2 * length) : `${good.appData}00`;
        return {
          proof: [c.fundingSigned],
          candidate: sentByParticipant({ ...good, appData }, PAYEE),
          args: [BigInt(length)],
        };
      },
    }),
  ),
  ...[1, 32, 65, 128, 300].map(
    (length): ChallengeCase => ({
      when: `the voucher state's appData is ${length} random bytes`,
      error: "MalformedVoucher",
      build: async (c) => {
        const appData = new Random(length).bytes(length);
        return {
          proof: [c.fundingSigned],
          candidate: sentByParticipant({ ...(await goodVoucherState(c)), appData }, PAYEE),
          args: [BigInt(length)],
        };
      },
    }),
  ),
  {
    when: "the base signed by both carries appData that is not a voucher (1 byte)",
    error: "MalformedVoucher",
    build: async (c) => {
      const base = { ...c.funding, appData: "0x01" };
      return {
        proof: [await signed(c.fixedPart, c.id, base, [c.alice, c.bob])],
        candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
        args: [1n],
      };
    },
  },
  // ------------------------------------------------------------------------------- VoucherAmountDecreased
  {
    when: "the base signed by both carries a larger voucher than the new state",
    error: "VoucherAmountDecreased",
    build: async (c) => {
      const larger = await voucherState(c.alice, c.id, c.funding, 2n, parseEther("0.8"));
      const smaller = await voucherState(c.alice, c.id, larger, 3n, parseEther("0.5"), parseEther("0.8"));
      return {
        proof: [await signed(c.fixedPart, c.id, larger, [c.alice, c.bob])],
        candidate: sentByParticipant(smaller, PAYEE),
        args: [parseEther("0.8"), parseEther("0.5")],
      };
    },
  },
  // ------------------------------------------------------------------------------- VoucherExceedsDeposit
  {
    when: "the voucher is for 1 wei more than the payer's allocation (all of its deposit)",
    error: "VoucherExceedsDeposit",
    build: async (c) => {
      const amount = DEPOSIT + 1n;
      const vp = stateWith(
        c.funding,
        2n,
        voucherData(amount, await payerVoucherSig(c, amount)),
        allocations(c, 0n, amount),
      );
      return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [amount, DEPOSIT] };
    },
  },
  {
    when: "the voucher is for 2^256 - 1",
    error: "VoucherExceedsDeposit",
    build: async (c) => {
      const vp = stateWith(
        c.funding,
        2n,
        voucherData(MaxUint256, await payerVoucherSig(c, MaxUint256)),
        allocations(c, 0n, MaxUint256),
      );
      return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [MaxUint256, DEPOSIT] };
    },
  },
  {
    when: "the base signed by both already carries a voucher and the new one exceeds the deposit",
    error: "VoucherExceedsDeposit",
    build: async (c) => {
      const before = await voucherState(c.alice, c.id, c.funding, 2n, AMOUNT);
      const amount = DEPOSIT + 1n;
      const vp = stateWith(
        before,
        3n,
        voucherData(amount, await payerVoucherSig(c, amount)),
        allocations(c, 0n, amount),
      );
      return {
        proof: [await signed(c.fixedPart, c.id, before, [c.alice, c.bob])],
        candidate: sentByParticipant(vp, PAYEE),
        args: [amount, DEPOSIT],
      };
    },
  },
  // -------------------------------------------------------------------------- OutcomeNotTwoPartyOneAsset
  ...(
    [
      ["the voucher state's outcome has two assets", "two assets"],
      ["the voucher state's outcome has three allocations", "three allocations"],
      ["the voucher state's outcome has one allocation", "one allocation"],
      ["the voucher state's outcome is empty", "empty"],
    ] as const
  ).map(
    ([when, shape]): ChallengeCase => ({
      when,
      error: "OutcomeNotTwoPartyOneAsset",
      build: async (c) => {
        const good = await goodVoucherState(c);
        const exit = good.outcome[0];
        const outcome =
          shape === "two assets"
            ? [exit, { ...exit, asset: c.appAddress }]
            : shape === "three allocations"
              ? [
                  {
                    ...exit,
                    allocations: [...exit.allocations, { destination: toDestination(c.eve.address), amount: 0n }],
                  },
                ]
              : shape === "one allocation"
                ? [{ ...exit, allocations: [exit.allocations[1]] }]
                : [];
        return { proof: [c.fundingSigned], candidate: sentByParticipant({ ...good, outcome }, PAYEE), args: [] };
      },
    }),
  ),
  {
    when: "the base signed by both has two assets",
    error: "OutcomeNotTwoPartyOneAsset",
    build: async (c) => {
      const base = { ...c.funding, outcome: [c.funding.outcome[0], { ...c.funding.outcome[0], asset: c.appAddress }] };
      return {
        proof: [await signed(c.fixedPart, c.id, base, [c.alice, c.bob])],
        candidate: sentByParticipant(await goodVoucherState(c), PAYEE),
        args: [],
      };
    },
  },
  // ------------------------------------------------------------------------------- OutcomeNotVoucherMove
  ...(
    [
      [
        "the payee takes 1 wei more than the voucher",
        (c: VoucherChannel) => allocations(c, DEPOSIT - AMOUNT - 1n, AMOUNT + 1n),
      ],
      [
        "the payee takes 1 wei less than the voucher",
        (c: VoucherChannel) => allocations(c, DEPOSIT - AMOUNT + 1n, AMOUNT - 1n),
      ],
      [
        "the payee takes the voucher and the payer keeps its whole deposit",
        (c: VoucherChannel) => allocations(c, DEPOSIT, AMOUNT),
      ],
      [
        "the payer loses 1 wei more than the payee gains",
        (c: VoucherChannel) => allocations(c, DEPOSIT - AMOUNT - 1n, AMOUNT),
      ],
      [
        "the payer's allocation is redirected to a stranger",
        (c: VoucherChannel) => [
          { destination: toDestination(c.eve.address), amount: DEPOSIT - AMOUNT },
          { destination: toDestination(c.bob.address), amount: AMOUNT },
        ],
      ],
      [
        "the payee's allocation is redirected to another address",
        (c: VoucherChannel) => [
          { destination: toDestination(c.alice.address), amount: DEPOSIT - AMOUNT },
          { destination: toDestination(c.carol.address), amount: AMOUNT },
        ],
      ],
      [
        "the payee's allocation is redirected to another channel",
        (c: VoucherChannel) => [
          { destination: toDestination(c.alice.address), amount: DEPOSIT - AMOUNT },
          { destination: c.channel({ channelNonce: 9n }).id, amount: AMOUNT },
        ],
      ],
      [
        "the allocations swap places",
        (c: VoucherChannel) => [
          { destination: toDestination(c.bob.address), amount: AMOUNT },
          { destination: toDestination(c.alice.address), amount: DEPOSIT - AMOUNT },
        ],
      ],
    ] as const
  ).map(
    ([when, alloc]): ChallengeCase => ({
      when,
      error: "OutcomeNotVoucherMove",
      build: async (c) => {
        const vp = stateWith(c.funding, 2n, voucherData(AMOUNT, await payerVoucherSig(c)), [...alloc(c)]);
        return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [AMOUNT] };
      },
    }),
  ),
  {
    when: "the voucher state changes the asset (ETH deposit, token outcome)",
    error: "OutcomeNotVoucherMove",
    build: async (c) => {
      const vp = stateWith(
        c.funding,
        2n,
        voucherData(AMOUNT, await payerVoucherSig(c)),
        allocations(c, DEPOSIT - AMOUNT, AMOUNT),
        c.appAddress,
      );
      return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [AMOUNT] };
    },
  },
  // ------------------------------------------------------------------------------ InvalidVoucherSignature
  {
    when: "the voucher is signed by the payee",
    error: "InvalidVoucherSignature",
    build: async (c) => ({
      proof: [c.fundingSigned],
      candidate: sentByParticipant(await voucherState(c.bob, c.id, c.funding, 2n, AMOUNT), PAYEE),
      args: [c.bob.address],
    }),
  },
  {
    when: "the voucher is signed by a stranger",
    error: "InvalidVoucherSignature",
    build: async (c) => ({
      proof: [c.fundingSigned],
      candidate: sentByParticipant(await voucherState(c.eve, c.id, c.funding, 2n, AMOUNT), PAYEE),
      args: [c.eve.address],
    }),
  },
  {
    when: "the voucher carries the high-s twin of the payer's signature (malleable)",
    error: "InvalidVoucherSignature",
    build: async (c) => {
      const vp = stateWith(
        c.funding,
        2n,
        voucherData(AMOUNT, highS(await payerVoucherSig(c))),
        allocations(c, DEPOSIT - AMOUNT, AMOUNT),
      );
      return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [ZeroAddress] };
    },
  },
  ...[0, 1, 29].map(
    (v): ChallengeCase => ({
      when: `the payer's voucher signature has v = ${v}`,
      error: "InvalidVoucherSignature",
      build: async (c) => {
        const sig = await payerVoucherSig(c);
        const bad = `${sig.slice(0, 130)}${v.toString(16).padStart(2, "0")}`;
        const vp = stateWith(c.funding, 2n, voucherData(AMOUNT, bad), allocations(c, DEPOSIT - AMOUNT, AMOUNT));
        return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [ZeroAddress] };
      },
    }),
  ),
  {
    when: "the voucher signature is 65 zero bytes",
    error: "InvalidVoucherSignature",
    build: async (c) => {
      const vp = stateWith(
        c.funding,
        2n,
        voucherData(AMOUNT, zeroPadValue("0x", 65)),
        allocations(c, DEPOSIT - AMOUNT, AMOUNT),
      );
      return { proof: [c.fundingSigned], candidate: sentByParticipant(vp, PAYEE), args: [ZeroAddress] };
    },
  },
  {
    when: "the payer signed a smaller amount than the voucher claims",
    error: "InvalidVoucherSignature",
    build: async (c) => {
      const claimed = parseEther("0.5");
      const sig = await payerVoucherSig(c, AMOUNT);
      const vp = stateWith(c.funding, 2n, voucherData(claimed, sig), allocations(c, DEPOSIT - claimed, claimed));
      return {
        proof: [c.fundingSigned],
        candidate: sentByParticipant(vp, PAYEE),
        args: [voucherSigner(c.id, claimed, sig)],
      };
    },
  },
  {
    when: "the voucher signature is the payer's signature of a state (funding) instead of a voucher",
    error: "InvalidVoucherSignature",
    build: async (c) => {
      const sig = await stateSignature(c.alice, c.id, c.funding);
      const vp = stateWith(c.funding, 2n, voucherData(AMOUNT, sig), allocations(c, DEPOSIT - AMOUNT, AMOUNT));
      return {
        proof: [c.fundingSigned],
        candidate: sentByParticipant(vp, PAYEE),
        args: [voucherSigner(c.id, AMOUNT, sig)],
      };
    },
  },
];

describe("VoucherPaymentApp errors", () => {
  describe("requireStateSupported, through the adjudicator's challenge", () => {
    for (const { when, error, by, build } of challengeCases) {
      it(`when ${when}: ${error}, nothing registered, the deposit stays in the channel`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const { proof, candidate, args, fixedPart, id, sender } = await build(c);
        const from = sender === "payer" ? c.alice : c.bob;
        await expect(
          c.adjudicator
            .connect(from)
            .challenge(
              fixedPart ?? c.fixedPart,
              proof,
              candidate,
              "0x",
              await registrationNow(c.adjudicator, fixedPart ?? c.fixedPart),
            ),
        )
          .to.be.revertedWithCustomError(by === "adjudicator" ? c.adjudicator : c.app, error)
          .withArgs(...args);
        expect(await c.adjudicator.statusOf(id ?? c.id)).to.deep.equal([0n, 0n, 0n]);
        expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
      });
    }

    it("when the same refused voucher state answers the payer's challenge by checkpoint: the same error, the challenge stands", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      // A checkpoint only answers a challenge (ADR 0005): the payer challenges with the funding state.
      await challengeAs(c, c.alice, [], c.fundingSigned);
      const before = await c.adjudicator.statusOf(c.id);
      const vp = await voucherState(c.eve, c.id, c.funding, 2n, AMOUNT);
      await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)))
        .to.be.revertedWithCustomError(c.app, "InvalidVoucherSignature")
        .withArgs(c.eve.address);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });
  });

  describe("requireValidTransition, through the adjudicator's respond to the payee's registered voucher", () => {
    const registered = parseEther("0.8");

    /** The payee has registered a voucher of 0.8 ETH at turn 2; each case answers it with turn 3. */
    async function registeredVoucher() {
      const c = await fundedVoucherChannel();
      const challenged = await voucherState(c.alice, c.id, c.funding, 2n, registered);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(challenged, PAYEE));
      const status = await c.adjudicator.statusOf(c.id);
      return { ...c, challenged, status };
    }

    type Registered = Awaited<ReturnType<typeof registeredVoucher>>;
    const respondCases: {
      when: string;
      error: string;
      /** Who raises the error: the app unless the adjudicator refuses the response before asking it. */
      by?: "adjudicator";
      build(c: Registered): Promise<{ response: SignedVariablePart; args: unknown[]; sender?: "payer" }>;
    }[] = [
      {
        when: "the response carries a smaller voucher (0.5 after 0.8)",
        error: "VoucherAmountDecreased",
        build: async (c) => ({
          response: sentByParticipant(
            await voucherState(c.alice, c.id, c.challenged, 3n, parseEther("0.5"), registered),
            PAYEE,
          ),
          args: [registered, parseEther("0.5")],
        }),
      },
      {
        when: "the response moves the whole new voucher again instead of the difference",
        error: "OutcomeNotVoucherMove",
        build: async (c) => {
          const amount = parseEther("0.9");
          const sig = (await signVoucher(c.alice, c.id, amount)).signature;
          // Right for the payer (it loses the difference, 0.1) but the payee adds the whole 0.9 to its 0.8.
          const vp = stateWith(
            c.challenged,
            3n,
            voucherData(amount, sig),
            allocations(c, DEPOSIT - amount, registered + amount),
          );
          return { response: sentByParticipant(vp, PAYEE), args: [amount - registered] };
        },
      },
      {
        when: "the response's voucher exceeds the deposit by 1 wei",
        error: "VoucherExceedsDeposit",
        build: async (c) => {
          const amount = DEPOSIT + 1n;
          const sig = (await signVoucher(c.alice, c.id, amount)).signature;
          const vp = stateWith(c.challenged, 3n, voucherData(amount, sig), allocations(c, 0n, amount));
          return { response: sentByParticipant(vp, PAYEE), args: [amount, DEPOSIT] };
        },
      },
      {
        when: "the response's voucher is signed by a stranger",
        error: "InvalidVoucherSignature",
        build: async (c) => ({
          response: sentByParticipant(
            await voucherState(c.eve, c.id, c.challenged, 3n, parseEther("0.9"), registered),
            PAYEE,
          ),
          args: [c.eve.address],
        }),
      },
      {
        when: "the response is final",
        error: "StateIsFinal",
        by: "adjudicator",
        build: async (c) => ({
          response: sentByParticipant(
            { ...(await voucherState(c.alice, c.id, c.challenged, 3n, parseEther("0.9"), registered)), isFinal: true },
            PAYEE,
          ),
          args: [3n],
        }),
      },
      {
        when: "the payer responds with a state that only it signed",
        error: "NotSignedByPayee",
        build: async (c) => ({
          sender: "payer",
          response: sentByParticipant({ ...c.funding, turnNum: 3n, appData: c.challenged.appData }, PAYER),
          args: [1n],
        }),
      },
      {
        when: "the response's appData has 96 bytes",
        error: "MalformedVoucher",
        build: async (c) => {
          const vp = await voucherState(c.alice, c.id, c.challenged, 3n, parseEther("0.9"), registered);
          return { response: sentByParticipant({ ...vp, appData: vp.appData.slice(0, -2) }, PAYEE), args: [96n] };
        },
      },
      {
        when: "the response's outcome has three allocations",
        error: "OutcomeNotTwoPartyOneAsset",
        build: async (c) => {
          const vp = await voucherState(c.alice, c.id, c.challenged, 3n, parseEther("0.9"), registered);
          const exit = vp.outcome[0];
          const outcome = [
            { ...exit, allocations: [...exit.allocations, { destination: toDestination(c.eve.address), amount: 0n }] },
          ];
          return { response: sentByParticipant({ ...vp, outcome }, PAYEE), args: [] };
        },
      },
    ];

    for (const { when, error, by, build } of respondCases) {
      it(`when ${when}: ${error}; the registered voucher and its clock stand`, async () => {
        const c = await loadFixture(registeredVoucher);
        const { response, args, sender } = await build(c);
        await expect(
          c.adjudicator
            .connect(sender === "payer" ? c.alice : c.bob)
            .respond(
              c.fixedPart,
              c.id,
              c.challenged,
              response,
              (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
            ),
        )
          .to.be.revertedWithCustomError(by === "adjudicator" ? c.adjudicator : c.app, error)
          .withArgs(...args);
        expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(c.status);
      });
    }

    it("when every bad response has been refused, the registered voucher is paid: 0.8 ETH to the payee", async () => {
      const c = await loadFixture(registeredVoucher);
      await time.increase(DURATION);
      await expect(
        c.adjudicator.transferAllAssets(
          c.id,
          stateHash(c.id, c.challenged),
          c.challenged.outcome,
          await committedEthFor(c.adjudicator, c.id, stateHash(c.id, c.challenged), c.challenged.outcome),
        ),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT - registered, registered, -DEPOSIT]);
    });

    it("when the payer challenged with a state whose appData is not a voucher: no response from it (MalformedVoucher), the challenge stands", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const odd = { ...c.funding, appData: "0x01" };
      await challengeAs(c, c.alice, [], await signed(c.fixedPart, c.id, odd, [c.alice, c.bob]));
      const response = await voucherState(c.alice, c.id, odd, 2n, AMOUNT);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            odd,
            sentByParticipant(response, PAYEE),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
      )
        .to.be.revertedWithCustomError(c.app, "MalformedVoucher")
        .withArgs(1n);
      const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
      expect([turnNumRecord, finalizesAt > 0n]).to.deep.equal([1n, true]);
    });
  });

  describe("called directly on the app", () => {
    it("when a valid voucher state is checked: requireStateSupported and requireValidTransition accept it", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const vp = await goodVoucherState(c);
      await c.app.requireStateSupported(c.fixedPart, c.id, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      await c.app.requireValidTransition(c.fixedPart, c.id, c.funding, sentByParticipant(vp, PAYEE));
    });

    it("when the voucher state is final: VoucherStateIsFinal from requireStateSupported and requireValidTransition", async () => {
      // The adjudicator refuses a final candidate or response itself (StateIsFinal); the app's rule holds alone.
      const c = await loadFixture(fundedVoucherChannel);
      const final = sentByParticipant({ ...(await goodVoucherState(c)), isFinal: true }, PAYEE);
      await expect(
        c.app.requireStateSupported(c.fixedPart, c.id, [c.fundingSigned], final),
      ).to.be.revertedWithCustomError(c.app, "VoucherStateIsFinal");
      await expect(c.app.requireValidTransition(c.fixedPart, c.id, c.funding, final)).to.be.revertedWithCustomError(
        c.app,
        "VoucherStateIsFinal",
      );
    });

    it("when the base or the from-state is final: BaseIsFinal from requireStateSupported and requireValidTransition", async () => {
      // ADR 0005: a final state's appData does not say what it paid, so nothing is built on it.
      const c = await loadFixture(fundedVoucherChannel);
      const finalBase = { ...c.funding, isFinal: true };
      const vp = sentByParticipant(await goodVoucherState(c), PAYEE);
      await expect(
        c.app.requireStateSupported(
          c.fixedPart,
          c.id,
          [await signed(c.fixedPart, c.id, finalBase, [c.alice, c.bob])],
          vp,
        ),
      ).to.be.revertedWithCustomError(c.app, "BaseIsFinal");
      await expect(c.app.requireValidTransition(c.fixedPart, c.id, finalBase, vp)).to.be.revertedWithCustomError(
        c.app,
        "BaseIsFinal",
      );
    });

    for (const count of [0, 1, 3]) {
      it(`when the fixed part has ${count} participants: NotTwoParticipants(${count})`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const participants = [c.alice, c.bob, c.carol].slice(0, count).map((s) => s.address);
        const fixedPart = { ...c.fixedPart, participants };
        const vp = sentByParticipant(await goodVoucherState(c), PAYEE);
        await expect(c.app.requireStateSupported(fixedPart, c.id, [c.fundingSigned], vp))
          .to.be.revertedWithCustomError(c.app, "NotTwoParticipants")
          .withArgs(BigInt(count));
        await expect(c.app.requireValidTransition(fixedPart, c.id, c.funding, vp))
          .to.be.revertedWithCustomError(c.app, "NotTwoParticipants")
          .withArgs(BigInt(count));
      });
    }

    it("when the from-state of a transition has two assets: OutcomeNotTwoPartyOneAsset", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const from = { ...c.funding, outcome: [c.funding.outcome[0], c.funding.outcome[0]] };
      await expect(
        c.app.requireValidTransition(c.fixedPart, c.id, from, sentByParticipant(await goodVoucherState(c), PAYEE)),
      )
        .to.be.revertedWithCustomError(c.app, "OutcomeNotTwoPartyOneAsset")
        .withArgs();
    });

    it("when the from-state's payee allocation is so large that adding the voucher overflows: OutcomeNotVoucherMove, not a panic", async () => {
      // The interface promises that a voucher state is rejected with exactly one of IVoucherPaymentApp's errors.
      const c = await loadFixture(fundedVoucherChannel);
      const payeeBefore = MaxUint256 - 5n;
      const from = stateWith(c.funding, 1n, "0x", allocations(c, AMOUNT, payeeBefore));
      const to = stateWith(from, 2n, voucherData(AMOUNT, await payerVoucherSig(c)), allocations(c, 0n, MaxUint256));
      await expect(c.app.requireValidTransition(c.fixedPart, c.id, from, sentByParticipant(to, PAYEE)))
        .to.be.revertedWithCustomError(c.app, "OutcomeNotVoucherMove")
        .withArgs(AMOUNT);
    });
  });
});
