// Adversarial review of the outcome-hash and event shortcuts (B, C): differential fuzzing through the adjudicator.
// A one-participant channel lets its participant register any state by sending the challenge (an empty signature,
// no app), so every mutation of the call data that Solidity accepts registers something. For each accepted call:
// the values ChallengeRegistered carries must hash to the fingerprint the adjudicator stored (the state hash and
// the outcome hash of what it registered), and the event's data must be the canonical encoding of those values
// (a watcher decoding it with any ABI decoder reads the same state).
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, hexlify, toBeHex, zeroPadValue } from "ethers";
import { fingerprint, outcomeHash, stateHash, type VariablePart } from "../../../sdk/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixtures.js";

const { loadFixture } = networkHelpers;
const coder = AbiCoder.defaultAbiCoder();
const word = (n: bigint) => zeroPadValue(toBeHex(BigInt.asUintN(256, n)), 32);
const ZERO32 = `0x${"00".repeat(32)}`;
const EVENT_TYPES = [
  "uint48",
  "uint48",
  "tuple(address asset, tuple(bytes32 destination, uint256 amount)[] allocations)[]",
  "bytes",
  "uint256",
];

/** xorshift64*: deterministic, so a failure reproduces from its iteration number. */
function rng(seed: bigint) {
  let s = seed || 1n;
  return (bound: number): number => {
    s ^= (s << 13n) & 0xffffffffffffffffn;
    s ^= s >> 7n;
    s ^= (s << 17n) & 0xffffffffffffffffn;
    return Number(s % BigInt(bound));
  };
}

function randomState(r: (n: number) => number): VariablePart {
  const bytes = (n: number) => hexlify(Uint8Array.from({ length: n }, () => r(256)));
  return {
    outcome: Array.from({ length: r(4) }, () => ({
      asset: bytes(20),
      allocations: Array.from({ length: r(4) }, () => ({
        destination: bytes(32),
        amount: BigInt(bytes(r(2) === 0 ? 32 : 2)),
      })),
    })),
    appData: bytes([0, 1, 31, 32, 33, 64, 97][r(7)]),
    turnNum: BigInt(r(1000)),
    isFinal: false,
  };
}

describe("ChallengeRegistered and the outcome hash under mutated call data (shortcuts B, C)", () => {
  it("every accepted challenge emits the values it fingerprinted, canonically encoded", async function () {
    this.timeout(600_000);
    const f = await loadFixture(deployFixture);
    const to = await f.adjudicator.getAddress();
    const topic = f.adjudicator.interface.getEvent("ChallengeRegistered").topicHash;
    const iterations = Number(process.env.FUZZ_RUNS ?? 400);
    let accepted = 0;
    let mutatedAccepted = 0;
    for (let it = 0; it < iterations; it++) {
      const r = rng(BigInt(it) * 0x9e3779b97f4a7c15n + 1n);
      const { fixedPart } = f.channel({ participants: [f.alice.address] });
      const vp = randomState(r);
      const data = f.adjudicator.interface.encodeFunctionData("challenge", [
        fixedPart,
        [],
        { variablePart: vp, signedBy: 1n, sigs: ["0x"] },
        "0x",
        { stateHash: ZERO32, outcomeHash: ZERO32, heldEth: 0n },
      ]);
      // Mutate words at or after the candidate (the fixed part would only change the channel).
      const args = dataSlice(data, 4);
      const candidateAt = Number(BigInt(dataSlice(args, 64, 96)));
      let words: string[] = [];
      for (let i = 0; i < (args.length - 2) / 64; i++) words.push(dataSlice(args, 32 * i, 32 * i + 32));
      const mutations = r(4);
      for (let m = 0; m < mutations; m++) {
        const at = candidateAt / 32 + r(words.length - candidateAt / 32);
        const old = BigInt(words[at]);
        const kind = r(7);
        const value =
          kind === 0
            ? BigInt(r(0x400)) // a small offset or length
            : kind === 1
              ? old + BigInt(32 * (r(9) - 4)) // a neighbouring offset
              : kind === 2
                ? old | (1n << BigInt(48 + r(208))) // dirty high bits (addresses, uint48, bool, lengths)
                : kind === 3
                  ? -BigInt(32 * (1 + r(40))) // a negative offset
                  : kind === 4
                    ? old + BigInt(r(64)) // an unaligned offset / a longer length
                    : kind === 5
                      ? old - BigInt(1 + r(40)) // a shorter length / an unaligned offset
                      : BigInt(words[r(words.length)]); // another word of the call data
        words[at] = word(value);
      }
      const tailKind = r(4);
      if (tailKind === 1) words = words.slice(0, words.length - 1 - r(3)); // truncated
      if (tailKind === 2) words.push(word(BigInt(r(2 ** 30)))); // trailing garbage
      let body = concat(words);
      if (tailKind === 3) body = dataSlice(body, 0, (body.length - 2) / 2 - 1 - r(31)); // cut mid-word
      const calldata = concat([dataSlice(data, 0, 4), body]);
      let receipt: Awaited<ReturnType<Awaited<ReturnType<typeof f.alice.sendTransaction>>["wait"]>>;
      try {
        receipt = await (await f.alice.sendTransaction({ to, data: calldata, gasLimit: 3_000_000n })).wait();
      } catch {
        continue;
      }
      accepted++;
      if (mutations > 0 || tailKind !== 0) mutatedAccepted++;
      const log = receipt?.logs.find((l) => l.topics[0] === topic);
      expect(log, `iteration ${it}: no ChallengeRegistered`).to.not.equal(undefined);
      if (log === undefined) continue;
      const id = log.topics[1];
      const [finalizesAt, turnNum, outcome, appData, heldEth] = coder.decode(EVENT_TYPES, log.data);
      const registered: VariablePart = {
        outcome: outcome.map((e: { asset: string; allocations: { destination: string; amount: bigint }[] }) => ({
          asset: e.asset,
          allocations: e.allocations.map((a) => ({ destination: a.destination, amount: a.amount })),
        })),
        appData,
        turnNum,
        isFinal: false,
      };
      const [turnNumRecord, onChainFinalizesAt, fp] = await f.adjudicator.statusOf(id);
      const where = `iteration ${it} (call data ${calldata})`;
      expect(fp, `${where}: event state vs fingerprint`).to.equal(
        fingerprint(stateHash(id, registered), outcomeHash(registered.outcome), heldEth),
      );
      expect([turnNumRecord, onChainFinalizesAt], where).to.deep.equal([turnNum, finalizesAt]);
      expect(log.data, `${where}: the event's data is canonical`).to.equal(
        coder.encode(EVENT_TYPES, [finalizesAt, turnNum, outcome, appData, heldEth]),
      );
    }
    console.log(`      ${accepted}/${iterations} accepted, ${mutatedAccepted} of them mutated`);
    expect(mutatedAccepted).to.be.greaterThan(0);
  });

  it("garbage in the appData's padding: accepted, the event pads with zeros and hashes the appData alone", async () => {
    const f = await loadFixture(deployFixture);
    const { fixedPart, id } = f.channel({ participants: [f.alice.address] });
    const vp: VariablePart = { outcome: [], appData: "0x1234", turnNum: 5n, isFinal: false };
    const data = f.adjudicator.interface.encodeFunctionData("challenge", [
      fixedPart,
      [],
      { variablePart: vp, signedBy: 1n, sigs: ["0x"] },
      "0x",
      { stateHash: ZERO32, outcomeHash: ZERO32, heldEth: 0n },
    ]);
    // The appData's only data word is the one holding 0x1234; dirty its padding.
    const at = data.indexOf(`1234${"00".repeat(30)}`);
    expect(at).to.be.greaterThan(0);
    const dirty = `${data.slice(0, at)}1234${"ee".repeat(30)}${data.slice(at + 64)}`;
    const receipt = await (await f.alice.sendTransaction({ to: await f.adjudicator.getAddress(), data: dirty })).wait();
    const log = receipt?.logs.find((l) => l.topics[1] === id);
    if (log === undefined) throw new Error("no ChallengeRegistered");
    const [finalizesAt] = coder.decode(EVENT_TYPES, log.data);
    expect(log.data).to.equal(coder.encode(EVENT_TYPES, [finalizesAt, 5n, [], "0x1234", 0n]));
    const [, , fp] = await f.adjudicator.statusOf(id);
    expect(fp).to.equal(fingerprint(stateHash(id, vp), outcomeHash([]), 0n));
  });
});
