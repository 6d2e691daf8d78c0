import type { PiecepayContext } from "../context/types.js";
import type { ChannelRecord } from "../store/types.js";
import { type FundErrorType, fund } from "./fund.js";
import type { ChannelAcceptance, JoinErrorType } from "./join.js";
import { type ChannelProposal, type ProposeErrorType, type ProposeParameters, propose } from "./propose.js";

export interface OpenParameters extends ProposeParameters {
  /** Asks the payee to join (e.g. over the wire) and resolves with its acceptance. */
  ask: (proposal: ChannelProposal) => Promise<ChannelAcceptance>;
}
export type OpenReturnType = ChannelRecord;
/** `ask`'s own errors pass through as they are (a payee that `join`s locally refuses with JoinErrorType). */
export type OpenErrorType = ProposeErrorType | FundErrorType | JoinErrorType;

/**
 * Proposes, asks the payee (through `ask`, e.g. a wire message) and funds: a channel in one call.
 * @example const channel = await open(context, { payee, deposit, ask: (proposal) => join(payeeContext, { proposal }) })
 */
export async function open(context: PiecepayContext, params: OpenParameters): Promise<OpenReturnType> {
  const { ask, ...proposal } = params;
  const proposed = await propose(context, proposal);
  return fund(context, { proposal: proposed, acceptance: await ask(proposed) });
}
