// What a cooperative close is built from and checked against, shared by offerClose, countersign and close.
import { checksumAddress as getAddress } from "../../address.js";
import { outcomeHash, stateHash } from "../../channel.js";
import type { PiecepayContext } from "../../context/types.js";
import { PiecepayError } from "../../errors.js";
import { splitOutcome } from "../../states.js";
import type { ChannelRecord } from "../../store/types.js";
import type { VariablePart } from "../../types.js";
import { onChain } from "../on-chain.js";
import { paid } from "../paid.js";
import { channelOf, PAYEE, PAYER, signerOf, supportedState } from "./channels.js";

/** One side's signature of the final state that closes a channel cooperatively. */
export interface CloseOffer {
  channelId: string;
  final: VariablePart;
  signature: string;
}

/** The final state paying `amount` to the payee (its appData is empty: a final state is never a proof's base). */
export async function finalState(
  context: PiecepayContext,
  record: ChannelRecord,
  amount: bigint,
): Promise<VariablePart> {
  const base = await supportedState(context, record);
  const { turnNumRecord } = await onChain(context, { channelId: record.id });
  const turnNum = turnNumRecord > base.variablePart.turnNum + 2n ? turnNumRecord + 1n : base.variablePart.turnNum + 2n;
  return { outcome: splitOutcome(base.variablePart, amount), appData: "0x", turnNum, isFinal: true };
}

/**
 * The checks of the other side's close offer (a split of the deposit paying us at least what we are owed, final,
 * signed by the other participant); records the channel as closing with its final state.
 */
export async function checkOffer(
  context: PiecepayContext,
  offer: CloseOffer,
  options: { minimum?: bigint },
): Promise<ChannelRecord> {
  const record = await channelOf(context, offer.channelId);
  const base = await supportedState(context, record);
  const invalid = (why: string) => new PiecepayError("INVALID_CLOSE_OFFER", `refused the close offer: ${why}`);
  const final = offer.final;
  const toPayee = final.outcome[0]?.allocations?.[PAYEE]?.amount;
  // The offer must split the funding state's deposit between the same two destinations in the same asset,
  // nothing else: rebuild that outcome for the payee's amount and compare hashes.
  if (typeof toPayee !== "bigint" || toPayee < 0n || toPayee > base.variablePart.outcome[0].allocations[PAYER].amount) {
    throw invalid("its outcome is not a split of the deposit");
  }
  if (outcomeHash(final.outcome) !== outcomeHash(splitOutcome(base.variablePart, toPayee))) {
    throw invalid("its outcome is not a split of the deposit between the payer and the payee");
  }
  const vouchers = await paid(context, { channelId: record.id });
  // The payee accepts no less than `minimum` (default: everything its vouchers promise); the payer pays no
  // more than its vouchers promise.
  const owed = record.myIndex === PAYEE ? (options.minimum ?? vouchers) : vouchers;
  if (record.myIndex === PAYEE ? toPayee < owed : toPayee > owed) {
    throw invalid(`it pays the payee ${toPayee}, but we are owed ${owed}`);
  }
  if (!final.isFinal) throw invalid("the state is not final");
  const other = 1 - record.myIndex;
  if (signerOf(stateHash(record.id, final), offer.signature) !== getAddress(record.fixedPart.participants[other])) {
    throw invalid("it is not signed by the other participant");
  }
  const updated = await context.store.updateChannel(record.id, (now) => {
    const known = (now.finalStates ?? []).some((s) => stateHash(now.id, s) === stateHash(now.id, final));
    return {
      ...now,
      phase: "closing",
      finalStates: known ? (now.finalStates ?? []) : [...(now.finalStates ?? []), final],
    };
  });
  return updated ?? record;
}
