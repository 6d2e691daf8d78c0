// Small steps that several actions share: reading a channel from the store, the states it builds on, and the
// checks of what a peer sends.
import { dataSlice, isError } from "ethers";
import { checksumAddress as getAddress } from "../../address.js";
import { channelId } from "../../channel.js";
import type { PiecepayContext } from "../../context/types.js";
import { ContractRevertError } from "../../contract-errors.js";
import { PiecepayError } from "../../errors.js";
import { recoverPersonalSigner } from "../../recover.js";
import type { ChannelRecord } from "../../store/types.js";
import type { FixedPart, SignedVariablePart, VariablePart } from "../../types.js";
import { maxVirtualVoucher } from "../../virtual-voucher.js";

/** The payer's index among a voucher channel's participants. */
export const PAYER = 0;
/** The payee's index among a voucher channel's participants. */
export const PAYEE = 1;

/**
 * The payee's index: the last participant (1 in a voucher channel [payer, payee], 2 in a virtual channel [payer,
 * hub, payee]).
 */
export function payeeIndex(record: ChannelRecord): number {
  return record.fixedPart.participants.length - 1;
}

/**
 * The largest cumulative voucher the channel can pay: its deposit, or for a virtual channel what its guaranteed
 * amount pays once the hub's fee on it is taken (ADR 0021).
 */
export function voucherBound(record: ChannelRecord): bigint {
  const v = record.virtual;
  return v === undefined ? record.deposited : maxVirtualVoucher(v.amount, v.feeBps);
}

/** The stored channel `id` (UNKNOWN_CHANNEL when there is none). */
export async function channelOf(context: PiecepayContext, id: string): Promise<ChannelRecord> {
  const record = await context.store.getChannel(id);
  if (!record) throw new PiecepayError("UNKNOWN_CHANNEL", `no channel ${id} in the store`);
  return record;
}

/** The latest state both sides signed (NO_SUPPORTED_STATE when there is none). */
export async function supportedState(context: PiecepayContext, record: ChannelRecord): Promise<SignedVariablePart> {
  const base = await context.store.getSupportedState(record.id);
  if (!base) throw new PiecepayError("NO_SUPPORTED_STATE", `channel ${record.id} has no state signed by both`);
  return base;
}

/** A channel's id on the context's chain and adjudicator, lower case as the store keeps it. */
export function channelIdOf(context: PiecepayContext, fixedPart: FixedPart): string {
  return channelId(context.chainId, context.adjudicator.target as string, fixedPart).toLowerCase();
}

/** A new record of a channel we are `myIndex` of, funded by `funding`. */
export function newRecord(
  context: PiecepayContext,
  id: string,
  fixedPart: FixedPart,
  myIndex: number,
  funding: VariablePart,
  peer?: string,
): ChannelRecord {
  return {
    id,
    chainId: context.chainId,
    adjudicator: getAddress(context.adjudicator.target as string),
    fixedPart,
    myIndex,
    asset: funding.outcome[0].asset,
    deposited: 0n,
    phase: "proposed",
    destinations: funding.outcome[0].allocations.map((a) => a.destination.toLowerCase()),
    ...(peer === undefined ? {} : { peer }),
  };
}

/** The signer of a state signature, or undefined for any malformed signature (never throws on peer input). */
export function signerOf(hash: string, signature: unknown): string | undefined {
  try {
    return typeof signature === "string" ? recoverPersonalSigner(hash, signature) : undefined;
  } catch {
    return undefined;
  }
}

/** The address of an external destination (its low 20 bytes). */
export function addressOf(destination: string): string {
  return getAddress(dataSlice(destination, 12));
}

/** What `owed` (a one-asset outcome still owed, or `[]`) still owes participant `index`. */
export function owedTo(owed: VariablePart["outcome"], index: number): bigint {
  return owed.length === 1 ? (owed[0].allocations[index]?.amount ?? 0n) : owed.length === 0 ? 0n : 1n;
}

/** Whether a send failed because the contract refused it (not the RPC, not our chain check). */
export function isRevert(error: unknown): boolean {
  return error instanceof ContractRevertError || isError(error, "CALL_EXCEPTION");
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
