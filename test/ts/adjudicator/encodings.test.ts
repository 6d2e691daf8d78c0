// The adjudicator's shortcuts over its call data (outcome hash, ChallengeRegistered, the app call of respond) read
// the call data as it is when it has the canonical ABI encoding. Here, encodings that no encoder writes but that
// Solidity decodes take the general path and get the same result: the same outcome hash (or the same revert), the
// same event; respond hands the app its own call data, so the app reads what the adjudicator read.
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, toBeHex, ZeroAddress, zeroPadValue } from "ethers";
import { outcomeHash, type VariablePart } from "../../../sdk/index.js";
import { deployFixture, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { BOB, DEPOSIT, fingerprintOf, fundedFixture, sameVariablePart, sentByParticipant } from "./helpers.js";

const { loadFixture } = networkHelpers;
const coder = AbiCoder.defaultAbiCoder();
const OUTCOME = "tuple(address asset, tuple(bytes32 destination, uint256 amount)[] allocations)[]";
const VARIABLE_PART = `tuple(${OUTCOME} outcome, bytes appData, uint48 turnNum, bool isFinal)`;
const SIGNED = `tuple(${VARIABLE_PART} variablePart, uint256 signedBy, bytes[] sigs)`;
const FIXED_PART =
  "tuple(address[] participants, uint64 channelNonce, address appDefinition, uint48 challengeDuration)";
const word = (n: bigint | number) => zeroPadValue(toBeHex(n), 32);
/** The encoding of one dynamic value of `type`, without the leading offset word. */
const tail = (type: string, value: unknown) => dataSlice(coder.encode([type], [value]), 32);
const length = (hex: string) => (hex.length - 2) / 2;

describe("call data in non-canonical encodings", () => {
  describe("outcomeHash (the canonical encoding is hashed as it lies in the call data)", () => {
    const alice = "0x00000000000000000000000000000000000000a1";
    const bob = "0x00000000000000000000000000000000000000b0";
    const outcome = ethState(alice, bob, 1n, 7n, 9n).outcome;
    // harness.outcomeHash(outcome) with the outcome's encoding `body` (after its offset word).
    async function both(body: string) {
      const f = await loadFixture(deployFixture);
      const data = (fn: "outcomeHash" | "outcomeHashReference") =>
        concat([f.harness.interface.getFunction(fn).selector, word(32), body]);
      const to = await f.harness.getAddress();
      const call = async (fn: "outcomeHash" | "outcomeHashReference") => {
        try {
          return await f.harness.runner?.provider?.call({ to, data: data(fn) });
        } catch {
          return "reverted";
        }
      };
      return [await call("outcomeHash"), await call("outcomeHashReference")];
    }

    it("canonical: the SDK's hash", async () => {
      const [fast, reference] = await both(tail(OUTCOME, outcome));
      expect(fast).to.equal(outcomeHash(outcome));
      expect(reference).to.equal(fast);
    });

    it("a gap before the exit, allocations at offset 0x60, an exit shared by two entries: the same hash as abi.encode", async () => {
      const exit = dataSlice(tail(OUTCOME, outcome), 64); // asset, 0x40, allocations
      const gap = concat([word(1), word(0x40), word(0xdead), exit]);
      const [fast, reference] = await both(gap);
      expect(fast).to.equal(outcomeHash(outcome)).and.to.equal(reference);
      const [asset, , ...allocations] = [0, 1, 2, 3, 4, 5, 6].map((i) => dataSlice(exit, 32 * i, 32 * i + 32));
      const at0x60 = concat([word(1), word(0x20), asset, word(0x60), word(0xbeef), ...allocations]);
      const [fast2, reference2] = await both(at0x60);
      expect(fast2).to.equal(outcomeHash(outcome)).and.to.equal(reference2);
      const shared = concat([word(2), word(0x40), word(0x40), exit]);
      const [fast3, reference3] = await both(shared);
      expect(fast3)
        .to.equal(outcomeHash([outcome[0], outcome[0]]))
        .and.to.equal(reference3);
    });

    it("a dirty asset, a truncated allocation: both revert", async () => {
      const canonical = tail(OUTCOME, outcome);
      const dirty = concat([dataSlice(canonical, 0, 64), word(2n ** 160n + 1n), dataSlice(canonical, 96)]);
      expect(await both(dirty)).to.deep.equal(["reverted", "reverted"]);
      expect(await both(dataSlice(canonical, 0, length(canonical) - 32))).to.deep.equal(["reverted", "reverted"]);
    });
  });

  it("challenge with the candidate's appData before its outcome: the same ChallengeRegistered and fingerprint", async () => {
    const c = await loadFixture(fundedFixture);
    const vp = { ...c.state(3n, 1n, 2n), appData: "0x1234" };
    const candidate = await c.byBoth(vp);
    const data = c.adjudicator.interface.encodeFunctionData("challenge", [
      c.fixedPart,
      [],
      candidate,
      "0x",
      { stateHash: `0x${"00".repeat(32)}`, outcomeHash: `0x${"00".repeat(32)}`, heldEth: 0n },
    ]);
    // Re-encode the candidate's variable part with the appData first: offsets (0xa0 for the outcome, 0x80 for
    // the appData) that no encoder writes.
    const args = dataSlice(data, 4);
    const candidateAt = Number(dataSlice(args, 64, 96));
    const vpAt = candidateAt + Number(dataSlice(args, candidateAt, candidateAt + 32));
    const outcomeEnc = tail(OUTCOME, vp.outcome);
    const appDataEnc = tail("bytes", vp.appData);
    const swapped = concat([
      word(0x80 + length(appDataEnc)),
      word(0x80),
      word(vp.turnNum),
      word(0),
      appDataEnc,
      outcomeEnc,
    ]);
    const canonicalVp = tail(VARIABLE_PART, vp);
    expect(length(swapped)).to.equal(length(canonicalVp));
    const body = concat([dataSlice(args, 0, vpAt), swapped, dataSlice(args, vpAt + length(canonicalVp))]);
    const tx = c.alice.sendTransaction({
      to: await c.adjudicator.getAddress(),
      data: concat([dataSlice(data, 0, 4), body]),
    });
    await expect(tx)
      .to.emit(c.adjudicator, "ChallengeRegistered")
      .withArgs(c.id, anyValue, ...sameVariablePart(vp), DEPOSIT);
    const [turnNumRecord, finalizesAt, fingerprint] = await c.adjudicator.statusOf(c.id);
    expect([turnNumRecord, fingerprint]).to.deep.equal([vp.turnNum, fingerprintOf(c.id, vp)]);
    const [event] = await c.adjudicator.queryFilter(c.adjudicator.filters.ChallengeRegistered(c.id));
    expect(event.args.finalizesAt).to.equal(finalizesAt);
  });

  describe("respond with the challenged state's head inside respond's head (offset 0x80)", () => {
    // Respond's head is (fixedPart, channelId, challenged, response, heldEth). With challenged at 0x80 its head is
    // heldEth (the outcome's offset), then the three words after respond's head (appData offset, turnNum, isFinal).
    // So the channel holds 0x80 wei, the offset that puts the outcome at 0x100, right after those words. The app
    // is handed the same bytes: it reads the same words as the challenged state.
    async function tinyChannel() {
      const f = await deployFixture();
      const { fixedPart, id } = f.channel();
      const held = 0x80n;
      await f.adjudicator.connect(f.alice).deposit(ZeroAddress, id, 0n, held, { value: held });
      const funding = ethState(f.alice.address, f.bob.address, 1n, held, 0n);
      await f.adjudicator
        .connect(f.alice)
        .challenge(fixedPart, [], await signed(fixedPart, id, funding, [f.alice, f.bob]), "0x", {
          stateHash: `0x${"00".repeat(32)}`,
          outcomeHash: `0x${"00".repeat(32)}`,
          heldEth: 0n,
        });
      return { f, fixedPart, id, funding, held };
    }
    function respondData(
      f: Awaited<ReturnType<typeof deployFixture>>,
      fixedPart: unknown,
      id: string,
      challenged: VariablePart,
      response: unknown,
      held: bigint,
    ) {
      const outcomeEnc = tail(OUTCOME, challenged.outcome);
      const appDataEnc = tail("bytes", challenged.appData);
      const outcomeAt = 0x100;
      const appDataAt = outcomeAt + length(outcomeEnc);
      const fixedAt = appDataAt + length(appDataEnc);
      const fixedEnc = tail(FIXED_PART, fixedPart);
      const responseAt = fixedAt + length(fixedEnc);
      expect(outcomeAt - 0x80).to.equal(Number(held));
      return concat([
        f.adjudicator.interface.getFunction("respond").selector,
        word(fixedAt),
        id,
        word(0x80),
        word(responseAt),
        word(held),
        word(appDataAt - 0x80),
        word(challenged.turnNum),
        word(0),
        outcomeEnc,
        appDataEnc,
        fixedEnc,
        tail(SIGNED, response),
      ]);
    }

    it("a valid voucher response: accepted and registered, as with the canonical encoding", async () => {
      const { f, fixedPart, id, funding, held } = await tinyChannel();
      const response = await voucherState(f.alice, id, funding, 2n, 0x30n);
      const [, finalizesAt] = await f.adjudicator.statusOf(id);
      const tx = f.bob.sendTransaction({
        to: await f.adjudicator.getAddress(),
        data: respondData(f, fixedPart, id, funding, sentByParticipant(response, BOB), held),
      });
      await expect(tx)
        .to.emit(f.adjudicator, "ChallengeRegistered")
        .withArgs(id, finalizesAt, ...sameVariablePart(response), held);
      expect(await f.adjudicator.statusOf(id)).to.deep.equal([2n, finalizesAt, fingerprintOf(id, response, held)]);
    });

    it("a voucher signed by the payee instead of the payer: the app's InvalidVoucherSignature, nothing registered", async () => {
      const { f, fixedPart, id, funding, held } = await tinyChannel();
      const response = await voucherState(f.bob, id, funding, 2n, 0x30n);
      const before = await f.adjudicator.statusOf(id);
      await expect(
        f.bob.sendTransaction({
          to: await f.adjudicator.getAddress(),
          data: respondData(f, fixedPart, id, funding, sentByParticipant(response, BOB), held),
        }),
      )
        .to.be.revertedWithCustomError(f.app, "InvalidVoucherSignature")
        .withArgs(f.bob.address);
      expect(await f.adjudicator.statusOf(id)).to.deep.equal(before);
    });
  });
});
