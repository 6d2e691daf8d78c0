// Adversarial review of respond's app call (d7c70b0): the two sides decode the same bytes except the four selector
// bytes (respond 0x48ec1648, requireValidTransition 0x8ccebb1f). These tests aim every kind of read Solidity's
// calldata decoder can make at a word starting at call data position 0 to 3, through negative nested offsets and
// pointers wrapped below zero, and check that no such read yields two different values that both sides accept.
//
// What can land on positions 0 to 3 (a word there is selector bytes p..3 then the first head word, which the
// top-level decoder keeps below 2^64):
//  - an array element, an Allocation's destination or amount, bytes contents: never. They start 32 bytes after a
//    length word, and a length word at a wrapped (huge) position reads 0 (calldataload does not wrap).
//  - a length word: at least 2^224 > 2^64, both sides revert.
//  - an address, uint48, bool: dirty, both sides revert.
//  - an offset (an exit's allocations, a variable part's outcome or appData): its value is >= 2^224 on both
//    sides; the struct it belongs to starts at p - 32 * field, so the pointer is value + p - 32 * field, far past
//    the call data, where both sides read zeros: the same empty array or bytes. Only the signed bound checks can
//    part: they pass when the word's top bit is set. Position 1 has it set on both sides (0xec, 0xce): both decode
//    the same empty array. Positions 0 and 2 only for the app (0x8c, 0xbb vs 0x48, 0x16): respond reverts where
//    the app would accept. Position 3 on neither: both revert. A revert on either side reverts respond.
import { expect } from "chai";
import { concat, dataSlice, toBeHex, ZeroAddress, zeroPadValue } from "ethers";
import { toDestination, type VariablePart } from "../../../sdk/index.js";
import { EchoApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, ethers, networkHelpers } from "../helpers/fixtures.js";
import {
  type AppView,
  coder,
  expectRegisteredWhatAppSaw,
  FIXED_PART,
  NONE,
  plainVariablePart,
  SIGNED,
  VARIABLE_PART,
} from "./forwarding.js";

const { loadFixture } = networkHelpers;
const U256 = 1n << 256n;
const w = (n: bigint) => zeroPadValue(toBeHex(BigInt.asUintN(256, n)), 32);

/** The call data as 32-byte-addressable bytes (absolute positions, selector included). */
class CallData {
  bytes: Uint8Array;
  constructor(hex: string) {
    this.bytes = ethers.getBytes(hex);
  }
  read(at: bigint): bigint {
    if (at < 0n || at + 32n > BigInt(this.bytes.length)) throw new Error(`read outside the call data at ${at}`);
    return BigInt(ethers.hexlify(this.bytes.slice(Number(at), Number(at) + 32)));
  }
  write(at: bigint, value: bigint) {
    this.bytes.set(ethers.getBytes(w(value)), Number(at));
  }
  /** Follows the offset word at `at`, relative to `base` (absolute positions). */
  follow(at: bigint, base: bigint): bigint {
    return base + this.read(at);
  }
  hex(selector?: string): string {
    const h = ethers.hexlify(this.bytes);
    return selector === undefined ? h : concat([selector, dataSlice(h, 4)]);
  }
}

async function setup() {
  const f = await deployFixture();
  const echoApp = await new EchoApp__factory(f.deployer).deploy();
  const echo = await echoApp.getAddress();
  return { f, echoApp, echo };
}

describe("respond's app call: reads on the selector bytes (adversarial review of d7c70b0)", () => {
  let nonce = 1000n;

  /**
   * A fresh one-participant channel (alice, app: EchoApp) challenged with a turn-5 state; respond's canonical call
   * data for a turn-6 response, the positions of its parts, and helpers to run a mutated call on both sides.
   */
  async function scene() {
    const { f, echoApp, echo } = await loadFixture(setup);
    nonce += 1n;
    const { fixedPart, id } = f.channel({ participants: [f.alice.address], appDefinition: echo, channelNonce: nonce });
    const challenged: VariablePart = {
      outcome: [{ asset: ZeroAddress, allocations: [{ destination: toDestination(f.alice.address), amount: 0n }] }],
      appData: "0x",
      turnNum: 5n,
      isFinal: false,
    };
    await f.adjudicator
      .connect(f.alice)
      .challenge(fixedPart, [], { variablePart: challenged, signedBy: 1n, sigs: ["0x"] }, "0x", NONE);
    const next: VariablePart = {
      outcome: [
        {
          asset: ZeroAddress,
          allocations: [{ destination: toDestination(f.alice.address), amount: 123n }],
        },
      ],
      appData: "0x1234",
      turnNum: 6n,
      isFinal: false,
    };
    const data = new CallData(
      f.adjudicator.interface.encodeFunctionData("respond", [
        fixedPart,
        id,
        challenged,
        { variablePart: next, signedBy: 1n, sigs: ["0x"] },
        0n,
      ]),
    );
    const head = 4n;
    const response = data.follow(head + 0x60n, head);
    const vp = data.follow(response, response);
    const outcome = data.follow(vp, vp); // the length word
    const exits = outcome + 0x20n; // the exits' offsets, and their base
    const exit0 = data.follow(exits, exits);
    const appData = data.follow(vp + 0x20n, vp);
    const sigs = data.follow(response + 0x40n, response);
    const respondSelector = f.adjudicator.interface.getFunction("respond").selector;
    const appSelector = echoApp.interface.getFunction("requireValidTransition").selector;

    /** What the app decodes from these bytes behind its own selector (as respond forwards them), or "revert". */
    async function appDecodes(cd: CallData): Promise<AppView | "revert"> {
      await (await echoApp.setEcho(true)).wait();
      let revertData: string | undefined;
      try {
        await ethers.provider.call({ to: echo, data: cd.hex(appSelector) });
      } catch (e) {
        const err = e as { data?: string; info?: { error?: { data?: string } } };
        revertData = err.data ?? err.info?.error?.data;
      } finally {
        await (await echoApp.setEcho(false)).wait();
      }
      if (revertData === undefined || revertData === "0x") return "revert";
      const parsed = echoApp.interface.parseError(revertData);
      if (parsed?.name !== "Seen") return "revert";
      const [fp, cid, from, to] = coder.decode([FIXED_PART, "bytes32", VARIABLE_PART, SIGNED], parsed.args[0]);
      return {
        fixedPart: fp,
        channelId: cid,
        from: plainVariablePart(from),
        to: plainVariablePart(to.variablePart),
      };
    }

    /** Sends respond with `cd`; on success checks that what it registered is what the app decodes. */
    async function respondWith(cd: CallData, where: string): Promise<"ok" | "revert"> {
      const [, , before] = await f.adjudicator.statusOf(id);
      const view = await appDecodes(cd);
      let receipt: Awaited<ReturnType<Awaited<ReturnType<typeof f.alice.sendTransaction>>["wait"]>>;
      try {
        receipt = await (
          await f.alice.sendTransaction({
            to: await f.adjudicator.getAddress(),
            data: cd.hex(respondSelector),
            gasLimit: 3_000_000n,
          })
        ).wait();
      } catch {
        const [, , after] = await f.adjudicator.statusOf(id);
        expect(after, `${where}: a reverted respond changed the status`).to.equal(before);
        return "revert";
      }
      if (receipt === null) throw new Error("no receipt");
      expect(view, `${where}: respond succeeded on bytes the app rejects`).to.not.equal("revert");
      await expectRegisteredWhatAppSaw(f, id, view === "revert" ? undefined : view, before, receipt, where);
      return "ok";
    }

    return { f, id, data, response, vp, outcome, exits, exit0, appData, sigs, appDecodes, respondWith };
  }

  it("the canonical call data registers what the app decodes (the scene works)", async () => {
    const s = await scene();
    expect(await s.respondWith(s.data, "canonical")).to.equal("ok");
  });

  it("selector bytes: position 1 has its top bit set on both sides, 0 and 2 only on the app's, 3 on neither", async () => {
    const s = await scene();
    const respond = ethers.getBytes(s.f.adjudicator.interface.getFunction("respond").selector);
    const app = ethers.getBytes(s.f.app.interface.getFunction("requireValidTransition").selector);
    expect([...respond].map((b) => b >= 0x80)).to.deep.equal([false, true, false, false]);
    expect([...app].map((b) => b >= 0x80)).to.deep.equal([true, true, true, false]);
  });

  for (const p of [0n, 1n, 2n, 3n]) {
    it(`an exit below the call data whose allocations offset is the word at position ${p}`, async () => {
      const s = await scene();
      // The exit starts at p - 32 (wrapped): asset reads 0 (past the call data), allocations' offset reads the
      // word at p, relative to the exit.
      s.data.write(s.exits, BigInt.asUintN(256, p - 32n - s.exits));
      const app = await s.appDecodes(s.data);
      const result = await s.respondWith(s.data, `allocations offset at ${p}`);
      if (p === 1n) {
        // Both accept, and both read the same empty allocations far past the call data.
        expect(result).to.equal("ok");
        expect(app === "revert" ? undefined : app.to.outcome).to.deep.equal([{ asset: ZeroAddress, allocations: [] }]);
      } else if (p === 3n) {
        expect(app).to.equal("revert");
        expect(result).to.equal("revert");
      } else {
        // The app would accept (empty allocations), respond reverts first: no registration.
        expect(app === "revert" ? undefined : app.to.outcome).to.deep.equal([{ asset: ZeroAddress, allocations: [] }]);
        expect(result).to.equal("revert");
      }
    });

    it(`an exit starting at position ${p}: its asset is dirty on both sides`, async () => {
      const s = await scene();
      s.data.write(s.exits, BigInt.asUintN(256, p - s.exits));
      expect(await s.appDecodes(s.data)).to.equal("revert");
      expect(await s.respondWith(s.data, `exit at ${p}`)).to.equal("revert");
    });

    for (const field of [0n, 1n, 2n, 3n]) {
      it(`the response's variable part at ${p} - 0x${(32n * field).toString(16)}: field ${field} on position ${p}`, async () => {
        const s = await scene();
        s.data.write(s.response, BigInt.asUintN(256, p - 32n * field - s.response));
        // turnNum or isFinal falls on the selector (dirty) or on the channel id (dirty): both revert.
        expect(await s.respondWith(s.data, `variable part field ${field} at ${p}`)).to.equal("revert");
      });
    }

    it(`the response's appData with its length word at position ${p}`, async () => {
      const s = await scene();
      s.data.write(s.vp + 0x20n, BigInt.asUintN(256, p - s.vp));
      expect(await s.appDecodes(s.data)).to.equal("revert");
      expect(await s.respondWith(s.data, `appData length at ${p}`)).to.equal("revert");
    });

    it(`the response's appData bytes starting at position ${p} (length word below the call data)`, async () => {
      const s = await scene();
      s.data.write(s.vp + 0x20n, BigInt.asUintN(256, p - 32n - s.vp));
      // The length word reads 0: empty bytes, or a revert; never contents on the selector.
      const app = await s.appDecodes(s.data);
      if (app !== "revert") expect(app.to.appData).to.equal("0x");
      const result = await s.respondWith(s.data, `appData contents at ${p}`);
      if (result === "ok") expect(app).to.not.equal("revert");
    });

    it(`the response's outcome with its length word at position ${p}, and its first exit offset at ${p}`, async () => {
      const s = await scene();
      const original = s.data.read(s.vp);
      s.data.write(s.vp, BigInt.asUintN(256, p - s.vp)); // length on the selector
      expect(await s.appDecodes(s.data)).to.equal("revert");
      expect(await s.respondWith(s.data, `outcome length at ${p}`)).to.equal("revert");
      s.data.write(s.vp, BigInt.asUintN(256, p - 32n - s.vp)); // first exit's offset on the selector: length 0
      const app = await s.appDecodes(s.data);
      if (app !== "revert") expect(app.to.outcome).to.deep.equal([]);
      await s.respondWith(s.data, `outcome data at ${p}`);
      s.data.write(s.vp, original);
    });

    it(`a signature whose length word is at position ${p}`, async () => {
      const s = await scene();
      const first = s.sigs + 0x20n;
      s.data.write(first, BigInt.asUintN(256, p - first));
      expect(await s.appDecodes(s.data)).to.equal("revert");
      expect(await s.respondWith(s.data, `signature length at ${p}`)).to.equal("revert");
    });
  }

  it("a first head word at or above 2^64 (so that words at positions 1 to 3 would carry its high bytes): both revert", async () => {
    const s = await scene();
    const fixed = s.data.read(4n);
    for (const bad of [fixed + (1n << 64n), fixed | (0xffn << 224n), fixed + U256 - (1n << 255n)]) {
      const cd = new CallData(s.data.hex());
      cd.write(4n, BigInt.asUintN(256, bad));
      expect(await s.appDecodes(cd)).to.equal("revert");
      expect(await s.respondWith(cd, `head word 0 = ${toBeHex(bad)}`)).to.equal("revert");
    }
  });

  for (const p of [0n, 1n, 2n, 3n]) {
    for (const k of [0n, 1n]) {
      it(`an Allocation's ${k === 0n ? "destination" : "amount"} aimed at position ${p}: its array's length word would be below 0 and reads 0`, async () => {
        const s = await scene();
        // Allocation 0's destination (k = 0) or amount (k = 1) at p needs the length word at p - 32 - 32k, wrapped.
        s.data.write(s.exit0 + 0x20n, BigInt.asUintN(256, p - 32n - 32n * k - s.exit0));
        const app = await s.appDecodes(s.data);
        if (app !== "revert") {
          for (const exit of app.to.outcome) expect(exit.allocations).to.deep.equal([]);
        }
        await s.respondWith(s.data, `allocation word ${k} at ${p}`);
      });
    }
  }
});
