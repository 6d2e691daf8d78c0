import { type ErrorDescription, Interface } from "ethers";
import { IAdjudicator__factory, IVoucherPaymentApp__factory } from "../typechain-types/index.js";
import { PiecepayError } from "./errors.js";

// The adjudicator's custom errors and those of the apps it calls (their reverts bubble up unchanged), decoded
// through the ABI so that a caller branches on a stable code instead of parsing revert data.
const contractErrors = new Interface([
  ...IAdjudicator__factory.createInterface().fragments.filter((f) => f.type === "error"),
  ...IVoucherPaymentApp__factory.createInterface().fragments.filter((f) => f.type === "error"),
  // OpenZeppelin's, raised by the adjudicator through SafeERC20 and ReentrancyGuardTransient
  "error SafeERC20FailedOperation(address token)",
  "error ReentrancyGuardReentrantCall()",
]);

/** `TurnNumberTooLow` -> `TURN_NUMBER_TOO_LOW`. */
function toCode(errorName: string): string {
  return errorName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * A transaction or call that a piecepay contract refused with one of its custom errors: `code` is the error's
 * name in CONSTANT_CASE (`TurnNumberTooLow` -> `TURN_NUMBER_TOO_LOW`), `args` its decoded arguments.
 * @example catch (e) { if (e instanceof ContractRevertError && e.code === "HOLDINGS_CHANGED") retry() }
 */
export class ContractRevertError extends PiecepayError {
  override readonly name = "ContractRevertError";

  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    cause: unknown,
  ) {
    super(toCode(errorName), `the contract refused: ${errorName}(${args.map(String).join(", ")})`, { cause });
  }
}

function revertData(error: unknown): string | undefined {
  // ethers puts the revert data on CALL_EXCEPTION errors; some providers nest it in info.error.data.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) return data;
    if (data !== null && typeof data === "object" && typeof (data as { data?: unknown }).data === "string") {
      return (data as { data: string }).data;
    }
    const next = current as { info?: { error?: unknown }; error?: unknown; cause?: unknown };
    current = next.info?.error ?? next.error ?? next.cause;
  }
  return undefined;
}

/**
 * Turns an error thrown by a contract call into a `ContractRevertError` when it carries a piecepay custom error;
 * otherwise returns it unchanged.
 * @example try { await tx } catch (e) { throw decodeContractError(e) }
 */
export function decodeContractError(error: unknown): unknown {
  if (error instanceof PiecepayError) return error;
  const data = revertData(error);
  if (data === undefined) return error;
  let parsed: ErrorDescription | null = null;
  try {
    parsed = contractErrors.parseError(data);
  } catch {
    parsed = null;
  }
  if (parsed === null) return error;
  return new ContractRevertError(parsed.name, [...parsed.args], error);
}
