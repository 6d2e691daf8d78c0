// The SDK's mirror of VirtualVoucherApp (sdk/virtual-voucher.ts) must reach the contract's verdict, with the same
// custom error and arguments, on the same states: random voucher states on a base signed by all three, built to be
// valid and then mutated one way each, so that every rule and acceptance are reached. And the fee never drifts: over
// long runs of small vouchers the hub's allocation is the contract's fee on the cumulative amount, to the wei.
// The inputs come from the seeded generator the other parity tests use (fast-check is not a dependency): a failing
// case names its index, replayed from the seed.
import { expect } from "chai";
import { type Signer, Wallet, ZeroAddress } from "ethers";
import {
  checkVirtualVoucher,
  checkVirtualVoucherSupported,
  feeBpsOf,
  hubFee,
  maxVirtualVoucher,
  virtualChannelOutcome,
  virtualNonce,
  virtualVoucherState,
} from "../../../sdk/hub/index.js";
import {
  ContractRevertError,
  decodeContractError,
  encodeVoucher,
  type FixedPart,
  PiecepayError,
  type SignedVariablePart,
  signVoucher,
  toDestination,
  type VariablePart,
  VirtualVoucherError,
} from "../../../sdk/index.js";
import { VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";

const CASES = 600;
const MAX_UINT256 = 2n ** 256n - 1n;

async function appFixture() {
  const [deployer] = await ethers.getSigners();
  const app = await new VirtualVoucherApp__factory(deployer).deploy();
  return { app, appAddress: await app.getAddress() };
}

type Verdict = { ok: true } | { error: string; args: unknown[] };

/** The contract's verdict, its revert decoded as the SDK decodes it. */
async function onChain(call: Promise<unknown>): Promise<Verdict> {
  try {
    await call;
    return { ok: true };
  } catch (error) {
    const decoded = decodeContractError(error);
    if (!(decoded instanceof ContractRevertError)) throw error;
    return { error: decoded.errorName, args: [...decoded.args] };
  }
}

/** The SDK's verdict: accepted, or the VirtualVoucherError's name and arguments (with its code checked). */
function offChain(run: () => unknown): Verdict {
  try {
    run();
    return { ok: true };
  } catch (error) {
    if (!(error instanceof VirtualVoucherError)) throw error;
    const asContract = new ContractRevertError(error.errorName, error.args, undefined);
    expect(error.code, error.errorName).to.equal(asContract.code);
    return { error: error.errorName, args: [...error.args] };
  }
}

interface Case {
  what: string;
  fixedPart: FixedPart;
  /** The state the move starts from (the proof's, unless a mutation emptied the proof). */
  base: VariablePart;
  proof: SignedVariablePart[];
  candidate: SignedVariablePart;
}

/** A number of at most `bits` bits, not above `max`. */
function upTo(random: Random, bits: number, max: bigint): bigint {
  return max === 0n ? 0n : random.uint(bits) % (max + 1n);
}

/** The largest voucher whose amount plus fee fits in `x` (binary search on the SDK's fee). */
function largestVoucher(x: bigint, feeBps: bigint): bigint {
  let low = 0n;
  let high = x;
  while (low < high) {
    const mid = (low + high + 1n) / 2n;
    if (mid + hubFee(mid, feeBps) <= x) low = mid;
    else high = mid - 1n;
  }
  return low;
}

/** A valid voucher state on a base signed by all three (V0 or a later voucher), then one mutation. */
async function randomCase(random: Random, payer: Wallet, id: string, app: string): Promise<Case> {
  const feeBps = [0n, 1n, 9_999n, 10_000n][random.int(6)] ?? BigInt(random.int(10_001));
  const hub = random.address();
  const payee = random.address();
  const fixedPart: FixedPart = {
    participants: [payer.address, hub, payee],
    channelNonce: virtualNonce(feeBps, random.uint(48)),
    appDefinition: app,
    challengeDuration: 3600n,
  };
  const bits = [32, 64, 128, 255][random.int(4)];
  const x = random.uint(bits) + 1n;
  const limit = largestVoucher(x, feeBps);
  const previous = random.int(3) === 0 ? upTo(random, bits, limit) : 0n;
  const amount = previous + upTo(random, bits, limit - previous);
  const asset = random.bool() ? ZeroAddress : random.address();
  const v0: VariablePart = {
    outcome: virtualChannelOutcome(asset, payer.address, hub, payee, x),
    appData: "0x",
    turnNum: random.uint(20),
    isFinal: false,
  };
  const base =
    previous === 0n && random.bool()
      ? v0
      : virtualVoucherState(fixedPart, v0, await signVoucher(payer, id, previous), v0.turnNum + random.uint(4));
  const next = virtualVoucherState(
    fixedPart,
    base,
    await signVoucher(payer, id, amount),
    base.turnNum + 1n + random.uint(8),
  );
  const c: Case = {
    what: "valid",
    fixedPart,
    base,
    proof: [{ variablePart: base, signedBy: 7n, sigs: [] }],
    candidate: { variablePart: next, signedBy: [4n, 5n, 6n, 7n][random.int(4)], sigs: [] },
  };
  const allocation = (state: VariablePart, i: number) => state.outcome[0].allocations[i];
  const nudge = (state: VariablePart, i: number, by: bigint) => {
    const a = allocation(state, i);
    const moved = a.amount + by;
    if (moved >= 0n && moved <= MAX_UINT256) a.amount = moved;
  };
  const voucherFor = async (value: bigint, signer: Signer = payer) =>
    encodeVoucher(await signVoucher(signer, id, value));
  const mutations: [string, () => Promise<void> | void][] = [
    ["valid", () => {}],
    ["valid", () => {}],
    [
      "fee above 10,000",
      () => {
        fixedPart.channelNonce = (BigInt(10_001 + random.int(55_535)) << 48n) | 1n;
      },
    ],
    ["two participants", () => void fixedPart.participants.pop()],
    ["four participants", () => void fixedPart.participants.push(random.address())],
    ["no proof", () => void c.proof.pop()],
    ["two proof states", () => void c.proof.push(c.proof[0])],
    [
      "base not signed by all",
      () => {
        c.proof[0].signedBy = BigInt(random.int(7));
      },
    ],
    [
      "candidate not signed by the payee",
      () => {
        c.candidate.signedBy = BigInt(random.int(4));
      },
    ],
    [
      "turn not after the base",
      () => {
        next.turnNum = base.turnNum - (base.turnNum > 0n ? 1n : 0n);
      },
    ],
    [
      "final base",
      () => {
        base.isFinal = true;
      },
    ],
    [
      "final candidate",
      () => {
        next.isFinal = true;
      },
    ],
    [
      "malformed voucher",
      () => {
        next.appData = random.bytes(random.int(120));
      },
    ],
    [
      "malformed base voucher",
      () => {
        base.appData = random.bytes(1 + random.int(60));
      },
    ],
    [
      "amount decreased",
      async () => {
        if (previous > 0n) next.appData = await voucherFor(previous - 1n - upTo(random, bits, previous - 1n));
      },
    ],
    [
      "one wei above the largest voucher",
      async () => {
        next.appData = await voucherFor(limit + 1n);
      },
    ],
    [
      "far above the deposit",
      async () => {
        next.appData = await voucherFor(x + random.uint(bits));
      },
    ],
    [
      "voucher near 2^256",
      async () => {
        next.appData = await voucherFor(MAX_UINT256 - random.uint(8));
      },
    ],
    ["payee gets a wei more", () => nudge(next, 2, 1n)],
    ["hub gets a wei more", () => nudge(next, 1, 1n)],
    ["hub gets a wei less", () => nudge(next, 1, -1n)],
    ["payer keeps a wei more", () => nudge(next, 0, 1n)],
    [
      "hub cut out: its fee stays with the payer",
      () => {
        const fee = allocation(next, 1).amount - allocation(base, 1).amount;
        nudge(next, 0, fee);
        nudge(next, 1, -fee);
      },
    ],
    [
      "fee on the increase, not on the cumulative amount (rounding would drift)",
      () => {
        const fee = allocation(next, 1).amount - allocation(base, 1).amount;
        const naive = ((amount - previous) * feeBps) / 10_000n;
        nudge(next, 0, fee - naive);
        nudge(next, 1, naive - fee);
      },
    ],
    [
      "hub's allocation near 2^256",
      () => {
        allocation(next, 1).amount = MAX_UINT256 - random.uint(8);
      },
    ],
    [
      "other asset",
      () => {
        next.outcome[0].asset = random.address();
      },
    ],
    [
      "other hub destination",
      () => {
        allocation(next, 1).destination = toDestination(random.address());
      },
    ],
    ["two allocations", () => void next.outcome[0].allocations.pop()],
    ["four allocations", () => void next.outcome[0].allocations.push({ destination: random.bytes(32), amount: 0n })],
    ["two assets", () => void next.outcome.push({ ...next.outcome[0] })],
    [
      "signed by someone else",
      async () => {
        next.appData = await voucherFor(amount, Wallet.createRandom());
      },
    ],
    [
      "garbage signature",
      () => {
        next.appData = encodeVoucher({ amount, signature: random.bytes(65) });
      },
    ],
  ];
  const [what, mutate] = mutations[random.int(mutations.length)];
  c.what = what;
  await mutate();
  return c;
}

describe("SDK mirror of the virtual voucher app", function () {
  it(`checkVirtualVoucher and checkVirtualVoucherSupported give the contract's verdict, error and arguments on ${CASES} random states`, async function () {
    const { app, appAddress } = await networkHelpers.loadFixture(appFixture);
    const random = new Random(21);
    const payer = new Wallet(random.bytes(32));
    const id = random.bytes(32);
    const seen = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const c = await randomCase(random, payer, id, appAddress);
      const base = c.base;
      const label = `case ${i} (${c.what})`;
      const move = offChain(() => checkVirtualVoucher(c.fixedPart, id, base, c.candidate));
      const chainMove = await onChain(app.requireValidTransition(c.fixedPart, id, base, c.candidate));
      expect(move, `${label}, requireValidTransition`).to.deep.equal(chainMove);
      const supported = offChain(() => checkVirtualVoucherSupported(c.fixedPart, id, c.proof, c.candidate));
      const chainSupported = await onChain(app.requireStateSupported(c.fixedPart, id, c.proof, c.candidate));
      expect(supported, `${label}, requireStateSupported`).to.deep.equal(chainSupported);
      for (const verdict of [move, supported]) {
        const name = "ok" in verdict ? "accepted" : verdict.error;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      }
    }
    // Every rule of the app was reached, and so was acceptance.
    const errors = VirtualVoucherApp__factory.abi.filter((f) => f.type === "error").map((f) => f.name);
    expect([...seen.keys()].sort()).to.deep.equal(["accepted", ...errors].sort());
  });

  it("maxVirtualVoucher is the largest voucher whose amount and fee the channel holds, by the app's own fee", async function () {
    const { app } = await networkHelpers.loadFixture(appFixture);
    const random = new Random(23);
    for (let i = 0; i < 200; i++) {
      const x = random.int(8) === 0 ? BigInt(random.int(3)) : random.uint([16, 64, 128][random.int(3)]);
      const feeBps = random.int(5) === 0 ? BigInt(random.int(2) * 10_000) : BigInt(random.int(10_001));
      const a = maxVirtualVoucher(x, feeBps);
      // What the payer's allocation must cover for a voucher of `a`, and of `a + 1`, by the app's arithmetic.
      expect(a + (await app.fee(a, feeBps)), `a voucher of ${a} fits ${x} at ${feeBps} bps`).to.be.at.most(x);
      expect(a + 1n + (await app.fee(a + 1n, feeBps)), `one more does not fit ${x}`).to.be.greaterThan(x);
    }
  });

  it("hubFee, feeBpsOf and virtualNonce agree with the app's fee and feeBpsOf, and refuse what is out of range", async function () {
    const { app } = await networkHelpers.loadFixture(appFixture);
    const random = new Random(22);
    for (let i = 0; i < 300; i++) {
      const amount = random.uint([16, 64, 128, 256][random.int(4)]);
      const feeBps = random.int(4) === 0 ? BigInt(random.int(2) * 10_000) : BigInt(random.int(10_001));
      expect(hubFee(amount, feeBps), `fee(${amount}, ${feeBps})`).to.equal(await app.fee(amount, feeBps));
      const nonce = random.uint(64);
      expect(feeBpsOf(nonce), `feeBpsOf(${nonce})`).to.equal(await app.feeBpsOf(nonce));
      const n = random.uint(48);
      expect(await app.feeBpsOf(virtualNonce(feeBps, n)), `virtualNonce(${feeBps}, ${n})`).to.equal(feeBps);
    }
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).to.be.instanceOf(PiecepayError);
        return (error as PiecepayError).code;
      }
      return "accepted";
    };
    expect(refused(() => hubFee(1n, 10_001n))).to.equal("INVALID_FEE");
    expect(refused(() => hubFee(1n, -1n))).to.equal("INVALID_FEE");
    expect(refused(() => hubFee(2n ** 256n, 1n))).to.equal("INVALID_ENCODING");
    expect(refused(() => virtualNonce(10_001n, 0n))).to.equal("INVALID_FEE");
    expect(refused(() => virtualNonce(1n, 2n ** 48n))).to.equal("INVALID_NONCE");
    expect(refused(() => virtualNonce(1n, -1n))).to.equal("INVALID_NONCE");
    expect(refused(() => feeBpsOf(2n ** 64n))).to.equal("INVALID_NONCE");
    expect(virtualNonce(10_000n, 2n ** 48n - 1n)).to.equal((10_000n << 48n) | (2n ** 48n - 1n));
  });

  it("the hub's allocation is the contract's fee on the cumulative amount after every one of many small vouchers: rounding never drifts", async function () {
    const { app, appAddress } = await networkHelpers.loadFixture(appFixture);
    const random = new Random(23);
    const payer = new Wallet(random.bytes(32));
    const id = random.bytes(32);
    let drifted = 0;
    for (const feeBps of [1n, 33n, 250n, 9_999n]) {
      const x = 1_000_000n;
      const fixedPart: FixedPart = {
        participants: [payer.address, random.address(), random.address()],
        channelNonce: virtualNonce(feeBps, 1n),
        appDefinition: appAddress,
        challengeDuration: 3600n,
      };
      let state: VariablePart = {
        outcome: virtualChannelOutcome(
          ZeroAddress,
          payer.address,
          fixedPart.participants[1],
          fixedPart.participants[2],
          x,
        ),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      };
      let amount = 0n;
      let naiveFees = 0n;
      for (let k = 0; k < 60; k++) {
        const step = BigInt(1 + random.int(150));
        amount += step;
        naiveFees += (step * feeBps) / 10_000n;
        const next = virtualVoucherState(fixedPart, state, await signVoucher(payer, id, amount));
        const candidate = { variablePart: next, signedBy: 4n, sigs: [] };
        // The contract accepts the move from the previous state (no state all three signed in between)...
        await app.requireValidTransition(fixedPart, id, state, candidate);
        const [payerGets, hubGets, payeeGets] = next.outcome[0].allocations.map((a) => a.amount);
        // ...and the hub holds exactly the contract's fee on the cumulative amount, the payer the rest.
        expect(hubGets, `fee ${feeBps}, voucher ${k}`).to.equal(await app.fee(amount, feeBps));
        expect([payeeGets, payerGets + hubGets + payeeGets]).to.deep.equal([amount, x]);
        state = next;
      }
      if (naiveFees !== (await app.fee(amount, feeBps))) drifted++;
    }
    // Fees taken voucher by voucher would have drifted from the fee on the total at these rates (so the check above
    // is not vacuous).
    expect(drifted).to.be.greaterThan(0);
  });
});
