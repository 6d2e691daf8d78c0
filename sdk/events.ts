import type { VariablePart } from "./types.js";

/**
 * A plain `VariablePart` from the decoded `candidate` of a `ChallengeRegistered` event (ethers gives frozen
 * Result objects): what a counterparty needs to answer the challenge.
 * @example const challenged = variablePartFromEvent(log.args.candidate)
 */
export function variablePartFromEvent(candidate: {
  outcome: { asset: string; allocations: { destination: string; amount: bigint }[] }[];
  appData: string;
  turnNum: bigint;
  isFinal: boolean;
}): VariablePart {
  return {
    outcome: candidate.outcome.map((exit) => ({
      asset: exit.asset,
      allocations: exit.allocations.map((a) => ({ destination: a.destination, amount: a.amount })),
    })),
    appData: candidate.appData,
    turnNum: candidate.turnNum,
    isFinal: candidate.isFinal,
  };
}
