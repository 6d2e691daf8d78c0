import { dataLength, getBytes, hexlify } from "ethers";
import { recoverPersonalSignerBytes } from "./recover.js";
import type { FixedPart, Outcome, SignedVariablePart, VariablePart } from "./types.js";
import { decodeVoucher, VOUCHER_LENGTH, voucherHash } from "./voucher.js";

// The TypeScript mirror of VoucherPaymentApp.sol's rules: the same checks in the same order, so that the SDK
// knows, before it sends anything, which custom error the app would revert with. A parity test runs both on the
// same random states (test/ts/sdk/voucher-app-parity.test.ts).

const PAYER = 0;
const PAYEE = 1;
const BOTH_SIGNED = 0x3n;

/** The custom errors of IVoucherPaymentApp.sol, by name. */
export type VoucherAppError =
  | "NotTwoParticipants"
  | "ProofLengthNotOne"
  | "BaseNotSignedByBoth"
  | "TurnNumberNotAfterBase"
  | "NotSignedByPayee"
  | "VoucherStateIsFinal"
  | "BaseIsFinal"
  | "MalformedVoucher"
  | "VoucherAmountDecreased"
  | "VoucherExceedsDeposit"
  | "OutcomeNotTwoPartyOneAsset"
  | "OutcomeNotVoucherMove"
  | "InvalidVoucherSignature";

/**
 * The error `VoucherPaymentApp.requireStateSupported` reverts with for `candidate` on top of `proof`, or undefined
 * when the app accepts it. A final state is never a base (`BaseIsFinal`, ADR 0005).
 * @example if (voucherStateSupportError(fixedPart, id, [funding], candidate)) throw new Error("not enforceable")
 */
export function voucherStateSupportError(
  fixedPart: FixedPart,
  channelId: string,
  proof: SignedVariablePart[],
  candidate: SignedVariablePart,
): VoucherAppError | undefined {
  if (proof.length !== 1) return "ProofLengthNotOne";
  if (proof[0].signedBy !== BOTH_SIGNED) return "BaseNotSignedByBoth";
  const base = proof[0].variablePart;
  if (candidate.variablePart.turnNum <= base.turnNum) return "TurnNumberNotAfterBase";
  return voucherMoveError(fixedPart, channelId, base, candidate);
}

/**
 * The error `VoucherPaymentApp.requireValidTransition` reverts with for the move `from` -> `to` (a response to the
 * registered state `from`), or undefined when the app accepts it.
 * @example voucherMoveError(fixedPart, id, registered, response) // "BaseIsFinal" when `registered` is final
 */
export function voucherMoveError(
  fixedPart: FixedPart,
  channelId: string,
  from: VariablePart,
  to: SignedVariablePart,
): VoucherAppError | undefined {
  if (fixedPart.participants.length !== 2) return "NotTwoParticipants";
  if (from.isFinal) return "BaseIsFinal";
  if ((to.signedBy & (1n << BigInt(PAYEE))) === 0n) return "NotSignedByPayee";
  const next = to.variablePart;
  if (next.isFinal) return "VoucherStateIsFinal";
  if (dataLength(from.appData) !== 0 && dataLength(from.appData) !== VOUCHER_LENGTH) return "MalformedVoucher";
  const previous = dataLength(from.appData) === 0 ? 0n : decodeVoucher(from.appData).amount;
  if (dataLength(next.appData) !== VOUCHER_LENGTH) return "MalformedVoucher";
  const { amount, signature } = decodeVoucher(next.appData);
  if (amount < previous) return "VoucherAmountDecreased";
  const moveError = outcomeMoveError(from.outcome, next.outcome, amount - previous);
  if (moveError) return moveError;
  const signer = recoverPersonalSignerBytes(getBytes(voucherHash(channelId, amount)), getBytes(signature));
  if (!signer || hexlify(signer) !== fixedPart.participants[PAYER].toLowerCase()) return "InvalidVoucherSignature";
  return undefined;
}

/** `_requireOutcomeMoves`: `next` is `previous` with `delta` moved from the payer's allocation to the payee's. */
function outcomeMoveError(previous: Outcome, next: Outcome, delta: bigint): VoucherAppError | undefined {
  if (!isTwoPartyOneAsset(previous) || !isTwoPartyOneAsset(next)) return "OutcomeNotTwoPartyOneAsset";
  const [payerBefore, payeeBefore] = previous[0].allocations;
  const [payerAfter, payeeAfter] = next[0].allocations;
  if (delta > payerBefore.amount) return "VoucherExceedsDeposit";
  const same =
    next[0].asset.toLowerCase() === previous[0].asset.toLowerCase() &&
    payerAfter.destination.toLowerCase() === payerBefore.destination.toLowerCase() &&
    payeeAfter.destination.toLowerCase() === payeeBefore.destination.toLowerCase() &&
    payerAfter.amount === payerBefore.amount - delta &&
    payeeAfter.amount >= payeeBefore.amount &&
    payeeAfter.amount - payeeBefore.amount === delta;
  return same ? undefined : "OutcomeNotVoucherMove";
}

function isTwoPartyOneAsset(outcome: Outcome): boolean {
  return outcome.length === 1 && outcome[0].allocations.length === 2;
}
