// Challenge durations (docs/security.md row 6; out of range they are clamped, ADR 0005), turn numbers at the top of
// uint48 (row 7) and repeated challenges (row 5: each must raise the record, and none moves the deadline). The channel
// is [alice, bob] holding alice's 1 ETH; every test says who ends with it.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { NO_REGISTRATION, stateHash } from "../../../sdk/index.js";
import { ethers, networkHelpers, signed } from "../helpers/fixtures.js";
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
  sameVariablePart,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const HALF = parseEther("0.5");

/** A channel of alice and bob with `challengeDuration`, funded with 1 ETH by alice. */
async function channelWithDuration(c: Funded, challengeDuration: bigint) {
  const { fixedPart, id } = c.channel({ channelNonce: 10n, challengeDuration });
  await c.adjudicator.connect(c.alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
  return { fixedPart, id };
}

describe("Challenge durations (security row 6)", () => {
  it("the bounds are 10 s and 365 days", async () => {
    const c = await loadFixture(fundedFixture);
    expect(await c.adjudicator.MIN_CHALLENGE_DURATION()).to.equal(MIN_DURATION);
    expect(await c.adjudicator.MAX_CHALLENGE_DURATION()).to.equal(MAX_DURATION);
  });

  const clamped: [string, bigint, bigint][] = [
    ["0", 0n, MIN_DURATION],
    ["1 s", 1n, MIN_DURATION],
    ["9 s (1 below the minimum)", MIN_DURATION - 1n, MIN_DURATION],
    ["365 days + 1 s", MAX_DURATION + 1n, MAX_DURATION],
    ["2^48 - 1 (now + duration would overflow uint48)", MAX_UINT48, MAX_DURATION],
  ];
  for (const [what, duration, bound] of clamped) {
    it(`a duration of ${what}: clamped to ${bound} s (ADR 0005); the challenge finalizes then and pays alice and bob 0.5 ETH each`, async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = await channelWithDuration(c, duration);
      const vp = c.state(1n, HALF, HALF);
      const tx = await c.adjudicator
        .connect(c.alice)
        .challenge(
          fixedPart,
          [],
          await signed(fixedPart, id, vp, [c.alice, c.bob]),
          "0x",
          await registrationNow(c.adjudicator, fixedPart),
        );
      const finalizesAt = BigInt(await time.latest()) + bound;
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(id, finalizesAt, ...sameVariablePart(vp), DEPOSIT);
      expect(await c.adjudicator.statusOf(id)).to.deep.equal([1n, finalizesAt, fingerprintOf(id, vp)]);
      // One second before the clamped deadline nothing can be paid; at it, the outcome is.
      await time.increaseTo(finalizesAt - 1n);
      expect(await c.adjudicator.isFinalized(id)).to.equal(false);
      await time.increaseTo(finalizesAt);
      expect(await c.adjudicator.isFinalized(id)).to.equal(true);
      await expect(c.adjudicator.transferAllAssets(id, stateHash(id, vp), vp.outcome, DEPOSIT)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [HALF, HALF, -DEPOSIT],
      );
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

  it("a channel with a duration out of range is still funded (deposit only sees the id) and can still close cooperatively", async () => {
    // The contract clamps the duration when challenged; refusing to fund such a channel is the SDK's job.
    const c = await loadFixture(fundedFixture);
    const { fixedPart, id } = await channelWithDuration(c, 0n);
    const final = c.state(1n, HALF, HALF, { isFinal: true });
    await expect(
      c.adjudicator.concludeAndTransferAllAssets(fixedPart, await signed(fixedPart, id, final, [c.alice, c.bob])),
    ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
  });
});

describe("Turn numbers near the top of uint48 (security row 7)", () => {
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
            c.id,
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

  it("challenge at 2^48 - 2, then a checkpoint at 2^48 - 1: the record rises to the top and stays, the deadline too; alice gets it all", async () => {
    const c = await loadFixture(fundedFixture);
    await c.adjudicator
      .connect(c.bob)
      .challenge(
        c.fixedPart,
        [],
        await c.byBoth(c.state(MAX_UINT48 - 1n, HALF, HALF)),
        "0x",
        await registrationNow(c.adjudicator, c.fixedPart),
      );
    const [record, finalizesAt] = await c.adjudicator.statusOf(c.id);
    expect(record).to.equal(MAX_UINT48 - 1n);
    const vp = c.state(MAX_UINT48, DEPOSIT, 0n);
    await c.adjudicator
      .connect(c.alice)
      .checkpoint(c.fixedPart, [], await c.byBoth(vp), await registrationNow(c.adjudicator, c.fixedPart));
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([MAX_UINT48, finalizesAt, fingerprintOf(c.id, vp)]);
    await time.increaseTo(finalizesAt);
    await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [DEPOSIT, 0n, -DEPOSIT],
    );
  });
});

describe("Repeated challenges (security row 5)", () => {
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

    // Alice escalates 1 -> 2 -> 3, each strictly above the last; the first starts the clock, the others keep it.
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], states[0], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
    for (const s of states.slice(1, 3)) {
      await time.increase(60n);
      await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], s, "0x", await registrationNow(c.adjudicator, c.fixedPart));
      expect((await c.adjudicator.statusOf(c.id))[1]).to.equal(finalizesAt);
    }
    // Bob answers once, with the latest state.
    await c.adjudicator
      .connect(c.bob)
      .challenge(c.fixedPart, [], states[4], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([
      5n,
      finalizesAt,
      fingerprintOf(c.id, states[4].variablePart),
    ]);

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
    // The deadline is the one alice's first challenge set.
    await time.increaseTo(finalizesAt);
    await expect(payOut(c, states[4].variablePart, c.carol)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [parseEther("0.2"), parseEther("0.8"), -DEPOSIT],
    );
    // Bob's defence cost one transaction; the payout was sent by someone else.
    expect((await ethers.provider.getTransactionCount(c.bob.address)) - bobNonce).to.equal(1);
  });

  it("bob answers with a checkpoint instead: it replaces alice's state and keeps her deadline; alice has nothing to beat it with (not even turn 5 again); bob gets 0.8 in 1 transaction", async () => {
    const c = await loadFixture(fundedFixture);
    const states = await history(c);
    const bobNonce = await ethers.provider.getTransactionCount(c.bob.address);
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], states[0], "0x", await registrationNow(c.adjudicator, c.fixedPart));
    const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
    await c.adjudicator
      .connect(c.bob)
      .checkpoint(c.fixedPart, [], states[4], await registrationNow(c.adjudicator, c.fixedPart));
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([
      5n,
      finalizesAt,
      fingerprintOf(c.id, states[4].variablePart),
    ]);
    // The channel is still under challenge (no reopening), so the record must be beaten: turn 4 and turn 5 alike
    // are refused, and nothing alice sends can restart the clock.
    for (const s of [states[3], states[4]]) {
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(c.fixedPart, [], s, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, s.variablePart.turnNum);
    }
    await time.increaseTo(finalizesAt);
    await expect(payOut(c, states[4].variablePart, c.alice)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [parseEther("0.2"), parseEther("0.8"), -DEPOSIT],
    );
    expect((await ethers.provider.getTransactionCount(c.bob.address)) - bobNonce).to.equal(1);
  });
});
