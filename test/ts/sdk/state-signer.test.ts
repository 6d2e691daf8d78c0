// The fast state hash and state signature (sdk/state-signer.ts, which the Node entry point installs into stateHash,
// channelId and signState) against the references they replace: for random states, fastStateHash equals
// abiStateHash (ethers' ABI coder; the contract's hashState equals stateHash in parity.test.ts, so both paths are held
// to the chain), and fastSignState equals ethers' Wallet.signMessage on that hash byte for byte, with libsecp256k1
// and with @noble/curves, for random keys; inputs outside the encoder's plain cases get the ABI coder's answer or
// its error. And the signatures recover, under the SDK's own rules, to the wallet that made them.
import { expect } from "chai";
import { getBytes, type Signer, VoidSigner, Wallet, ZeroAddress } from "ethers";
import {
  abiChannelId as channelId,
  fastChannelId,
  fastSignState,
  fastStateHash,
  channelId as installedChannelId,
  stateHash as installedStateHash,
  recoverPersonalSigner,
  signState,
  abiStateHash as stateHash,
  useStateSignerBackend,
  type VariablePart,
} from "../../../sdk/node.js";
import { Random } from "../helpers/random.js";

const CASES = 400;

/** The same address in the spellings a state may carry: checksummed, lowercase, uppercase, or the zero address. */
function spell(random: Random, address: string): string {
  const pick = random.int(4);
  if (pick === 0) return address;
  if (pick === 1) return address.toLowerCase();
  if (pick === 2) return `0x${address.slice(2).toUpperCase()}`;
  return ZeroAddress;
}

function randomState(random: Random): VariablePart {
  const variablePart = random.variablePart();
  for (const exit of variablePart.outcome) exit.asset = spell(random, exit.asset);
  if (random.int(3) === 0) variablePart.appData = "0x";
  return variablePart;
}

/** What `work` returns, or the message of what it throws. */
function outcomeOf<T>(work: () => T): T | string {
  try {
    return work();
  } catch (error) {
    return `threw: ${(error as Error).message}`;
  }
}

describe("state-signer: fast state hashes and signatures", function () {
  it(`fastStateHash equals stateHash for ${CASES} random states`, function () {
    const random = new Random(16);
    for (let i = 0; i < CASES; i++) {
      const id = random.bytes(32);
      const variablePart = randomState(random);
      expect(fastStateHash(id, variablePart), `case ${i}`).to.equal(stateHash(id, variablePart));
    }
  });

  it(`fastChannelId equals channelId for ${CASES} random fixed parts, chains and adjudicators`, function () {
    const random = new Random(20);
    for (let i = 0; i < CASES; i++) {
      const fixedPart = random.fixedPart();
      fixedPart.participants = fixedPart.participants.map((p) => spell(random, p));
      const chainId = random.uint(random.bool() ? 64 : 256);
      const adjudicator = spell(random, random.address());
      expect(fastChannelId(chainId, adjudicator, fixedPart), `case ${i}`).to.equal(
        channelId(chainId, adjudicator, fixedPart),
      );
    }
    const fixedPart = random.fixedPart();
    const bad = { ...fixedPart, participants: [fixedPart.participants[0]?.toLowerCase().replace("0x", "0xA") ?? "0x"] };
    expect(outcomeOf(() => fastChannelId(1n, ZeroAddress, bad))).to.equal(
      outcomeOf(() => channelId(1n, ZeroAddress, bad)),
    );
    const nonce = { ...fixedPart, channelNonce: 1n << 64n };
    expect(outcomeOf(() => fastChannelId(1n, ZeroAddress, nonce))).to.match(/^threw/);
  });

  it("gives the ABI coder's answer, or its error, for what is not a plain state", function () {
    const random = new Random(17);
    const base = (): VariablePart => ({
      outcome: [
        { asset: ZeroAddress, allocations: [{ destination: random.bytes(32), amount: 5n }] },
        { asset: random.address(), allocations: [] },
      ],
      appData: "0x",
      turnNum: 7n,
      isFinal: false,
    });
    const id = random.bytes(32);
    const bent: [string, (vp: VariablePart) => unknown][] = [
      [
        "a wrong checksum",
        (vp) => (vp.outcome[1].asset = vp.outcome[1].asset.replace(/[a-f]/, (c) => c.toUpperCase())),
      ],
      ["an address too short", (vp) => (vp.outcome[0].asset = "0x1234")],
      ["a destination of 20 bytes", (vp) => (vp.outcome[0].allocations[0].destination = random.bytes(20))],
      ["a negative amount", (vp) => (vp.outcome[0].allocations[0].amount = -1n)],
      ["an amount of 2^256", (vp) => (vp.outcome[0].allocations[0].amount = 1n << 256n)],
      ["the largest amount", (vp) => (vp.outcome[0].allocations[0].amount = (1n << 256n) - 1n)],
      ["a turn number of 2^48", (vp) => (vp.turnNum = 1n << 48n)],
      ["the largest turn number", (vp) => (vp.turnNum = (1n << 48n) - 1n)],
      ["a turn number as a number", (vp) => (vp.turnNum = 3 as unknown as bigint)],
      ["odd-length appData", (vp) => (vp.appData = "0xabc")],
      ["appData not hex", (vp) => (vp.appData = "0xzz")],
    ];
    for (const [what, bend] of bent) {
      const vp = base();
      bend(vp);
      expect(
        outcomeOf(() => fastStateHash(id, vp)),
        what,
      ).to.equal(outcomeOf(() => stateHash(id, vp)));
    }
    expect(
      outcomeOf(() => fastStateHash(random.bytes(31), base())),
      "an id of 31 bytes",
    ).to.match(/^threw/);
  });

  for (const backend of ["native", "js"] as const) {
    it(`fastSignState (${backend}) signs exactly as signState for ${CASES / 4} random keys and states`, async function () {
      useStateSignerBackend(backend);
      try {
        const random = new Random(backend === "native" ? 18 : 19);
        for (let i = 0; i < CASES / 4; i++) {
          const wallet = new Wallet(random.bytes(32).replace(/^0x00/, "0x01"));
          const id = random.bytes(32);
          const variablePart = randomState(random);
          const signature = await fastSignState(wallet, id, variablePart);
          expect(signature, `case ${i}`).to.equal(await wallet.signMessage(getBytes(stateHash(id, variablePart))));
          expect(recoverPersonalSigner(stateHash(id, variablePart), signature)).to.equal(wallet.address);
        }
      } finally {
        useStateSignerBackend("native");
      }
    });
  }

  it("hands a signer that is not a wallet to signState", async function () {
    const asked: string[] = [];
    const signer = new VoidSigner(Wallet.createRandom().address) as Signer;
    signer.signMessage = async (message) => {
      asked.push(String(message));
      return "0xsigned";
    };
    const variablePart: VariablePart = { outcome: [], appData: "0x", turnNum: 1n, isFinal: false };
    const id = `0x${"ab".repeat(32)}`;
    expect(await fastSignState(signer, id, variablePart)).to.equal("0xsigned");
    expect(asked).to.have.length(1);
  });

  it("is what the Node entry point's stateHash, channelId and signState use: a wallet's signMessage is not called", async function () {
    const random = new Random(21);
    const wallet = new Wallet(random.bytes(32).replace(/^0x00/, "0x01"));
    const id = random.bytes(32);
    const variablePart = randomState(random);
    expect(installedStateHash(id, variablePart)).to.equal(stateHash(id, variablePart));
    const fixedPart = random.fixedPart();
    expect(installedChannelId(5n, ZeroAddress, fixedPart)).to.equal(channelId(5n, ZeroAddress, fixedPart));
    let asked = 0;
    wallet.signMessage = async () => {
      asked++;
      return "0x";
    };
    const signature = await signState(wallet, id, variablePart);
    expect(asked).to.equal(0);
    expect(recoverPersonalSigner(stateHash(id, variablePart), signature)).to.equal(wallet.address);
  });
});
