import { dataLength, getBytes, hexlify, ZeroAddress } from "ethers";
import { checksumAddress as getAddress } from "./address.js";
import { toDestination } from "./channel.js";
import { PiecepayError, VirtualVoucherError } from "./errors.js";
import { recoverPersonalSignerBytes } from "./recover.js";
import type { FixedPart, Outcome, SignedVariablePart, VariablePart } from "./types.js";
import { decodeVoucher, encodeVoucher, VOUCHER_LENGTH, type Voucher, voucherHash } from "./voucher.js";

// The TypeScript mirror of VirtualVoucherApp.sol (ADR 0021, decision 2): the fee arithmetic, the nonce that carries
// the fee, and the voucher move, with the same checks in the same order and the same custom errors and arguments,
// so that a payee or a hub knows before it relies on a state whether the app would support it. A parity test runs
// both on the same random states (test/ts/sdk/virtual-voucher-parity.test.ts).

// Participants and allocations are [payer, hub, payee].
const PAYER = 0;
const PAYEE = 2;
const ALL_SIGNED = 0x7n;
const FEE_SHIFT = 48n;
const MAX_FEE_BPS = 10_000n;
const MAX_UINT256 = 2n ** 256n - 1n;

/**
 * The hub's fee on a cumulative voucher amount, `floor(amount * feeBps / 10_000)`: the app's `fee`. The hub's
 * allocation in a virtual channel is always the fee on the payee's cumulative amount, so rounding never accumulates.
 * @throws PiecepayError INVALID_FEE when `feeBps` is not in 0..10,000, INVALID_ENCODING when `amount` is no uint256
 * @example hubFee(1_000_000n, 25n) // 2_500n: 0.25 %
 */
export function hubFee(amount: bigint, feeBps: bigint): bigint {
  requireFeeBps(feeBps);
  if (amount < 0n || amount > MAX_UINT256) throw new PiecepayError("INVALID_ENCODING", `${amount} is not a uint256`);
  return (amount * feeBps) / MAX_FEE_BPS;
}

/**
 * The largest voucher a virtual channel holding `x` can pay: the largest `a` with `a + hubFee(a, feeBps) <= x`. A
 * payer signs, and a payee credits, no voucher above it (the app would refuse it: VoucherExceedsDeposit).
 * @throws PiecepayError INVALID_FEE when `feeBps` is not in 0..10,000
 * @example maxVirtualVoucher(1_010n, 100n) // 1_000n: 1 % of 1,000 is 10
 */
export function maxVirtualVoucher(x: bigint, feeBps: bigint): bigint {
  requireFeeBps(feeBps);
  if (x <= 0n) return 0n;
  // a * (1 + f) <= x bounds it from below; the fee's rounding down may let one or two wei more fit.
  let a = (x * MAX_FEE_BPS) / (MAX_FEE_BPS + feeBps);
  while (a + 1n + ((a + 1n) * feeBps) / MAX_FEE_BPS <= x) a++;
  return a;
}

/**
 * A virtual channel's nonce, `feeBps << 48 | n`: the fee is hashed into the channel's id, so the funding state and
 * every voucher signed for the channel commit to it.
 * @throws PiecepayError INVALID_FEE when `feeBps` is not in 0..10,000, INVALID_NONCE when `n` is not in 0..2^48 - 1
 * @example const fixedPart = { participants: [payer, hub, payee], channelNonce: virtualNonce(25n, 1n), ... }
 */
export function virtualNonce(feeBps: bigint, n: bigint): bigint {
  requireFeeBps(feeBps);
  if (n < 0n || n >= 1n << FEE_SHIFT) {
    throw new PiecepayError("INVALID_NONCE", `a virtual channel's nonce counter is below 2^48, not ${n}`);
  }
  return (feeBps << FEE_SHIFT) | n;
}

/**
 * The fee in basis points that a virtual channel's nonce carries (its top 16 bits): the app's `feeBpsOf`. The app
 * refuses every voucher state of a channel whose fee is above 10,000 (`FeeTooHigh`).
 * @throws PiecepayError INVALID_NONCE when `channelNonce` is not a uint64
 * @example feeBpsOf(virtualNonce(25n, 7n)) // 25n
 */
export function feeBpsOf(channelNonce: bigint): bigint {
  if (channelNonce < 0n || channelNonce >= 1n << 64n) {
    throw new PiecepayError("INVALID_NONCE", `a channel nonce is a uint64, not ${channelNonce}`);
  }
  return channelNonce >> FEE_SHIFT;
}

/**
 * A virtual channel's funding outcome `[x, 0, 0]` for `[payer, hub, payee]` (V0's outcome): the payer's `x`, of
 * which it pays `amount + hubFee(amount)` for a voucher of `amount`.
 * @example const v0 = { outcome: virtualChannelOutcome(ZeroAddress, payer, hub, payee, x), appData: "0x", turnNum: 0n, isFinal: false }
 */
export function virtualChannelOutcome(asset: string, payer: string, hub: string, payee: string, x: bigint): Outcome {
  return [
    {
      asset: getAddress(asset),
      allocations: [
        { destination: toDestination(payer), amount: x },
        { destination: toDestination(hub), amount: 0n },
        { destination: toDestination(payee), amount: 0n },
      ],
    },
  ];
}

/** What a voucher move does: the voucher's amount, the base's, and what moves to the payee and to the hub. */
export interface VirtualVoucherMove {
  /** The voucher's cumulative amount for the payee. */
  amount: bigint;
  /** The base's voucher amount (0 for empty appData). */
  previous: bigint;
  /** `amount - previous`: what the payee's allocation gains. */
  delta: bigint;
  /** `hubFee(amount) - hubFee(previous)`: what the hub's allocation gains. */
  feeDelta: bigint;
}

/**
 * The payee's voucher state on `base` (V0, or a state all three signed): the voucher's new amount moved from the
 * payer's allocation to the payee's, the fee on it to the hub's, the voucher in its appData. The payee signs it
 * alone to enforce the voucher; check it with `checkVirtualVoucher` first (this checks only the amounts).
 * @throws VirtualVoucherError FeeTooHigh, OutcomeNotThreePartyOneAsset, MalformedVoucher (the base's appData),
 * VoucherAmountDecreased or VoucherExceedsDeposit (the payer's allocation cannot pay `amount + hubFee(amount)`)
 * @example const candidate = virtualVoucherState(fixedPart, v0, await signVoucher(payer, id, 1_000n))
 */
export function virtualVoucherState(
  fixedPart: FixedPart,
  base: VariablePart,
  voucher: Pick<Voucher, "amount" | "signature">,
  turnNum = base.turnNum + 1n,
): VariablePart {
  const feeBps = requireFeeInNonce(fixedPart);
  if (!isThreePartyOneAsset(base.outcome)) throw outcomeShapeError();
  const move = voucherAmounts(feeBps, base.appData, voucher.amount);
  const [payer, hub, payee] = base.outcome[0].allocations;
  requireAffordable(move, payer.amount);
  return {
    outcome: [
      {
        asset: base.outcome[0].asset,
        allocations: [
          { destination: payer.destination, amount: payer.amount - move.delta - move.feeDelta },
          { destination: hub.destination, amount: hub.amount + move.feeDelta },
          { destination: payee.destination, amount: payee.amount + move.delta },
        ],
      },
    ],
    appData: encodeVoucher(voucher),
    turnNum,
    isFinal: false,
  };
}

/**
 * The mirror of `VirtualVoucherApp.requireValidTransition`: returns what the move `from` -> `to` does when the app
 * accepts it, else throws the error the app reverts with. On V0 `[x, 0, 0]`, or on any state built from it by such
 * moves, a voucher of `amount` is accepted only while `amount + hubFee(amount) <= x`: what a payee checks before it
 * serves against the voucher.
 * @throws VirtualVoucherError naming the app's custom error (`errorName`) with its arguments (`args`)
 * @example const { delta } = checkVirtualVoucher(fixedPart, id, latest.variablePart, candidate)
 */
export function checkVirtualVoucher(
  fixedPart: FixedPart,
  channelId: string,
  from: VariablePart,
  to: SignedVariablePart,
): VirtualVoucherMove {
  const count = fixedPart.participants.length;
  if (count !== 3) throw new VirtualVoucherError("NotThreeParticipants", [BigInt(count)], `${count} participants`);
  const feeBps = requireFeeInNonce(fixedPart);
  if (from.isFinal) throw new VirtualVoucherError("BaseIsFinal", [], "a final state is never built on");
  if ((to.signedBy & (1n << BigInt(PAYEE))) === 0n) {
    throw new VirtualVoucherError("NotSignedByPayee", [to.signedBy], "the payee must sign a voucher state");
  }
  const next = to.variablePart;
  if (next.isFinal) throw new VirtualVoucherError("VoucherStateIsFinal", [], "a voucher state cannot be final");
  const move = voucherAmounts(feeBps, from.appData, next.appData);
  if (!isThreePartyOneAsset(from.outcome) || !isThreePartyOneAsset(next.outcome)) throw outcomeShapeError();
  const [payerBefore, hubBefore, payeeBefore] = from.outcome[0].allocations;
  const [payerAfter, hubAfter, payeeAfter] = next.outcome[0].allocations;
  requireAffordable(move, payerBefore.amount);
  const same =
    next.outcome[0].asset.toLowerCase() === from.outcome[0].asset.toLowerCase() &&
    payerAfter.destination.toLowerCase() === payerBefore.destination.toLowerCase() &&
    hubAfter.destination.toLowerCase() === hubBefore.destination.toLowerCase() &&
    payeeAfter.destination.toLowerCase() === payeeBefore.destination.toLowerCase() &&
    payerAfter.amount === payerBefore.amount - move.delta - move.feeDelta &&
    hubAfter.amount - hubBefore.amount === move.feeDelta &&
    payeeAfter.amount - payeeBefore.amount === move.delta;
  if (!same) {
    throw new VirtualVoucherError(
      "OutcomeNotVoucherMove",
      [move.delta],
      `the outcome must move ${move.delta} to the payee and ${move.feeDelta} to the hub, nothing else`,
    );
  }
  const { signature } = decodeVoucher(next.appData);
  const signer = recoverPersonalSignerBytes(getBytes(voucherHash(channelId, move.amount)), getBytes(signature));
  const payer = fixedPart.participants[PAYER].toLowerCase();
  if (!signer || hexlify(signer) !== payer) {
    const by = signer ? getAddress(hexlify(signer)) : ZeroAddress;
    throw new VirtualVoucherError("InvalidVoucherSignature", [by], `the voucher is signed by ${by}, not the payer`);
  }
  return move;
}

/**
 * The mirror of `VirtualVoucherApp.requireStateSupported`: `candidate` on one proof state signed by all three
 * (`[V0]`, or a later state all three signed), at a higher turn, by the voucher move. What a hub checks before it
 * settles with a payee on its voucher state (ADR 0021, decision 5).
 * @throws VirtualVoucherError naming the app's custom error (`errorName`) with its arguments (`args`)
 * @example checkVirtualVoucherSupported(fixedPart, id, [v0Signed], payeeState)
 */
export function checkVirtualVoucherSupported(
  fixedPart: FixedPart,
  channelId: string,
  proof: SignedVariablePart[],
  candidate: SignedVariablePart,
): VirtualVoucherMove {
  if (proof.length !== 1) {
    throw new VirtualVoucherError("ProofLengthNotOne", [BigInt(proof.length)], "one proof state, signed by all");
  }
  if (proof[0].signedBy !== ALL_SIGNED) {
    throw new VirtualVoucherError("BaseNotSignedByAll", [proof[0].signedBy], "the base must be signed by all three");
  }
  const base = proof[0].variablePart;
  if (candidate.variablePart.turnNum <= base.turnNum) {
    throw new VirtualVoucherError(
      "TurnNumberNotAfterBase",
      [base.turnNum, candidate.variablePart.turnNum],
      "the voucher state's turn must be above its base's",
    );
  }
  return checkVirtualVoucher(fixedPart, channelId, base, candidate);
}

function requireFeeBps(feeBps: bigint): void {
  if (feeBps < 0n || feeBps > MAX_FEE_BPS) {
    throw new PiecepayError("INVALID_FEE", `a hub's fee is 0 to 10,000 basis points, not ${feeBps}`);
  }
}

/** The channel's fee, or FeeTooHigh as the app says it. */
function requireFeeInNonce(fixedPart: FixedPart): bigint {
  const feeBps = feeBpsOf(fixedPart.channelNonce);
  if (feeBps > MAX_FEE_BPS) throw new VirtualVoucherError("FeeTooHigh", [feeBps], `${feeBps} basis points`);
  return feeBps;
}

/**
 * The move's amounts from the base's appData (empty: 0) and the voucher (`next`: the new state's appData, or the
 * voucher's amount), in the app's order: the base's voucher is decoded first, then the new one, then compared.
 */
function voucherAmounts(feeBps: bigint, baseData: string, next: string | bigint): VirtualVoucherMove {
  const baseLength = dataLength(baseData);
  if (baseLength !== 0 && baseLength !== VOUCHER_LENGTH) throw malformed(baseLength);
  const previous = baseLength === 0 ? 0n : decodeVoucher(baseData).amount;
  if (typeof next === "string" && dataLength(next) !== VOUCHER_LENGTH) throw malformed(dataLength(next));
  const amount = typeof next === "bigint" ? next : decodeVoucher(next).amount;
  if (amount < previous) {
    throw new VirtualVoucherError("VoucherAmountDecreased", [previous, amount], "vouchers are cumulative");
  }
  return {
    amount,
    previous,
    delta: amount - previous,
    feeDelta: (amount * feeBps) / MAX_FEE_BPS - (previous * feeBps) / MAX_FEE_BPS,
  };
}

function requireAffordable(move: VirtualVoucherMove, payerAllocation: bigint): void {
  const needed = move.delta + move.feeDelta;
  if (needed > payerAllocation) {
    throw new VirtualVoucherError(
      "VoucherExceedsDeposit",
      [needed > MAX_UINT256 ? MAX_UINT256 : needed, payerAllocation],
      `the voucher and its fee take ${needed} but the payer's allocation is ${payerAllocation}`,
    );
  }
}

function malformed(length: number): VirtualVoucherError {
  const args = [BigInt(length)];
  return new VirtualVoucherError("MalformedVoucher", args, `a voucher has ${VOUCHER_LENGTH} bytes, not ${length}`);
}

function outcomeShapeError(): VirtualVoucherError {
  return new VirtualVoucherError("OutcomeNotThreePartyOneAsset", [], "one asset, allocations [payer, hub, payee]");
}

function isThreePartyOneAsset(outcome: Outcome): boolean {
  return outcome.length === 1 && outcome[0].allocations.length === 3;
}
