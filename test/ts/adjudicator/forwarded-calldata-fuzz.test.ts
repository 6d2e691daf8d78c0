// Differential fuzzing of respond's app call (it hands the app respond's call data after the selector unchanged).
// A one-participant channel whose app (EchoApp) accepts any transition lets its participant register any response
// it sends, so every mutation of respond's call data that Solidity accepts registers something. The offsets are
// mutated towards the places where the two decoders could part: respond's head (which the app reads as its own
// head), the selector's bytes (the only bytes that differ), below the call data (a struct whose later fields land on
// the selector and the head), other structs, unaligned places. Half of the runs start from call data whose
// response's variable part already is the head word heldEth and the three words after the head. For each call:
// what the app decoded comes back from an eth_call with the app in echo mode (it reverts with its four arguments);
// when the call itself succeeds, the event and the fingerprint must be that very `to`, the fingerprint before it
// that very `from`, and the app's channel id and fixed part the channel's. FUZZ_RUNS sets the iterations (300).
import { expect } from "chai";
import { concat, dataSlice, hexlify, ZeroAddress } from "ethers";
import type { VariablePart } from "../../../sdk/index.js";
import { EchoApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixtures.js";
import { appView, expectRegisteredWhatAppSaw, length, NONE, responseInHead, word } from "./forwarding.js";

const { loadFixture } = networkHelpers;

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

function randomState(r: (n: number) => number, turnNum: bigint): VariablePart {
  const bytes = (n: number) => hexlify(Uint8Array.from({ length: n }, () => r(256)));
  return {
    outcome: Array.from({ length: r(3) }, () => ({
      asset: bytes(20),
      allocations: Array.from({ length: r(3) }, () => ({
        destination: bytes(32),
        amount: BigInt(bytes(r(2) === 0 ? 32 : 2)),
      })),
    })),
    appData: bytes([0, 1, 32, 33, 97][r(5)]),
    turnNum,
    isFinal: false,
  };
}

/**
 * The offset words of respond's arguments `args` (selector excluded) as Solidity follows them, each with the base
 * it is relative to, and the places where structs and arrays start. Follows negative offsets; stops where a read
 * leaves the call data.
 */
function offsetWords(args: string): { ptrs: { at: number; base: number }[]; starts: number[] } {
  const size = length(args);
  const ptrs: { at: number; base: number }[] = [];
  const starts: number[] = [];
  const read = (p: number) => {
    if (p < 0 || p + 32 > size) throw new Error("outside");
    return Number(BigInt.asIntN(64, BigInt(dataSlice(args, p, p + 32))));
  };
  const follow = (at: number, base: number) => {
    ptrs.push({ at, base });
    const to = base + read(at);
    starts.push(to);
    return to;
  };
  const variablePart = (v: number) => {
    const outcome = follow(v, v);
    follow(v + 0x20, v);
    const n = Math.min(read(outcome), 8);
    for (let i = 0; i < n; i++) {
      const exit = follow(outcome + 0x20 + 0x20 * i, outcome + 0x20);
      follow(exit + 0x20, exit);
    }
  };
  try {
    const fixedPart = follow(0, 0);
    const challenged = follow(0x40, 0);
    const response = follow(0x60, 0);
    follow(fixedPart, fixedPart);
    variablePart(challenged);
    const sigs = follow(response + 0x40, response);
    variablePart(follow(response, response));
    const m = Math.min(read(sigs), 8);
    for (let j = 0; j < m; j++) follow(sigs + 0x20 + 0x20 * j, sigs + 0x20);
  } catch {
    // A layout that leaves the call data: the offsets found so far.
  }
  return { ptrs, starts };
}

describe("respond's app call under mutated call data: registered is what the app decoded", () => {
  it("every accepted respond registers the `to` the app was handed, from the `from` it was handed", async function () {
    this.timeout(1_200_000);
    const f = await loadFixture(deployFixture);
    const echo = await (await new EchoApp__factory(f.deployer).deploy()).getAddress();
    const to = await f.adjudicator.getAddress();
    const selector = f.adjudicator.interface.getFunction("respond").selector;
    const iterations = Number(process.env.FUZZ_RUNS ?? 300);
    let accepted = 0;
    let mutatedAccepted = 0;
    let headAccepted = 0;
    let appReached = 0;
    for (let it = 0; it < iterations; it++) {
      const r = rng(BigInt(it) * 0x9e3779b97f4a7c15n + 7n);
      const { fixedPart, id } = f.channel({
        participants: [f.alice.address],
        appDefinition: echo,
        channelNonce: BigInt(it + 1),
      });
      const challenged = randomState(r, BigInt(r(1000)));
      const next = randomState(r, challenged.turnNum + 1n);
      const inHead = r(2) === 0;
      let held = [0n, BigInt(0x20 * r(64)), BigInt(r(2 ** 20))][r(3)];
      let body: string;
      if (inHead) {
        const laid = responseInHead({
          fixedPart,
          id,
          challenged,
          outcome: r(4) === 0 ? undefined : next.outcome,
          appData: next.appData,
          turnNum: next.turnNum,
          signedBy: 1n,
          held: 0n,
          decoy: r(2) === 0 ? randomState(r, 0n).outcome : undefined,
        });
        body = laid.body;
        held = laid.held;
      } else {
        body = dataSlice(
          f.adjudicator.interface.encodeFunctionData("respond", [
            fixedPart,
            id,
            challenged,
            { variablePart: next, signedBy: 1n, sigs: ["0x"] },
            held,
          ]),
          4,
        );
      }
      if (held > 0n) await f.adjudicator.connect(f.alice).deposit(ZeroAddress, id, 0n, held, { value: held });
      await f.adjudicator
        .connect(f.alice)
        .challenge(fixedPart, [], { variablePart: challenged, signedBy: 1n, sigs: ["0x"] }, "0x", NONE);

      // Mutations: offsets aimed at the head, the selector, below the call data, other structs; or any word.
      let words: string[] = [];
      for (let i = 0; i < length(body) / 32; i++) words.push(dataSlice(body, 32 * i, 32 * i + 32));
      const mutations = inHead ? r(3) : 1 + r(3);
      let intoHead = inHead;
      for (let m = 0; m < mutations; m++) {
        const { ptrs, starts } = offsetWords(concat(words));
        if (r(5) < 3 && ptrs.length > 0) {
          const { at, base } = ptrs[r(ptrs.length)];
          if (at % 32 !== 0 || at < 0 || at >= words.length * 32) continue;
          const kind = r(8);
          const target =
            kind === 0
              ? 0x20 * r(5) // a head word
              : kind === 1
                ? -4 + r(4) // a word starting inside the selector
                : kind === 2
                  ? -4 - 0x20 * (1 + r(3)) + r(4) // below the call data: later fields on the selector and head
                  : kind === 3
                    ? (starts[r(starts.length)] ?? 0) + 0x20 * (r(5) - 2) // near another struct
                    : kind === 4
                      ? r(words.length * 32) // anywhere
                      : kind === 5
                        ? 0xa0 + 0x20 * r(4) // the words after the head
                        : kind === 6
                          ? base + Number(BigInt.asIntN(64, BigInt(words[at / 32]))) + r(64) // unaligned
                          : 0x80; // heldEth
          if (target < 0xa0) intoHead = true;
          words[at / 32] = word(BigInt(target - base));
        } else {
          const at = r(words.length);
          const old = BigInt(words[at]);
          const kind = r(5);
          words[at] = word(
            kind === 0
              ? BigInt(r(0x400))
              : kind === 1
                ? old + BigInt(32 * (r(9) - 4))
                : kind === 2
                  ? old | (1n << BigInt(48 + r(208)))
                  : kind === 3
                    ? -BigInt(32 * (1 + r(40)))
                    : BigInt(words[r(words.length)]),
          );
        }
      }
      const tailKind = r(6);
      if (tailKind === 1) words = words.slice(0, words.length - 1 - r(3)); // truncated
      if (tailKind === 2) words.push(word(BigInt(r(2 ** 30)))); // trailing garbage
      const data = concat([selector, ...words]);

      const [, , before] = await f.adjudicator.statusOf(id);
      const view = await appView(f, echo, f.alice, data);
      if (view !== undefined) appReached++;
      let receipt: Awaited<ReturnType<Awaited<ReturnType<typeof f.alice.sendTransaction>>["wait"]>>;
      try {
        receipt = await (await f.alice.sendTransaction({ to, data, gasLimit: 3_000_000n })).wait();
      } catch {
        const [, , after] = await f.adjudicator.statusOf(id);
        expect(after, `iteration ${it}: a reverted respond changed the status`).to.equal(before);
        continue;
      }
      if (receipt === null) throw new Error("no receipt");
      accepted++;
      if (mutations > 0 || tailKind === 1 || tailKind === 2) mutatedAccepted++;
      if (intoHead) headAccepted++;
      await expectRegisteredWhatAppSaw(f, id, view, before, receipt, `iteration ${it} (call data ${data})`);
    }
    console.log(
      `      ${accepted}/${iterations} accepted (${mutatedAccepted} mutated, ${headAccepted} with a struct in the ` +
        `head or below the call data); the app reached in ${appReached}`,
    );
    expect(mutatedAccepted).to.be.greaterThan(0);
    expect(headAccepted).to.be.greaterThan(0);
  });
});
