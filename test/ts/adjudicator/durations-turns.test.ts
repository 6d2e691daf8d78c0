// Challenge durations (SECURITY row 6), turn numbers at the top of uint48 (row 7) and repeated challenges
// (row 5). The channel is [alice, bob] holding alice's 1 ETH; every test says who ends with it.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { NO_REGISTRATION, stateHash } from "../../../sdk/index.js";
import { DURATION, ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  DEPOSIT,
  type Funded,
  fingerprintOf,
  fundedFixture,
  MAX_DURATION,
  MAX_UINT48,
  MIN_DURATION,
  payOut,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const HALF = parseEther("0.5");

/** A channel of alice and bob with `challengeDuration`, funded with 1 ETH by alice. */
async function channelWithDuration(c: Funded, challengeDuration: bigint) {
  const { fixedPart, id } = c.channel({ channelNonce: 10n, challengeDuration });
  await c.adjudicator.connect(c.alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
  return { fixedPart, id };
}

describe("Challenge durations (SECURITY row 6)", () => {
  it("the bounds are 10 s and 365 days", async () => {
    const c = await loadFixture(fundedFixture);
    expect(await c.adjudicator.MIN_CHALLENGE_DURATION()).to.equal(MIN_DURATION);
    expect(await c.adjudicator.MAX_CHALLENGE_DURATION()).to.equal(MAX_DURATION);
  });

  const refused: [string, bigint][] = [
    ["0", 0n],
    ["1 s", 1n],
    ["9 s (1 below the minimum)", MIN_DURATION - 1n],
    ["365 days + 1 s", MAX_DURATION + 1n],
    ["2^48 - 1 (now + duration would overflow uint48)", MAX_UINT48],
  ];
  for (const [what, duration] of refused) {
    it(`a duration of ${what}: challenge refused (InvalidChallengeDuration), the 1 ETH stays in the channel`, async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = await channelWithDuration(c, duration);
      const candidate = await signed(fixedPart, id, c.state(1n, HALF, HALF), [c.alice, c.bob]);
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(fixedPart, [], candidate, "0x", await registrationNow(c.adjudicator, fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidChallengeDuration")
        .withArgs(duration, MIN_DURATION, MAX_DURATION);
      expect(await c.adjudicator.statusOf(id)).to.deep.equal([0n, 0n, 0n]);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(DEPOSIT);
    });
  }

  const accepted: [string, bigint][] = [
    ["10 s (the minimum)", MIN_DURATION],
    ["365 days (the maximum)", MAX_DURATION],
  ];
  for (const [what, duration] of accepted) {
    it(`a duration of ${what}: the challenge finalizes exactly then and pays alice and bob 0.5 ETH each`, async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = await channelWithDuration(c, duration);
      const vp = c.state(1n, HALF, HALF);
      await c.adjudicator
        .connect(c.alice)
        .challenge(
          fixedPart,
          [],
          await signed(fixedPart, id, vp, [c.alice, c.bob]),
          "0x",
          await registrationNow(c.adjudicator, fixedPart),
        );
      const finalizesAt = BigInt(await time.latest()) + duration;
      expect((await c.adjudicator.statusOf(id))[1]).to.equal(finalizesAt);
      await time.increaseTo(finalizesAt);
      await expect(
        c.adjudicator.transferAllAssets(
          id,
          stateHash(id, vp),
          vp.outcome,
          await committedEthFor(c.adjudicator, id, stateHash(id, vp), vp.outcome),
        ),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
    });
  }

  it("a channel with a refused duration is still funded (deposit only sees the id) and can still close cooperatively", async () => {
    // The contract refuses the challenge; refusing to fund such a channel is the SDK's job.
    const c = await loadFixture(fundedFixture);
    const { fixedPart, id } = await channelWithDuration(c, 0n);
    const final = c.state(1n, HALF, HALF, { isFinal: true });
    await expect(
      c.adjudicator.concludeAndTransferAllAssets(fixedPart, await signed(fixedPart, id, final, [c.alice, c.bob])),
    ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
  });
});

describe("Turn numbers near the top of uint48 (SECURITY row 7)", () => {
  /** Alice challenges with a state of turn 2^48 - 1 that gives her everything. */
  async function atMaxTurn(c: Funded) {
    const vp = c.state(MAX_UINT48, DEPOSIT, 0n);
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
    return vp;
  }

  it("a challenge at 2^48 - 1 is recorded as such, and nothing can beat it: no wrap-around to 0", async () => {
    const c = await loadFixture(fundedFixture);
    const vp = await atMaxTurn(c);
    const [turnNumRecord, finalizesAt, fingerprint] = await c.adjudicator.statusOf(c.id);
    expect([turnNumRecord, fingerprint]).to.deep.equal([MAX_UINT48, fingerprintOf(c.id, vp)]);

    const rival = await c.byBoth(c.state(MAX_UINT48, 0n, DEPOSIT));
    await expect(
      c.adjudicator
        .connect(c.bob)
        .challenge(c.fixedPart, [], rival, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
      .withArgs(c.id, MAX_UINT48, MAX_UINT48);
    await expect(
      c.adjudicator
        .connect(c.bob)
        .checkpoint(c.fixedPart, [], rival, await registrationNow(c.adjudicator, c.fixedPart)),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
      .withArgs(c.id, MAX_UINT48, MAX_UINT48);
    // record + 1 does not fit in uint48; the adjudicator computes it in 256 bits, so turn 0 is not "next".
    for (const turnNum of [0n, MAX_UINT48]) {
      await expect(
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            vp,
            await c.byBoth(c.state(turnNum, 0n, DEPOSIT)),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberNotNext")
        .withArgs(c.id, MAX_UINT48, turnNum);
    }
    // A turn number of 2^48 cannot even be encoded.
    expect(() =>
      c.adjudicator.interface.encodeFunctionData("checkpoint", [
        c.fixedPart,
        [],
        { variablePart: c.state(MAX_UINT48 + 1n, 0n, DEPOSIT), signedBy: 3n, sigs: [] },
        NO_REGISTRATION,
      ]),
    ).to.throw();

    await time.increaseTo(finalizesAt);
    await expect(payOut(c, vp, c.alice)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [DEPOSIT, 0n, -DEPOSIT],
    );
  });

  it("a final state with a lower turn concludes over it; the record stays 2^48 - 1; bob and alice get 0.5 each", async () => {
    const c = await loadFixture(fundedFixture);
    await atMaxTurn(c);
    const final = c.state(3n, HALF, HALF, { isFinal: true });
    // During the challenge: conclude with its registration, then pay out.
    const registration = await registrationNow(c.adjudicator, c.fixedPart);
    await c.adjudicator.connect(c.bob).conclude(c.fixedPart, await c.byBoth(final), registration);
    expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(MAX_UINT48);
    await expect(
      c.adjudicator.transferAllAssets(c.id, stateHash(c.id, final), final.outcome, DEPOSIT),
    ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
    expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
  });

  it("checkpoint at 2^48 - 2, then challenge at 2^48 - 1: the record rises to the top and stays", async () => {
    const c = await loadFixture(fundedFixture);
    await c.adjudicator.checkpoint(
      c.fixedPart,
      [],
      await c.byBoth(c.state(MAX_UINT48 - 1n, HALF, HALF)),
      await registrationNow(c.adjudicator, c.fixedPart),
    );
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([MAX_UINT48 - 1n, 0n, 0n]);
    await atMaxTurn(c);
    expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(MAX_UINT48);
  });
});

describe("Repeated challenges (SECURITY row 5)", () => {
  /** States 1..5 of the channel, all signed by both; turn 5 (the latest) gives bob 0.8 ETH. */
  async function history(c: Funded) {
    const states = [];
    for (let t = 1n; t <= 5n; t++) {
      const bobGets = t === 5n ? parseEther("0.8") : parseEther("0.1") * (t - 1n);
      states.push(await c.byBoth(c.state(t, DEPOSIT - bobGets, bobGets)));
    }
    return states;
  }

  it("alice replays old states one after another; each must raise the record; bob's one counter-challenge with the latest ends it (1 transaction); bob gets 0.8", async () => {
    const c = await loadFixture(fundedFixture);
    const states = await history(c);
    const bobNonce = await ethers.provider.getTransactionCount(c.bob.address);

    // Alice escalates 1 -> 2 -> 3, each strictly above the last, and restarts the clock each time.
    for (const s of states.slice(0, 3))
      await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], s, "0x", await registrationNow(c.adjudicator, c.fixedPart));
    // Bob answers once, with the latest state.
    await c.adjudicator
      .connect(c.bob)
      .challenge(c.fixedPart, [], states[4], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(5n);

    // Alice has nothing left: every state she holds is at or below the record.
    for (const s of states) {
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(c.fixedPart, [], s, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, s.variablePart.turnNum);
      await expect(
        c.adjudicator
          .connect(c.alice)
          .checkpoint(c.fixedPart, [], s, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, s.variablePart.turnNum);
    }
    await time.increase(DURATION);
    await expect(payOut(c, states[4].variablePart, c.carol)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [parseEther("0.2"), parseEther("0.8"), -DEPOSIT],
    );
    // Bob's defence cost one transaction; the payout was sent by someone else.
    expect((await ethers.provider.getTransactionCount(c.bob.address)) - bobNonce).to.equal(1);
  });

  it("bob clears with a checkpoint instead: alice can only re-challenge with bob's latest state, which bob need not answer; bob gets 0.8 in 1 transaction", async () => {
    const c = await loadFixture(fundedFixture);
    const states = await history(c);
    const bobNonce = await ethers.provider.getTransactionCount(c.bob.address);
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], states[0], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    await c.adjudicator
      .connect(c.bob)
      .checkpoint(c.fixedPart, [], states[4], await registrationNow(c.adjudicator, c.fixedPart));
    // On the open channel the record may be matched, so alice can re-challenge, but only with turn 5.
    await expect(
      c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], states[3], "0x", await registrationNow(c.adjudicator, c.fixedPart)),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
      .withArgs(c.id, 5n, 4n);
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], states[4], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    await expect(
      c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], states[4], "0x", await registrationNow(c.adjudicator, c.fixedPart)),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
      .withArgs(c.id, 5n, 5n);
    await time.increase(DURATION);
    await expect(payOut(c, states[4].variablePart, c.alice)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [parseEther("0.2"), parseEther("0.8"), -DEPOSIT],
    );
    expect((await ethers.provider.getTransactionCount(c.bob.address)) - bobNonce).to.equal(1);
  });
});
