// Signatures and the unanimity rule (docs/security.md row 1, ADR 0001). Every broken signature is refused with
// InvalidSignature(participant index) by challenge, checkpoint and conclude alike; a refused call registers
// nothing, and the channel keeps alice's 1 ETH. A checkpoint only answers a challenge (ADR 0005), so its cases run
// on a channel that alice challenged with the funding state, and a refused one leaves that challenge as it was.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  type SignedVariablePart,
  signChallenge,
  signState,
  signVoucher,
  stateHash,
  type VariablePart,
} from "../../../sdk/index.js";
import { ethers, networkHelpers, type Signer, signed, voucherState } from "../helpers/fixtures.js";
import { ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  ALICE,
  BOB,
  compact,
  DEPOSIT,
  type Funded,
  fundedFixture,
  highS,
  replaceSig,
  sameVariablePart,
  sentByParticipant,
  withSignatures,
  withV,
  ZERO_RECOVERING,
} from "./helpers.js";

const { loadFixture } = networkHelpers;
const HALF = parseEther("0.5");

/** The three calls that take a signed state, each sent by `sender` with `candidate`. */
const CALLS = {
  challenge: async (c: Funded, sender: Signer, candidate: SignedVariablePart) =>
    c.adjudicator
      .connect(sender)
      .challenge(c.fixedPart, [], candidate, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
  checkpoint: async (c: Funded, sender: Signer, candidate: SignedVariablePart) =>
    c.adjudicator
      .connect(sender)
      .checkpoint(c.fixedPart, [], candidate, await registrationNow(c.adjudicator, c.fixedPart)),
  conclude: async (c: Funded, sender: Signer, candidate: SignedVariablePart) =>
    c.adjudicator.connect(sender).conclude(c.fixedPart, candidate, await registrationNow(c.adjudicator, c.fixedPart)),
} as const;
type Call = keyof typeof CALLS;

/** The state each call is given: final for conclude, not final for challenge and checkpoint (which refuse one). */
function stateFor(c: Funded, call: Call): VariablePart {
  return c.state(3n, HALF, HALF, { isFinal: call === "conclude" });
}

/**
 * Gets the channel ready for `call`: a checkpoint only answers a challenge (ADR 0005), so for it alice first
 * challenges with the funding state (turn 1, all to alice). Resolves to the status and ETH a refused call must leave.
 */
async function prepare(c: Funded, call: Call): Promise<unknown[]> {
  if (call === "checkpoint") await challengeWithFunding(c);
  return snapshot(c);
}

/** Alice challenges with the funding state (turn 1, all 1 ETH to alice), signed by both. */
async function challengeWithFunding(c: Funded): Promise<void> {
  await c.adjudicator
    .connect(c.alice)
    .challenge(
      c.fixedPart,
      [],
      await c.byBoth(c.state(1n, DEPOSIT, 0n)),
      "0x",
      await registrationNow(c.adjudicator, c.fixedPart),
    );
}

/** The channel's status and ETH holdings. */
async function snapshot(c: Funded): Promise<unknown[]> {
  return [...(await c.adjudicator.statusOf(c.id)), await ethHeldNow(c.adjudicator, c.id)];
}

/** Nothing was registered (the status is still `before`) and the deposit is untouched. */
async function expectUntouched(c: Funded, before: unknown[] = [0n, 0n, 0n, DEPOSIT]) {
  expect(await snapshot(c)).to.deep.equal(before);
  expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
}

/** `call` took the turn-3 state: the record is 3, and a checkpoint kept the deadline of the challenge it answered. */
async function expectAccepted(c: Funded, call: Call, deadlineBefore: bigint) {
  const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
  expect(turnNumRecord).to.equal(3n);
  if (call === "checkpoint") expect(finalizesAt).to.equal(deadlineBefore);
}

/** How a participant's good signature of `vp` is replaced by a bad one. */
interface Breakage {
  what: string;
  bad(c: Funded, signer: Signer, vp: VariablePart): Promise<string>;
}

const breakages: Breakage[] = [
  {
    what: "malleable (high s, the same signer under raw ecrecover)",
    bad: async (c, s, vp) => highS(await signState(s, c.id, vp)),
  },
  { what: "v = 0", bad: async (c, s, vp) => withV(await signState(s, c.id, vp), 0) },
  { what: "v = 1", bad: async (c, s, vp) => withV(await signState(s, c.id, vp), 1) },
  { what: "v = 29", bad: async (c, s, vp) => withV(await signState(s, c.id, vp), 29) },
  {
    what: "64 bytes (EIP-2098 compact form of a good signature)",
    bad: async (c, s, vp) => compact(await signState(s, c.id, vp)),
  },
  {
    what: "66 bytes (a good signature and a trailing byte)",
    bad: async (c, s, vp) => `${await signState(s, c.id, vp)}00`,
  },
  { what: "1 byte", bad: async () => "0x1b" },
  { what: "65 bytes that recover to address 0", bad: async () => ZERO_RECOVERING },
  {
    what: "a non-participant's (eve's) signature of the same state",
    bad: async (c, _s, vp) => signState(c.eve, c.id, vp),
  },
  {
    what: "the participant's signature of the same state in another channel (next nonce)",
    bad: async (c, s, vp) => signState(s, c.channel({ channelNonce: 2n }).id, vp),
  },
  {
    what: "the participant's signature of another state (next turn) of this channel",
    bad: async (c, s, vp) => signState(s, c.id, { ...vp, turnNum: vp.turnNum + 1n }),
  },
  {
    what: "the participant's challenge authorization for this state (another type hash)",
    bad: async (c, s, vp) => signChallenge(s, stateHash(c.id, vp)),
  },
  {
    what: "the participant's voucher signature (another type hash)",
    bad: async (c, s) => (await signVoucher(s, c.id, 1n)).signature,
  },
];

describe("Signatures (security row 1) and the unanimity rule", () => {
  for (const call of Object.keys(CALLS) as Call[]) {
    describe(`${call}`, () => {
      for (const { what, bad } of breakages) {
        for (const index of [ALICE, BOB]) {
          it(`participant ${index}'s signature is ${what}: InvalidSignature(${index}), nothing registered`, async () => {
            const c = await loadFixture(fundedFixture);
            const before = await prepare(c, call);
            const vp = stateFor(c, call);
            const signer = index === ALICE ? c.alice : c.bob;
            const candidate = replaceSig(await c.byBoth(vp), index, await bad(c, signer, vp));
            // Sent by the other participant, so that it is a participant's call in every case.
            await expect(CALLS[call](c, index === ALICE ? c.bob : c.alice, candidate))
              .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
              .withArgs(index);
            await expectUntouched(c, before);
          });
        }
      }

      it("the signatures in the wrong order (bob's first): InvalidSignature(0)", async () => {
        const c = await loadFixture(fundedFixture);
        const before = await prepare(c, call);
        const good = await c.byBoth(stateFor(c, call));
        await expect(CALLS[call](c, c.alice, { ...good, sigs: [good.sigs[1], good.sigs[0]] }))
          .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
          .withArgs(ALICE);
        await expectUntouched(c, before);
      });

      it("both signatures good: accepted (the control case)", async () => {
        const c = await loadFixture(fundedFixture);
        const [, finalizesAt] = await prepare(c, call);
        await CALLS[call](c, c.alice, await c.byBoth(stateFor(c, call)));
        await expectAccepted(c, call, finalizesAt as bigint);
      });

      it("the sender's own signature empty (ADR 0001): accepted", async () => {
        const c = await loadFixture(fundedFixture);
        const [, finalizesAt] = await prepare(c, call);
        const candidate = replaceSig(await c.byBoth(stateFor(c, call)), BOB, "0x");
        await CALLS[call](c, c.bob, candidate);
        await expectAccepted(c, call, finalizesAt as bigint);
      });

      it("another participant's signature empty: InvalidSignature for that participant", async () => {
        const c = await loadFixture(fundedFixture);
        const before = await prepare(c, call);
        const candidate = replaceSig(await c.byBoth(stateFor(c, call)), BOB, "0x");
        await expect(CALLS[call](c, c.alice, candidate))
          .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
          .withArgs(BOB);
        await expectUntouched(c, before);
      });

      it("an empty signature sent by a stranger (the caller is not a participant): InvalidSignature", async () => {
        const c = await loadFixture(fundedFixture);
        const before = await prepare(c, call);
        const candidate = replaceSig(await c.byBoth(stateFor(c, call)), ALICE, "0x");
        await expect(CALLS[call](c, c.carol, candidate))
          .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
          .withArgs(ALICE);
        await expectUntouched(c, before);
      });

      const bitmasks: [string, bigint, number][] = [
        ["bits 0, 1 and 2 (there is no third participant)", 0b111n, 3],
        ["only bit 2", 0b100n, 1],
        ["bits 0, 1 and 255", (1n << 255n) | 3n, 3],
      ];
      for (const [what, signedBy, sigCount] of bitmasks) {
        // conclude checks for the full bitmask first, so it reports NotUnanimous(signedBy, 3) instead.
        const [error, args] =
          call === "conclude" ? ["NotUnanimous", [signedBy, 3n]] : ["InvalidSignedBy", [signedBy, 2n]];
        it(`signedBy sets ${what}: ${error}`, async () => {
          const c = await loadFixture(fundedFixture);
          const before = await prepare(c, call);
          const good = await c.byBoth(stateFor(c, call));
          const sigs = [...good.sigs, good.sigs[0]].slice(0, sigCount);
          await expect(CALLS[call](c, c.alice, withSignatures(good.variablePart, signedBy, sigs)))
            .to.be.revertedWithCustomError(c.adjudicator, error as string)
            .withArgs(...(args as bigint[]));
          await expectUntouched(c, before);
        });
      }

      it("signedBy names both but one signature is given: SignatureCountMismatch(2, 1)", async () => {
        const c = await loadFixture(fundedFixture);
        const before = await prepare(c, call);
        const good = await c.byBoth(stateFor(c, call));
        await expect(CALLS[call](c, c.alice, { ...good, sigs: [good.sigs[0]] }))
          .to.be.revertedWithCustomError(c.adjudicator, "SignatureCountMismatch")
          .withArgs(2n, 1n);
        await expectUntouched(c, before);
      });
    });
  }

  describe("signature counts that do not match signedBy (challenge and checkpoint)", () => {
    it("signedBy names alice but two signatures are given: SignatureCountMismatch(1, 2)", async () => {
      const c = await loadFixture(fundedFixture);
      const good = await c.byBoth(c.state(3n, HALF, HALF));
      await expect(CALLS.challenge(c, c.alice, { ...good, signedBy: 1n }))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureCountMismatch")
        .withArgs(1n, 2n);
      await expectUntouched(c);
      // A checkpoint only answers a challenge: the same candidate answering one is refused the same way.
      const before = await prepare(c, "checkpoint");
      await expect(CALLS.checkpoint(c, c.alice, { ...good, signedBy: 1n }))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureCountMismatch")
        .withArgs(1n, 2n);
      await expectUntouched(c, before);
    });

    it("signedBy names nobody but a signature is given: SignatureCountMismatch(0, 1)", async () => {
      const c = await loadFixture(fundedFixture);
      const before = await prepare(c, "checkpoint");
      const good = await c.byBoth(c.state(3n, HALF, HALF));
      await expect(CALLS.checkpoint(c, c.alice, { ...good, signedBy: 0n, sigs: [good.sigs[0]] }))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureCountMismatch")
        .withArgs(0n, 1n);
      await expectUntouched(c, before);
    });
  });

  describe("the proof's signatures are checked like the candidate's", () => {
    it("a voucher state whose base has bob's high-s signature: InvalidSignature(1), nothing registered", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = c.state(1n, DEPOSIT, 0n);
      const base = await c.byBoth(funding);
      const vp = await voucherState(c.alice, c.id, funding, 2n, parseEther("0.2"));
      const badBase = replaceSig(base, BOB, highS(base.sigs[BOB]));
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(
            c.fixedPart,
            [badBase],
            sentByParticipant(vp, BOB),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
        .withArgs(BOB);
      await expectUntouched(c);
      // The same voucher state answering alice's challenge with the funding state: refused the same way.
      const before = await prepare(c, "checkpoint");
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            c.fixedPart,
            [badBase],
            sentByParticipant(vp, BOB),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
        .withArgs(BOB);
      await expectUntouched(c, before);
    });
  });

  describe("the unanimity rule: a state signed by every participant needs no app", () => {
    /** A channel [alice, bob] whose app is an account without code (eve), funded with 1 ETH. */
    async function codelessAppChannel(c: Funded) {
      const { fixedPart, id } = c.channel({ channelNonce: 5n, appDefinition: c.eve.address });
      await c.adjudicator.connect(c.alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
      return { fixedPart, id };
    }

    it("the app has no code: states both signed are still registered, by challenge and by checkpoint (the app is never called); they pay out", async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = await codelessAppChannel(c);
      const first = c.state(1n, DEPOSIT, 0n);
      await c.adjudicator
        .connect(c.alice)
        .challenge(
          fixedPart,
          [],
          await signed(fixedPart, id, first, [c.alice, c.bob]),
          "0x",
          await registrationNow(c.adjudicator, fixedPart),
        );
      const [, finalizesAt] = await c.adjudicator.statusOf(id);
      const vp = c.state(2n, HALF, HALF);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            fixedPart,
            [],
            await signed(fixedPart, id, vp, [c.alice, c.bob]),
            await registrationNow(c.adjudicator, fixedPart),
          ),
      )
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(id, finalizesAt, ...sameVariablePart(vp), DEPOSIT);
      await networkHelpers.time.increaseTo(finalizesAt);
      await expect(
        c.adjudicator.connect(c.carol).transferAllAssets(id, stateHash(id, vp), vp.outcome, DEPOSIT),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
    });

    it("the app has no code: a state one signed reverts (no silent acceptance), nothing registered", async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = await codelessAppChannel(c);
      const vp = c.state(2n, 0n, DEPOSIT);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(
            fixedPart,
            [],
            await signed(fixedPart, id, vp, [c.bob]),
            "0x",
            await registrationNow(c.adjudicator, fixedPart),
          ),
      ).to.be.revertedWithoutReason(ethers);
      expect(await c.adjudicator.statusOf(id)).to.deep.equal([0n, 0n, 0n]);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(DEPOSIT);
    });

    it("a state both signed, sent with a proof anyway: the app is consulted (voucher app: MalformedVoucher(0))", async () => {
      const c = await loadFixture(fundedFixture);
      const before = await prepare(c, "checkpoint");
      const proof = [await c.byBoth(c.state(1n, DEPOSIT, 0n))];
      await expect(
        c.adjudicator
          .connect(c.alice)
          .checkpoint(
            c.fixedPart,
            proof,
            await c.byBoth(c.state(2n, HALF, HALF)),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.app, "MalformedVoucher")
        .withArgs(0n);
      await expectUntouched(c, before);
    });
  });
});
