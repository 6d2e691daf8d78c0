// The SDK's TypeScript mirror of the Solidity encodings must agree with the contracts for random inputs: a
// mismatch would make every signature the SDK produces useless on chain.
import { expect } from "chai";
import { zeroPadValue } from "ethers";
import {
  challengeHash,
  channelId,
  computePayouts,
  fingerprint,
  isExternalDestination,
  outcomeHash,
  packStatus,
  stateHash,
  unpackStatus,
  voucherHash,
} from "../../../sdk/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";

const CASES = 1_000;

describe("SDK parity with the Solidity encodings", function () {
  it(`channelId equals ChannelHashing.channelId for ${CASES} random fixed parts, chains and adjudicators`, async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(1);
    for (let i = 0; i < CASES; i++) {
      const chainId = random.uint(256);
      const adjudicator = random.address();
      const fixedPart = random.fixedPart();
      expect(channelId(chainId, adjudicator, fixedPart), `case ${i}`).to.equal(
        await harness.channelId(chainId, adjudicator, fixedPart),
      );
    }
  });

  it(`outcomeHash equals ChannelHashing.outcomeHash for ${CASES} random outcomes`, async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(2);
    for (let i = 0; i < CASES; i++) {
      const outcome = random.outcome();
      expect(outcomeHash(outcome), `case ${i}`).to.equal(await harness.outcomeHash(outcome));
    }
  });

  it(`stateHash equals ChannelHashing.hashState for ${CASES} random states`, async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(3);
    for (let i = 0; i < CASES; i++) {
      const id = random.bytes(32);
      const variablePart = random.variablePart();
      expect(stateHash(id, variablePart), `case ${i}`).to.equal(await harness.stateHash(id, variablePart));
    }
  });

  it(`voucherHash and challengeHash equal VoucherLib and ChannelHashing for ${CASES} random inputs`, async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(4);
    for (let i = 0; i < CASES; i++) {
      const id = random.bytes(32);
      const amount = random.uint(256);
      expect(voucherHash(id, amount), `case ${i}`).to.equal(await harness.voucherHash(id, amount));
      expect(challengeHash(id), `case ${i}`).to.equal(await harness.challengeHash(id));
    }
  });

  it("status packing and fingerprints equal ChannelStatusLib for random inputs", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(5);
    for (let i = 0; i < 300; i++) {
      const status = {
        turnNumRecord: random.uint(48),
        finalizesAt: random.uint(47),
        lateEth: i % 2 === 0,
        low: random.uint(160),
      };
      const packed = packStatus(status);
      expect(packed).to.equal(
        await harness.packStatus(status.turnNumRecord, status.finalizesAt, status.lateEth, status.low),
      );
      expect(unpackStatus(packed)).to.deep.equal(status);
      expect(await harness.unpackStatus(packed)).to.deep.equal([
        status.turnNumRecord,
        status.finalizesAt,
        status.lateEth,
        status.low,
      ]);
      const [hashOfState, hashOfOutcome] = [random.bytes(32), i % 10 === 0 ? `0x${"00".repeat(32)}` : random.bytes(32)];
      const heldEth = i % 5 === 0 ? 0n : random.uint(160);
      expect(fingerprint(hashOfState, hashOfOutcome, heldEth)).to.equal(
        await harness.fingerprint(hashOfState, hashOfOutcome, heldEth),
      );
    }
  });

  it("a finalization time past 47 bits is refused when packing (FinalizesAtOverflow), not wrapped", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    expect(await harness.packStatus(1n, 2n ** 47n - 1n, false, 0n)).to.equal((1n << 208n) | ((2n ** 47n - 1n) << 160n));
    await expect(harness.packStatus(1n, 2n ** 47n, false, 0n))
      .to.be.revertedWithCustomError(harness, "FinalizesAtOverflow")
      .withArgs(2n ** 47n);
  });

  it("computePayouts equals PayoutLib.compute for random holdings, allocations and indices", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(6);
    for (let i = 0; i < 300; i++) {
      const allocations = Array.from({ length: random.int(6) }, () => ({
        destination: randomDestination(random),
        amount: random.uint(random.bool() ? 64 : 255),
      }));
      const held = random.uint(random.bool() ? 64 : 256);
      const indices = allocations
        .map((a, j) => (isExternalDestination(a.destination) && random.bool() ? BigInt(j) : -1n))
        .filter((j) => j >= 0n);
      const [newAmounts, paid, totalPaid] = await harness.computePayouts(held, allocations, indices);
      const mirrored = computePayouts(held, allocations, indices);
      expect(mirrored.newAmounts, `case ${i}`).to.deep.equal([...newAmounts]);
      expect(mirrored.paid, `case ${i}`).to.deep.equal([...paid]);
      expect(mirrored.totalPaid, `case ${i}`).to.equal(totalPaid);
    }
  });
});

/** An external address (left-padded) or, one time in three, a channel id: a guarantee, which is never paid. */
function randomDestination(random: Random): string {
  return random.int(3) === 0 ? random.bytes(32) : zeroPadValue(random.bytes(20), 32);
}
