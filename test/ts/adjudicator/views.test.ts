// The view functions: channelIdOf, holdings, ethHoldings, statusOf and isFinalized, followed through a channel's life.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { type FixedPart, NO_REGISTRATION, outcomeHash, stateHash } from "../../../sdk/index.js";
import { DURATION, ethers, networkHelpers } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";
import { DEPOSIT, fingerprintOf, fundedFixture, payOut } from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const HALF = parseEther("0.5");

describe("Adjudicator views", () => {
  it("channelIdOf equals the SDK's channel id, and any change of the fixed part gives another id", async () => {
    const c = await loadFixture(fundedFixture);
    expect(await c.adjudicator.channelIdOf(c.fixedPart)).to.equal(c.id);
    const variants: FixedPart[] = [
      { ...c.fixedPart, channelNonce: c.fixedPart.channelNonce + 1n },
      { ...c.fixedPart, challengeDuration: c.fixedPart.challengeDuration + 1n },
      { ...c.fixedPart, appDefinition: c.eve.address },
      { ...c.fixedPart, participants: [c.bob.address, c.alice.address] },
    ];
    for (const fixedPart of variants) {
      const id = await c.adjudicator.channelIdOf(fixedPart);
      expect(id).to.equal(c.channel(fixedPart).id);
      expect(id).to.not.equal(c.id);
    }
  });

  it("holdings are per asset and per channel: 1 ETH and 300 tokens here, nothing elsewhere", async () => {
    const c = await loadFixture(fundedFixture);
    const asset = await c.token.getAddress();
    await c.token.connect(c.alice).approve(c.adjudicatorAddress, 300n);
    await c.adjudicator.connect(c.alice).deposit(asset, c.id, 0n, 300n);
    const other = c.channel({ channelNonce: 2n }).id;
    expect([
      await c.adjudicator.holdings(ZeroAddress, c.id),
      await c.adjudicator.holdings(asset, c.id),
      await c.adjudicator.holdings(ZeroAddress, other),
      await c.adjudicator.holdings(asset, other),
    ]).to.deep.equal([DEPOSIT, 300n, 0n, 0n]);
    // An open channel's ETH is in its status; ethHoldings reads it whatever registration it is given.
    expect(await c.adjudicator.ethHoldings(c.id, NO_REGISTRATION)).to.equal(DEPOSIT);
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
  });

  it("statusOf and isFinalized through a channel's life: open, challenged, answered (same deadline), finalized, paid out", async () => {
    const c = await loadFixture(fundedFixture);
    const expectStatus = async (status: bigint[], finalized: boolean) => {
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(status);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(finalized);
    };
    await expectStatus([0n, 0n, 0n], false);

    // An open channel has no record to raise: a checkpoint is refused and the status stays.
    await expect(
      c.adjudicator.checkpoint(
        c.fixedPart,
        [],
        await c.byBoth(c.state(2n, HALF, HALF)),
        await registrationNow(c.adjudicator, c.fixedPart),
      ),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
      .withArgs(c.id);
    await expectStatus([0n, 0n, 0n], false);

    const challenged = c.state(2n, DEPOSIT, 0n);
    await c.adjudicator
      .connect(c.alice)
      .challenge(c.fixedPart, [], await c.byBoth(challenged), "0x", await registrationNow(c.adjudicator, c.fixedPart));
    const finalizesAt = BigInt(await time.latest()) + DURATION;
    await expectStatus([2n, finalizesAt, fingerprintOf(c.id, challenged)], false);

    // The answer replaces the registered state: the record and the fingerprint change, the deadline does not.
    const vp = c.state(3n, HALF, HALF);
    await c.adjudicator
      .connect(c.bob)
      .checkpoint(c.fixedPart, [], await c.byBoth(vp), await registrationNow(c.adjudicator, c.fixedPart));
    await expectStatus([3n, finalizesAt, fingerprintOf(c.id, vp)], false);
    // The challenge committed the channel's ETH into the fingerprint: holdings() cannot tell it, ethHoldings()
    // can, given the registration, and refuses any other (the replaced one included).
    await expect(c.adjudicator.holdings(ZeroAddress, c.id))
      .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
      .withArgs(c.id);
    const registration = { stateHash: stateHash(c.id, vp), outcomeHash: outcomeHash(vp.outcome), heldEth: DEPOSIT };
    expect(await c.adjudicator.ethHoldings(c.id, registration)).to.equal(DEPOSIT);
    await expect(c.adjudicator.ethHoldings(c.id, { ...registration, heldEth: DEPOSIT + 1n }))
      .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
      .withArgs(c.id);
    const replaced = {
      stateHash: stateHash(c.id, challenged),
      outcomeHash: outcomeHash(challenged.outcome),
      heldEth: DEPOSIT,
    };
    await expect(c.adjudicator.ethHoldings(c.id, replaced))
      .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
      .withArgs(c.id);

    await time.increaseTo(finalizesAt - 1n);
    await expectStatus([3n, finalizesAt, fingerprintOf(c.id, vp)], false);
    await time.increaseTo(finalizesAt);
    await expectStatus([3n, finalizesAt, fingerprintOf(c.id, vp)], true);

    // Paid out: alice and bob 0.5 ETH each; still finalized, nothing owed.
    await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(ethers, [c.alice, c.bob], [HALF, HALF]);
    await expectStatus([3n, finalizesAt, 0n], true);
    expect(await c.adjudicator.holdings(ZeroAddress, c.id)).to.equal(0n);
  });
});
