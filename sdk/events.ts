import type { VariablePart } from "./types.js";

/**
 * A plain `VariablePart` from the decoded arguments of a `ChallengeRegistered` event (ethers gives frozen Result
 * objects): what a counterparty needs to answer the challenge. The event carries the registered state's turnNum,
 * outcome and appData; it has no isFinal, since a registered state is never final.
 * @example const challenged = variablePartFromEvent(log.args)
 */
export function variablePartFromEvent(args: {
  outcome: { asset: string; allocations: { destination: string; amount: bigint }[] }[];
  appData: string;
  turnNum: bigint;
}): VariablePart {
  return {
    outcome: args.outcome.map((exit) => ({
      asset: exit.asset,
      allocations: exit.allocations.map((a) => ({ destination: a.destination, amount: a.amount })),
    })),
    appData: args.appData,
    turnNum: args.turnNum,
    isFinal: false,
  };
}
