import { checksumAddress as getAddress } from "./address.js";
import { isExternalDestination } from "./channel.js";
import { type ContractErrorCode, PiecepayError } from "./errors.js";
import type { FixedPart, Outcome } from "./types.js";

const USER = 0;
const HUB = 1;
const FIRST_GUARANTEE = 2;
const PAYER = 0;
const PAYEE = 2;
const MAX_UINT256 = (1n << 256n) - 1n;

/** What `reclaim` is given besides the two channels' on-chain status (mirrors the arguments of ReclaimLib). */
export interface ReclaimInput {
  ledger: FixedPart;
  ledgerId: string;
  /** The outcome the ledger still owes. */
  ledgerOutcome: Outcome;
  assetIndex: number;
  guaranteeIndex: number;
  virtualChannel: FixedPart;
  virtualId: string;
  /**
   * The outcome the virtual channel still owes; undefined once payouts paid it all (its owed hash is zero: the
   * `reclaim` call then presents its state hash and the ETH it still holds, if any, with any outcome).
   */
  virtualOutcome: Outcome | undefined;
}

/** A reclaim's result: the ledger's new owed outcome and what its user and its hub gained. */
export interface ReclaimEffect {
  updated: Outcome;
  toUser: bigint;
  toHub: bigint;
}

/**
 * What `reclaim` does to a ledger `[user, hub]` that guarantees a virtual channel `[payer, hub, payee]` (mirrors
 * ReclaimLib.reclaimed, same refusals and codes): the user gains what the virtual channel still owes it (its
 * allocation 0 as payer, 2 as payee) up to the guarantee, the hub the rest, and the guarantee becomes 0 in place.
 * An off-chain settlement of a virtual channel is exactly this change (ADR 0021, decision 5).
 * @example const { updated, toUser } = reclaimEffects({ ledger, ledgerId, ledgerOutcome, assetIndex: 0, guaranteeIndex: 2, virtualChannel, virtualId, virtualOutcome })
 */
export function reclaimEffects(input: ReclaimInput): ReclaimEffect {
  const { ledger, ledgerId, ledgerOutcome, assetIndex, guaranteeIndex, virtualChannel, virtualId } = input;
  if (assetIndex >= ledgerOutcome.length) {
    throw refusal("INVALID_ASSET_INDEX", `asset ${assetIndex} of ${ledgerOutcome.length}`);
  }
  const allocations = ledgerOutcome[assetIndex].allocations;
  if (
    ledger.participants.length !== 2 ||
    allocations.length <= FIRST_GUARANTEE ||
    !isExternalDestination(allocations[USER].destination) ||
    !isExternalDestination(allocations[HUB].destination)
  ) {
    throw refusal("NOT_A_LEDGER_OUTCOME", `${ledgerId} is not a ledger [user, hub] with a guarantee`);
  }
  if (guaranteeIndex < FIRST_GUARANTEE || guaranteeIndex >= allocations.length) {
    throw refusal("INVALID_ALLOCATION_INDEX", `guarantee index ${guaranteeIndex} of ${allocations.length}`);
  }
  const guarantee = allocations[guaranteeIndex].amount;
  if (allocations[guaranteeIndex].destination.toLowerCase() !== virtualId.toLowerCase()) {
    throw refusal(
      "GUARANTEE_TARGET_MISMATCH",
      `allocation ${guaranteeIndex} of ${ledgerId} does not guarantee ${virtualId}`,
    );
  }
  if (guarantee === 0n) throw refusal("NOTHING_TO_RECLAIM", `guarantee ${guaranteeIndex} of ${ledgerId} is 0`);
  const userSide = sideOf(ledger.participants, virtualChannel.participants, ledgerId, virtualId);

  let owedToUser = 0n;
  const virtualOutcome = input.virtualOutcome;
  if (virtualOutcome !== undefined) {
    if (virtualOutcome.length !== 1 || virtualOutcome[0].allocations.length !== 3) {
      throw refusal("NOT_A_VIRTUAL_CHANNEL", `${virtualId} does not owe one asset to three allocations`);
    }
    const asset = ledgerOutcome[assetIndex].asset;
    if (getAddress(virtualOutcome[0].asset) !== getAddress(asset)) {
      throw refusal("ASSET_MISMATCH", `ledger asset ${asset}, virtual channel asset ${virtualOutcome[0].asset}`);
    }
    owedToUser = virtualOutcome[0].allocations[userSide].amount;
  }
  const toUser = owedToUser < guarantee ? owedToUser : guarantee;
  const toHub = guarantee - toUser;
  const updated = ledgerOutcome.map((exit, a) =>
    a !== assetIndex
      ? exit
      : {
          asset: exit.asset,
          allocations: exit.allocations.map((allocation, i) => {
            if (i === USER) return { ...allocation, amount: add(allocation.amount, toUser) };
            if (i === HUB) return { ...allocation, amount: add(allocation.amount, toHub) };
            if (i === guaranteeIndex) return { ...allocation, amount: 0n };
            return allocation;
          }),
        },
  );
  return { updated, toUser, toHub };
}

/** Which allocation of the virtual channel is the ledger user's, after ReclaimLib's participant checks. */
function sideOf(
  ledgerParticipants: string[],
  virtualParticipants: string[],
  ledgerId: string,
  virtualId: string,
): number {
  if (virtualParticipants.length !== 3) throw refusal("NOT_A_VIRTUAL_CHANNEL", `${virtualId} has not 3 participants`);
  const [payer, hub, payee] = virtualParticipants.map((p) => getAddress(p));
  if (payer === hub || payer === payee || hub === payee) {
    throw refusal("NOT_A_VIRTUAL_CHANNEL", `${virtualId} repeats a participant`);
  }
  const user = getAddress(ledgerParticipants[USER]);
  if (getAddress(ledgerParticipants[HUB]) === hub) {
    if (user === payer) return PAYER;
    if (user === payee) return PAYEE;
  }
  throw refusal("NOT_GUARANTEE_PARTIES", `${ledgerId} is not [payer or payee, hub] of ${virtualId}`);
}

function add(amount: bigint, added: bigint): bigint {
  if (amount + added > MAX_UINT256) throw refusal("AMOUNT_OVERFLOW", `${amount} + ${added} overflows`);
  return amount + added;
}

function refusal(code: ContractErrorCode, message: string): PiecepayError {
  return new PiecepayError(code, `reclaim refused: ${message}`);
}
