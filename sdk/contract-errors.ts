import { type ErrorDescription, Interface } from "ethers";
import {
  Adjudicator__factory,
  ILedgerApp__factory,
  IVirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../typechain-types/index.js";
import { type ContractErrorCode, PiecepayError } from "./errors.js";

// Every custom error the adjudicator can revert with (its own, its libraries' such as ChannelStatusLib's
// FinalizesAtOverflow, and OpenZeppelin's such as SafeCast's and SafeERC20's) and those of the apps, whose reverts
// bubble up unchanged: the full ABIs of the contracts, not their interfaces, which list only their own. The hub's
// two apps raise only their interfaces' errors (test/ts/sdk/parity-refusals.test.ts checks it), and their interface
// factories carry no bytecode: 1.3 KB less in the browser bundle, gzipped. The apps' errors of the same name have
// the same arguments (so the same selector).
const contractErrors = new Interface([
  ...new Map(
    [
      ...Adjudicator__factory.abi,
      ...VoucherPaymentApp__factory.abi,
      ...IVirtualVoucherApp__factory.abi,
      ...ILedgerApp__factory.abi,
    ]
      .filter((f) => f.type === "error")
      .map((f) => [f.name, f] as const),
  ).values(),
]);

/**
 * A contract error's name as its code.
 * @example toContractErrorCode("NotAParticipant") // "NOT_A_PARTICIPANT"
 */
export function toContractErrorCode(errorName: string): ContractErrorCode {
  return errorName
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2") // NotAParticipant -> NOT_A_PARTICIPANT
    .toUpperCase() as ContractErrorCode;
}

/**
 * A transaction or call that a piecepay contract refused with one of its custom errors: `code` is the error's
 * name in CONSTANT_CASE (`TurnNumberTooLow` -> `TURN_NUMBER_TOO_LOW`), `args` its decoded arguments.
 * @example catch (e) { if (e instanceof ContractRevertError && e.code === "HOLDINGS_CHANGED") retry() }
 */
export class ContractRevertError extends PiecepayError<ContractErrorCode> {
  override readonly name = "ContractRevertError";

  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    cause: unknown,
  ) {
    super(toContractErrorCode(errorName), `the contract refused: ${errorName}(${args.map(String).join(", ")})`, {
      cause,
    });
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
