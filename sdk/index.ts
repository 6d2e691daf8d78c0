// The SDK's universal entry point (`piecepay/sdk`): it loads in a browser as in Node, so nothing in its import graph
// touches `node:*` or Hardhat (test/ts/browser/bundle.test.ts bundles it for the browser to make sure). What only
// Node has (the SQLite store, the keystore on disk, libsecp256k1) is in sdk/node.ts (`piecepay/sdk/node`).
export { adjudicatorInterface, fixedPartType, outcomeType, signedVariablePartType, variablePartType } from "./abi.js";
export { checksumAddress } from "./address.js";
export { type AssetInfo, assetBalance, describeAsset, ETH_ASSET } from "./asset.js";
export {
  abiChannelId,
  abiStateHash,
  challengeHash,
  channelId,
  isExternalDestination,
  outcomeHash,
  stateHash,
  toDestination,
} from "./channel.js";
export {
  type ChannelAcceptance,
  type ChannelProposal,
  type CloseOffer,
  fundingState,
  type OnChainChannel,
  PiecepayClient,
  type PiecepayClientOptions,
  splitOutcome,
} from "./client.js";
export { defaultConfirmations, LOCAL_DEV_CHAINS, TESTNETS } from "./confirmations.js";
export type { PiecepayContext, PiecepayContextOptions } from "./context/types.js";
export { ContractRevertError, decodeContractError, toContractErrorCode } from "./contract-errors.js";
export {
  CONTRACT_ERROR_CODES,
  type ContractErrorCode,
  InsufficientFundsError,
  PiecepayError,
  type PiecepayErrorCode,
  SDK_ERROR_CODES,
  type SdkErrorCode,
  type VirtualVoucherAppError,
  VirtualVoucherError,
  VoucherError,
  type VoucherErrorCode,
  WrongChainError,
} from "./errors.js";
export { variablePartFromEvent } from "./events.js";
export { gasSpentSince } from "./gas.js";
export { computePayouts, type PayoutResult } from "./payouts.js";
export { recoverPersonalSigner, signatureBackend, useSignatureBackend } from "./recover.js";
export {
  committedEthCandidates,
  findRegistration,
  matchRegistration,
  NO_REGISTRATION,
  type RegisteredState,
  type Registration,
  readEthHoldings,
  registrationOf,
} from "./registration.js";
export { RetryingJsonRpcProvider, type RpcOutageEvent, type RpcRetryOptions } from "./rpc-retry.js";
export { destinationsOf, type Settlement, settlementOf } from "./settlement.js";
export { signBy, signChallenge, signState, toSigned } from "./signatures.js";
export { type ChannelStatus, fingerprint, packStatus, unpackStatus } from "./status.js";
export { IndexedDbChannelStore } from "./store/indexeddb.js";
export { fromJson, toJson } from "./store/json.js";
export { MemoryChannelStore } from "./store/memory.js";
export type { ChannelPhase, ChannelRecord, ChannelStore, VoucherDirection } from "./store/types.js";
export type { Allocation, FixedPart, Outcome, SignedVariablePart, SingleAssetExit, VariablePart } from "./types.js";
export {
  createVoucher,
  decodeVoucher,
  encodeVoucher,
  signVoucher,
  type VerifiedVoucher,
  VOUCHER_LENGTH,
  type Voucher,
  type VoucherContext,
  verifyVoucher,
  voucherHash,
} from "./voucher.js";
export { type VoucherAppError, voucherMoveError, voucherStateSupportError } from "./voucher-app.js";
export { rejectionError, SESSION_KEY_SECRET, sessionKey, walletFromEip1193 } from "./wallet.js";
export { ChannelWatcher, type ScanReport, type WatcherOptions } from "./watcher.js";
