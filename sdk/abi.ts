import type { ParamType } from "ethers";
import { IAdjudicator__factory } from "../typechain-types/index.js";
import { PiecepayError } from "./errors.js";

// Every encoding the SDK hashes takes its types from the contracts' ABI, never from hand-written type strings.

/**
 * The adjudicator's interface, for decoding its custom errors and events.
 * @example adjudicatorInterface.parseLog(log)?.name // "ChallengeRegistered"
 */
export const adjudicatorInterface = IAdjudicator__factory.createInterface();

function inputsOf(name: "challenge"): readonly ParamType[] {
  const fragment = adjudicatorInterface.getFunction(name);
  if (fragment === null) throw new PiecepayError("ABI_MISMATCH", `IAdjudicator ABI has no function ${name}`);
  return fragment.inputs;
}

function component(tuple: ParamType, name: string): ParamType {
  const found = tuple.components?.find((c) => c.name === name);
  if (found === undefined) throw new PiecepayError("ABI_MISMATCH", `ABI tuple ${tuple.type} has no component ${name}`);
  return found;
}

/**
 * The ABI type of `FixedPart`.
 * @example AbiCoder.defaultAbiCoder().encode([fixedPartType], [fixedPart])
 */
export const fixedPartType: ParamType = inputsOf("challenge")[0];
/**
 * The ABI type of `SignedVariablePart`.
 * @example AbiCoder.defaultAbiCoder().encode([signedVariablePartType], [signed])
 */
export const signedVariablePartType: ParamType = inputsOf("challenge")[2];
/**
 * The ABI type of `VariablePart`.
 * @example AbiCoder.defaultAbiCoder().encode([variablePartType], [variablePart])
 */
export const variablePartType: ParamType = component(signedVariablePartType, "variablePart");
/**
 * The ABI type of an outcome, `SingleAssetExit[]`.
 * @example AbiCoder.defaultAbiCoder().encode([outcomeType], [outcome])
 */
export const outcomeType: ParamType = component(variablePartType, "outcome");
/** The ABI types of the fields of `FixedPart`, in order. */
export const fixedPartFieldTypes: readonly ParamType[] = fixedPartType.components ?? [];
/** The ABI type of a turn number. */
export const turnNumType: ParamType = component(variablePartType, "turnNum");
/** The ABI type of `isFinal`. */
export const isFinalType: ParamType = component(variablePartType, "isFinal");
