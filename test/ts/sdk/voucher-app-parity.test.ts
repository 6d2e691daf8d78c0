// The SDK's mirror of the voucher app's rules (sdk/voucher-app.ts) must reach the same verdict as the contract, with
// the same custom error, on the same states: random voucher states built to be valid, then mutated one way each
// (a final base among them, ADR 0005), so that every rule and the accepting path are exercised.
import { expect } from "chai";
import { Wallet, ZeroAddress } from "ethers";
import {
  ContractRevertError,
  decodeContractError,
  encodeVoucher,
  type FixedPart,
  type SignedVariablePart,
  signVoucher,
  toDestination,
  type VariablePart,
  voucherMoveError,
  voucherStateSupportError,
} from "../../../sdk/index.js";
import { deployFixture, networkHelpers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";

const CASES = 600;

/** The custom error name a call reverted with (decoded as the SDK decodes it), or undefined when it succeeded. */
async function revertName(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    const decoded = decodeContractError(error);
    if (!(decoded instanceof ContractRevertError)) throw error;
    return decoded.errorName;
  }
}

interface Case {
  what: string;
  fixedPart: FixedPart;
  base: SignedVariablePart;
  candidate: SignedVariablePart;
}

/** A valid voucher state on top of a funding-like base, then one mutation chosen by `random`. */
async function randomCase(random: Random, payer: Wallet, payee: string, id: string, app: string): Promise<Case> {
  const deposit = random.uint(random.int(2) === 0 ? 64 : 128) + 1n;
  const previous = random.int(3) === 0 ? random.uint(32) % deposit : 0n;
  const amount = previous + (random.uint(64) % (deposit - previous + 1n));
  const fixedPart: FixedPart = {
    participants: [payer.address, payee],
    channelNonce: 1n,
    appDefinition: app,
    challengeDuration: 3600n,
  };
  const asset = random.bool() ? ZeroAddress : random.address();
  const outcome = (payerAmount: bigint, payeeAmount: bigint) => [
    {
      asset,
      allocations: [
        { destination: toDestination(payer.address), amount: payerAmount },
        { destination: toDestination(payee), amount: payeeAmount },
      ],
    },
  ];
  const baseTurn = random.uint(20);
  const baseData = previous === 0n ? "0x" : encodeVoucher(await signVoucher(payer, id, previous));
  const base: VariablePart = {
    outcome: outcome(deposit - previous, previous),
    appData: baseData,
    turnNum: baseTurn,
    isFinal: false,
  };
  const next: VariablePart = {
    outcome: outcome(deposit - amount, amount),
    appData: encodeVoucher(await signVoucher(payer, id, amount)),
    turnNum: baseTurn + 1n + random.uint(8),
    isFinal: false,
  };
  const c: Case = {
    what: "valid",
    fixedPart,
    base: { variablePart: base, signedBy: 3n, sigs: [] },
    candidate: { variablePart: next, signedBy: 2n, sigs: [] },
  };
  const mutations: [string, () => Promise<void> | void][] = [
    ["valid", () => {}],
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
    ["three participants", () => void fixedPart.participants.push(random.address())],
    [
      "base signed by one",
      () => {
        c.base.signedBy = random.bool() ? 1n : 2n;
      },
    ],
    [
      "candidate signed by the payer only",
      () => {
        c.candidate.signedBy = 1n;
      },
    ],
    [
      "candidate turn not after the base",
      () => {
        next.turnNum = baseTurn - (random.bool() || baseTurn === 0n ? 0n : 1n);
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
        next.appData = encodeVoucher(await signVoucher(payer, id, previous - 1n));
      },
    ],
    [
      "more than the deposit",
      async () => {
        next.appData = encodeVoucher(await signVoucher(payer, id, deposit + 1n + random.uint(16)));
      },
    ],
    [
      "outcome moves a wei too many",
      () => {
        next.outcome[0].allocations[1].amount += 1n;
      },
    ],
    [
      "other asset",
      () => {
        next.outcome[0].asset = random.address();
      },
    ],
    ["three allocations", () => void next.outcome[0].allocations.push({ destination: random.bytes(32), amount: 0n })],
    [
      "other destination",
      () => {
        next.outcome[0].allocations[0].destination = toDestination(random.address());
      },
    ],
    [
      "signed by someone else",
      async () => {
        next.appData = encodeVoucher(await signVoucher(Wallet.createRandom(), id, amount));
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
  if (what === "amount decreased" && previous === 0n) return c; // nothing below 0: stays valid
  await mutate();
  return c;
}

describe("SDK mirror of the voucher app's rules", function () {
  it(`voucherStateSupportError and voucherMoveError give the contract's verdict on ${CASES} random states`, async function () {
    const { app, appAddress } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(10);
    const payer = new Wallet(random.bytes(32));
    const payee = Wallet.createRandom().address;
    const id = random.bytes(32);
    const seen = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const c = await randomCase(random, payer, payee, id, appAddress);
      const supported = voucherStateSupportError(c.fixedPart, id, [c.base], c.candidate);
      const onChainSupported = await revertName(app.requireStateSupported(c.fixedPart, id, [c.base], c.candidate));
      expect(supported, `case ${i} (${c.what}), requireStateSupported`).to.equal(onChainSupported);
      const move = voucherMoveError(c.fixedPart, id, c.base.variablePart, c.candidate);
      const onChainMove = await revertName(
        app.requireValidTransition(c.fixedPart, id, c.base.variablePart, c.candidate),
      );
      expect(move, `case ${i} (${c.what}), requireValidTransition`).to.equal(onChainMove);
      seen.set(supported ?? "accepted", (seen.get(supported ?? "accepted") ?? 0) + 1);
    }
    // Every rule was reached, and so was acceptance.
    for (const verdict of [
      "accepted",
      "BaseIsFinal",
      "VoucherStateIsFinal",
      "InvalidVoucherSignature",
      "OutcomeNotVoucherMove",
    ]) {
      expect(seen.get(verdict) ?? 0, verdict).to.be.greaterThan(0);
    }
  });
});
