// Error types that many actions share. Each action's `<Name>ErrorType` is a union of these and its own codes, so
// that `catch (e) { const error = e as PayErrorType; switch (error.code) ... }` is checked by the compiler.
import type { ContractRevertError } from "../contract-errors.js";
import type { InsufficientFundsError, PiecepayError, WrongChainError } from "../errors.js";

/** The chain check failed: the wallet (or RPC) is on another chain, cannot be reached, or has no provider. */
export type ChainErrorType = WrongChainError | PiecepayError<"WRONG_CHAIN" | "RPC_UNAVAILABLE" | "NO_PROVIDER">;

/** The store could not be read or written, or holds no such channel. */
export type ChannelErrorType = PiecepayError<"UNKNOWN_CHANNEL" | "STORE_UNAVAILABLE">;

/** A transaction was not made: refused by the user, short of funds, dropped, or reverted by a contract. */
export type SendErrorType =
  | ChainErrorType
  | InsufficientFundsError
  | PiecepayError<"USER_REJECTED" | "TX_DROPPED">
  | ContractRevertError;
