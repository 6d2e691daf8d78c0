/**
 * The base of every error the SDK throws on purpose: a stable `code` to branch on, a one-line `shortMessage`
 * for people, and the `cause` (a contract revert, an RPC error) when there is one.
 * @example try { verifyVoucher(v, ctx) } catch (e) { if (e instanceof PiecepayError && e.code === "VOUCHER_WRONG_SIGNER") drop(peer) }
 */
export class PiecepayError<Code extends string = PiecepayErrorCode> extends Error {
  override readonly name: string = "PiecepayError";

  constructor(
    readonly code: Code,
    readonly shortMessage: string,
    options: { cause?: unknown; details?: string } = {},
  ) {
    super(options.details ? `${shortMessage}\n\n${options.details}` : shortMessage, { cause: options.cause });
  }
}

/** Every code a `PiecepayError` can carry: the SDK's own, a voucher's, and each contract error's name. */
export type PiecepayErrorCode = SdkErrorCode | VoucherErrorCode | ContractErrorCode;

/**
 * Codes of the SDK's own errors (bad input, the chain or the RPC saying no, a store that cannot be used).
 * @example if ((SDK_ERROR_CODES as readonly string[]).includes(e.code)) reportToUser(e.shortMessage)
 */
export const SDK_ERROR_CODES = [
  "ABI_MISMATCH",
  "CHALLENGE_DURATION_TOO_SHORT",
  "CHANNEL_NOT_OPEN",
  "DEPOSIT_REMOVED",
  "EXIT_ABORTED",
  "FUNDING_ABORTED",
  "FUNDING_ALREADY_AWAITED",
  "FUNDING_TIMEOUT",
  "GUARANTEES_LIVE",
  "GUARANTEE_ABOVE_FREE_BALANCE",
  "GUARANTEE_ALREADY_FUNDED",
  "GUARANTEE_INVALID",
  "GUARANTEE_NOT_FOUND",
  "HUB_REFUSED",
  "INSUFFICIENT_FUNDS",
  "INVALID_ACCEPTANCE",
  "INVALID_CLOSE_AMOUNT",
  "INVALID_CLOSE_OFFER",
  "INVALID_CONFIRMATIONS",
  "INVALID_DEPOSIT",
  "INVALID_ENCODING",
  "INVALID_FEE",
  "INVALID_NONCE",
  "INVALID_PROPOSAL",
  "KEYSTORE_INVALID",
  "KEYSTORE_NOT_FOUND",
  "LEDGER_ALLOCATIONS_CHANGED",
  "LEDGER_APP_DATA_NOT_EMPTY",
  "LEDGER_ASSET_CHANGED",
  "LEDGER_FINALITY_CHANGED",
  "LEDGER_IS_FINAL",
  "LEDGER_MALFORMED",
  "LEDGER_TOTAL_CHANGED",
  "LEDGER_TURN_NOT_NEXT",
  "LEDGER_UNEXPECTED_GUARANTEE",
  "NATIVE_BACKEND_UNAVAILABLE",
  "NOTHING_HELD",
  "NOTHING_OWED",
  "NOTHING_TO_ANSWER_WITH",
  "NOT_A_LEDGER",
  "NOT_A_TOKEN",
  "NOT_A_VIRTUAL",
  "NOT_DEPLOYED",
  "NOT_ENFORCEABLE",
  "NOT_FINALIZED",
  "NOT_PAYEE",
  "NOT_PAYER",
  "NO_PROVIDER",
  "NO_SUPPORTED_STATE",
  "NO_TOP_UP",
  "PAYER_NOT_GUARANTEED",
  "REGISTERED_STATE_UNKNOWN",
  "RPC_UNAVAILABLE",
  "SETTLEMENT_ABOVE_VOUCHERS",
  "SETTLEMENT_BELOW_VOUCHERS",
  "STATUS_FIELD_OUT_OF_RANGE",
  "STORE_NEWER_SCHEMA",
  "STORE_UNAVAILABLE",
  "TOP_UP_INVALID",
  "TOP_UP_PENDING",
  "TX_DROPPED",
  "UNKNOWN_CHANNEL",
  "USER_REJECTED",
  "VIRTUAL_FUNDING_MISMATCH",
  "VIRTUAL_NOT_SUPPORTED",
  "WEAK_PASSWORD",
  "WRONG_CHAIN",
  "WRONG_PASSWORD",
] as const;
export type SdkErrorCode = (typeof SDK_ERROR_CODES)[number];

/**
 * The custom errors of the adjudicator (with the libraries and OpenZeppelin code it runs) and of the apps (voucher,
 * virtual voucher, ledger), in CONSTANT_CASE (`TurnNumberTooLow` -> `TURN_NUMBER_TOO_LOW`); a test checks this list
 * against their full ABIs.
 * @example const refusedOnChain = (CONTRACT_ERROR_CODES as readonly string[]).includes(e.code)
 */
export const CONTRACT_ERROR_CODES = [
  "AMOUNT_OVERFLOW",
  "ASSET_MISMATCH",
  "BASE_IS_FINAL",
  "BASE_NOT_SIGNED_BY_ALL",
  "BASE_NOT_SIGNED_BY_BOTH",
  "CHALLENGE_ONGOING",
  "CHANNEL_FINALIZED",
  "CHANNEL_NOT_FINALIZED",
  "DEPOSIT_TO_EXTERNAL_DESTINATION",
  "ETH_COMMITTED",
  "ETH_PAYOUT_FAILED",
  "ETH_SENT_WITH_TOKEN_DEPOSIT",
  "FEE_TOO_HIGH",
  "FINALIZES_AT_OVERFLOW",
  "FINGERPRINT_MISMATCH",
  "GUARANTEE_NOT_PAYABLE",
  "GUARANTEE_TARGET_MISMATCH",
  "HOLDINGS_CHANGED",
  "INCORRECT_ETH_AMOUNT",
  "INVALID_ALLOCATION_INDEX",
  "INVALID_ASSET_INDEX",
  "INVALID_CHALLENGER_SIGNATURE",
  "INVALID_PARTICIPANT_COUNT",
  "INVALID_SIGNATURE",
  "INVALID_SIGNED_BY",
  "INVALID_VOUCHER_SIGNATURE",
  "LEDGER_NEEDS_ALL_SIGNATURES",
  "MALFORMED_VOUCHER",
  "NOTHING_TO_RECLAIM",
  "NOT_A_LEDGER_OUTCOME",
  "NOT_A_PARTICIPANT",
  "NOT_A_VIRTUAL_CHANNEL",
  "NOT_GUARANTEE_PARTIES",
  "NOT_SIGNED_BY_PAYEE",
  "NOT_THREE_PARTICIPANTS",
  "NOT_TWO_PARTICIPANTS",
  "NOT_UNANIMOUS",
  "NO_ONGOING_CHALLENGE",
  "OUTCOME_NOT_THREE_PARTY_ONE_ASSET",
  "OUTCOME_NOT_TWO_PARTY_ONE_ASSET",
  "OUTCOME_NOT_VOUCHER_MOVE",
  "PROOF_LENGTH_NOT_ONE",
  "REENTRANCY_GUARD_REENTRANT_CALL",
  "SAFE_CAST_OVERFLOWED_UINT_DOWNCAST",
  "SAFE_ERC20_FAILED_OPERATION",
  "SIGNATURE_COUNT_MISMATCH",
  "STATE_IS_FINAL",
  "STATE_NOT_FINAL",
  "TOKEN_BALANCE_MISMATCH",
  "TURN_NUMBER_NOT_AFTER_BASE",
  "TURN_NUMBER_NOT_NEXT",
  "TURN_NUMBER_TOO_LOW",
  "VOUCHER_AMOUNT_DECREASED",
  "VOUCHER_EXCEEDS_DEPOSIT",
  "VOUCHER_STATE_IS_FINAL",
  "WRONG_CHANNEL_ID",
  "ZERO_DEPOSIT",
] as const;
export type ContractErrorCode = (typeof CONTRACT_ERROR_CODES)[number];

/**
 * The wallet (or the RPC) is on another chain than the client's: nothing is signed or sent. `expected` is the
 * client's chain id, `actual` the one the wallet or RPC reported.
 * @example if (e instanceof WrongChainError) askToSwitch(e.expected) // wallet_switchEthereumChain
 */
export class WrongChainError extends PiecepayError<"WRONG_CHAIN"> {
  override readonly name = "WrongChainError";

  constructor(
    readonly expected: bigint,
    readonly actual: bigint,
    what: string,
    options: { cause?: unknown } = {},
  ) {
    super("WRONG_CHAIN", `${what} is on chain ${actual}, not ${expected}: refusing to sign or send`, options);
  }
}

/**
 * An account cannot pay what a transaction needs, found before it is sent: `held` and `needed` in wei of `asset`
 * (the zero address for ETH), `needed` counting the gas at the current fee when the asset is ETH.
 * @example if (e instanceof InsufficientFundsError) show(`send ${e.needed - e.held} wei to ${e.account}`)
 */
export class InsufficientFundsError extends PiecepayError<"INSUFFICIENT_FUNDS"> {
  override readonly name = "InsufficientFundsError";

  constructor(
    readonly account: string,
    readonly asset: string,
    readonly held: bigint,
    readonly needed: bigint,
    shortMessage: string,
    details: string,
  ) {
    super("INSUFFICIENT_FUNDS", shortMessage, { details });
  }
}

/** Codes of `VoucherError`. */
export type VoucherErrorCode =
  | "VOUCHER_MALFORMED"
  | "VOUCHER_WRONG_CHANNEL"
  | "VOUCHER_WRONG_SIGNER"
  | "VOUCHER_EXCEEDS_DEPOSIT"
  | "VOUCHER_NOT_INCREASING";

/**
 * A voucher that must not be credited: malformed, for another channel (so another chain or deployment),
 * signed by someone other than the channel's payer, or above what the payer deposited.
 * @example if (e instanceof VoucherError && e.code === "VOUCHER_EXCEEDS_DEPOSIT") askForDeposit()
 */
export class VoucherError extends PiecepayError<VoucherErrorCode> {
  override readonly name = "VoucherError";

  constructor(code: VoucherErrorCode, shortMessage: string) {
    super(code, shortMessage);
  }
}

/** The custom errors of IVirtualVoucherApp.sol, by name: what `VirtualVoucherError.errorName` holds. */
export type VirtualVoucherAppError =
  | "NotThreeParticipants"
  | "FeeTooHigh"
  | "ProofLengthNotOne"
  | "BaseNotSignedByAll"
  | "TurnNumberNotAfterBase"
  | "NotSignedByPayee"
  | "VoucherStateIsFinal"
  | "BaseIsFinal"
  | "MalformedVoucher"
  | "VoucherAmountDecreased"
  | "VoucherExceedsDeposit"
  | "OutcomeNotThreePartyOneAsset"
  | "OutcomeNotVoucherMove"
  | "InvalidVoucherSignature";

/** Each name's code, as `toContractErrorCode` spells it (typed: every one is a contract error's code). */
const VIRTUAL_VOUCHER_CODES: Record<VirtualVoucherAppError, ContractErrorCode> = {
  NotThreeParticipants: "NOT_THREE_PARTICIPANTS",
  FeeTooHigh: "FEE_TOO_HIGH",
  ProofLengthNotOne: "PROOF_LENGTH_NOT_ONE",
  BaseNotSignedByAll: "BASE_NOT_SIGNED_BY_ALL",
  TurnNumberNotAfterBase: "TURN_NUMBER_NOT_AFTER_BASE",
  NotSignedByPayee: "NOT_SIGNED_BY_PAYEE",
  VoucherStateIsFinal: "VOUCHER_STATE_IS_FINAL",
  BaseIsFinal: "BASE_IS_FINAL",
  MalformedVoucher: "MALFORMED_VOUCHER",
  VoucherAmountDecreased: "VOUCHER_AMOUNT_DECREASED",
  VoucherExceedsDeposit: "VOUCHER_EXCEEDS_DEPOSIT",
  OutcomeNotThreePartyOneAsset: "OUTCOME_NOT_THREE_PARTY_ONE_ASSET",
  OutcomeNotVoucherMove: "OUTCOME_NOT_VOUCHER_MOVE",
  InvalidVoucherSignature: "INVALID_VOUCHER_SIGNATURE",
};

/**
 * A virtual channel's voucher state that VirtualVoucherApp would refuse, found off chain by its mirror
 * (`checkVirtualVoucher`): `errorName` and `args` are the custom error and arguments the app reverts with, `code`
 * the same CONSTANT_CASE code a `ContractRevertError` of that revert carries.
 * @example catch (e) { if (e instanceof VirtualVoucherError && e.errorName === "VoucherExceedsDeposit") stopServing() }
 */
export class VirtualVoucherError extends PiecepayError<ContractErrorCode> {
  override readonly name = "VirtualVoucherError";

  constructor(
    readonly errorName: VirtualVoucherAppError,
    readonly args: readonly unknown[],
    shortMessage: string,
  ) {
    super(VIRTUAL_VOUCHER_CODES[errorName], `${errorName}: ${shortMessage}`);
  }
}
