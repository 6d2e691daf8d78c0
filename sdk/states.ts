// The states of a voucher channel, built the one way both sides build them: a signature is only worth something
// if the other side computes the same state hash.
import { checksumAddress as getAddress } from "./address.js";
import { toDestination } from "./channel.js";
import type { FixedPart, VariablePart } from "./types.js";
import { encodeVoucher, type Voucher } from "./voucher.js";

const PAYER = 0;
const PAYEE = 1;

/**
 * A voucher channel's funding state: turn 0, the whole deposit allocated back to the payer, nothing to the payee.
 * `destinations` says where each side is paid (its wallet; default: the participant itself).
 * @example const funding = fundingState(fixedPart, ZeroAddress, parseEther("1"), { payer: payerWallet })
 */
export function fundingState(
  fixedPart: FixedPart,
  asset: string,
  deposit: bigint,
  destinations: { payer?: string; payee?: string } = {},
): VariablePart {
  return {
    outcome: [
      {
        asset: getAddress(asset),
        allocations: [
          { destination: toDestination(destinations.payer ?? fixedPart.participants[PAYER]), amount: deposit },
          { destination: toDestination(destinations.payee ?? fixedPart.participants[PAYEE]), amount: 0n },
        ],
      },
    ],
    appData: "0x",
    turnNum: 0n,
    isFinal: false,
  };
}

/**
 * `base`'s outcome with `paid` moved from the payer's allocation to the payee's: what a close pays.
 * @example const final = { outcome: splitOutcome(funding, paid), appData: "0x", turnNum: 2n, isFinal: true }
 */
export function splitOutcome(base: VariablePart, paid: bigint): VariablePart["outcome"] {
  const [payer, payee] = base.outcome[0].allocations;
  return [
    {
      asset: base.outcome[0].asset,
      allocations: [
        { destination: payer.destination, amount: payer.amount - paid },
        { destination: payee.destination, amount: payee.amount + paid },
      ],
    },
  ];
}

/**
 * The funding state `base` with `voucher.amount` moved to the payee and the voucher in its appData: the state a
 * payee signs alone to enforce the voucher.
 * @example const candidate = voucherState(funding, voucher, 1n)
 */
export function voucherState(base: VariablePart, voucher: Voucher, turnNum = base.turnNum + 1n): VariablePart {
  return { outcome: splitOutcome(base, voucher.amount), appData: encodeVoucher(voucher), turnNum, isFinal: false };
}
