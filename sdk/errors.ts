/**
 * The base of every error the SDK throws on purpose: a stable `code` to branch on, a one-line `shortMessage`
 * for people, and the `cause` (a contract revert, an RPC error) when there is one.
 * @example try { verifyVoucher(v, ctx) } catch (e) { if (e instanceof PiecepayError && e.code === "VOUCHER_WRONG_SIGNER") drop(peer) }
 */
export class PiecepayError extends Error {
  override readonly name: string = "PiecepayError";

  constructor(
    readonly code: string,
    readonly shortMessage: string,
    options: { cause?: unknown; details?: string } = {},
  ) {
    super(options.details ? `${shortMessage}\n\n${options.details}` : shortMessage, { cause: options.cause });
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
export class VoucherError extends PiecepayError {
  override readonly name = "VoucherError";
  declare readonly code: VoucherErrorCode;

  constructor(code: VoucherErrorCode, shortMessage: string) {
    super(code, shortMessage);
  }
}
