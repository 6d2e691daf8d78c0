// The SDK's one entry point. Issue 2 provides the pure mirror of the Solidity encodings; actions, store and
// watcher follow in the SDK issue.
export { adjudicatorInterface, fixedPartType, outcomeType, signedVariablePartType, variablePartType } from "./abi.js";
export { challengeHash, channelId, isExternalDestination, outcomeHash, stateHash, toDestination } from "./channel.js";
export { computePayouts, type PayoutResult } from "./payouts.js";
export { signBy, signChallenge, signState, toSigned } from "./signatures.js";
export { type ChannelStatus, fingerprint, packStatus, unpackStatus } from "./status.js";
export type { Allocation, FixedPart, Outcome, SignedVariablePart, SingleAssetExit, VariablePart } from "./types.js";
export { PiecepayError, VoucherError, type VoucherErrorCode } from "./errors.js";
export { recoverPersonalSigner, signatureBackend, useSignatureBackend } from "./recover.js";
export { SqliteChannelStore } from "./store/sqlite.js";
export type { ChannelPhase, ChannelRecord, ChannelStore, VoucherDirection } from "./store/types.js";
export {
  createVoucher,
  decodeVoucher,
  encodeVoucher,
  signVoucher,
  VOUCHER_LENGTH,
  type VerifiedVoucher,
  type Voucher,
  type VoucherContext,
  verifyVoucher,
  voucherHash,
} from "./voucher.js";
