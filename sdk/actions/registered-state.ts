import type { PiecepayContext } from "../context/types.js";
import type { VariablePart } from "../types.js";
import { type RegistrationErrorType, type RegistrationParameters, registration } from "./registration.js";

export type RegisteredStateParameters = RegistrationParameters;
export type RegisteredStateReturnType = VariablePart;
export type RegisteredStateErrorType = RegistrationErrorType;

/**
 * The state registered on chain for a channel (see `registration`).
 * @throws PiecepayError REGISTERED_STATE_UNKNOWN
 * @example const registered = await registeredState(context, { channelId })
 */
export async function registeredState(
  context: PiecepayContext,
  params: RegisteredStateParameters,
): Promise<RegisteredStateReturnType> {
  return (await registration(context, params)).variablePart;
}
