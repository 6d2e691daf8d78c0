// `piecepay/sdk/hub`: what an app needs to use a hub (ADR 0021), apart from `piecepay/sdk` so that an app that pays
// only direct channels does not carry it (the universal bundle's budget). Universal too: it runs in browsers and in
// Node. `defendHubChannel` is what a ChannelWatcher takes as `defendHub` to defend ledgers and virtual channels.

export {
  applyLedgerChange,
  checkLedgerUpdate,
  type FundGuaranteeParameters,
  finalLedger,
  foldTopUp,
  fundGuarantee,
  type Guarantee,
  type LedgerBalances,
  type LedgerChange,
  type LedgerErrorCode,
  type LedgerTopUp,
  ledgerBalances,
  ledgerOutcome,
  proposeTopUp,
  type SettleGuaranteeParameters,
  settleGuarantee,
  type VirtualFunding,
} from "../ledger.js";
export { type ReclaimEffect, type ReclaimInput, reclaimEffects } from "../reclaim.js";
export {
  checkVirtualVoucher,
  checkVirtualVoucherSupported,
  feeBpsOf,
  hubFee,
  maxVirtualVoucher,
  type VirtualVoucherMove,
  virtualChannelOutcome,
  virtualNonce,
  virtualVoucherState,
} from "../virtual-voucher.js";
export { readFixedPart, readOutcome, readSignature, readSignedVariablePart, readVariablePart } from "./codec.js";
export { defendHubChannel } from "./defend-hub.js";
export {
  challengeLedger,
  challengeVirtual,
  type ExitLedgerOptions,
  type ExitLedgerReturnType,
  exitLedger,
  type OwedOutcome,
  type ReclaimGuaranteeReturnType,
  reclaimGuarantee,
} from "./exit.js";
export {
  HubConnection,
  type HubInfo,
  type ProposalOutcome,
  type VirtualProposal,
} from "./hub-connection.js";
export { loginSigner, loginText, signLogin } from "./login.js";
export {
  encodeHubJson,
  HUB_API_VERSION,
  HUB_ERROR_REASONS,
  HubError,
  type HubErrorReason,
  readField,
} from "./protocol.js";
export { HubRpcClient } from "./rpc-client.js";
