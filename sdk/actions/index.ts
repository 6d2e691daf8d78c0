// The SDK's actions as functions (`piecepay/sdk/actions`): each takes a `PiecepayContext` first and its parameters
// second, as `PiecepayClient`'s methods do for the context they bind. An app that uses a few of them bundles only
// those.

export {
  createPiecepayContext,
  type PiecepayContext,
  type PiecepayContextOptions,
  type PiecepayTiming,
  withChainChecked,
} from "../context/context.js";
export { type AnswerErrorType, type AnswerParameters, type AnswerReturnType, answer } from "./answer.js";
export {
  type BestStateErrorType,
  type BestStateParameters,
  type BestStateReturnType,
  bestState,
} from "./best-state.js";
export {
  type CanPayGasErrorType,
  type CanPayGasParameters,
  type CanPayGasReturnType,
  canPayGas,
} from "./can-pay-gas.js";
export {
  type ChallengeErrorType,
  type ChallengeParameters,
  type ChallengeReturnType,
  challenge,
} from "./challenge.js";
export { checkFundingNow } from "./check-funding-now.js";
export {
  type CheckpointErrorType,
  type CheckpointParameters,
  type CheckpointReturnType,
  checkpoint,
} from "./checkpoint.js";
export { type CloseErrorType, type CloseParameters, type CloseReturnType, close } from "./close.js";
export {
  type CountersignErrorType,
  type CountersignParameters,
  type CountersignReturnType,
  countersign,
} from "./countersign.js";
export { type DefendErrorType, type DefendParameters, type DefendReturnType, defend } from "./defend.js";
export {
  type FollowDepositErrorType,
  type FollowDepositParameters,
  type FollowDepositReturnType,
  followDeposit,
} from "./follow-deposit.js";
export { type FundErrorType, type FundParameters, type FundReturnType, fund } from "./fund.js";
export {
  type ChannelAcceptance,
  type JoinErrorType,
  type JoinParameters,
  type JoinReturnType,
  join,
} from "./join.js";
export { type MinChallengeDurationReturnType, minChallengeDuration } from "./min-challenge-duration.js";
export {
  type CloseOffer,
  type OfferCloseErrorType,
  type OfferCloseParameters,
  type OfferCloseReturnType,
  offerClose,
} from "./offer-close.js";
export {
  type OnChainChannel,
  type OnChainErrorType,
  type OnChainParameters,
  type OnChainReturnType,
  onChain,
} from "./on-chain.js";
export { type OpenErrorType, type OpenParameters, type OpenReturnType, open } from "./open.js";
export { type PaidErrorType, type PaidParameters, type PaidReturnType, paid } from "./paid.js";
export { type PayErrorType, type PayParameters, type PayReturnType, pay } from "./pay.js";
export { type PayoutErrorType, type PayoutParameters, type PayoutReturnType, payout } from "./payout.js";
export {
  type ChannelProposal,
  type ProposeErrorType,
  type ProposeParameters,
  type ProposeReturnType,
  propose,
} from "./propose.js";
export { type ReceiveErrorType, type ReceiveParameters, type ReceiveReturnType, receive } from "./receive.js";
export {
  type RecoverFundingErrorType,
  type RecoverFundingParameters,
  type RecoverFundingReturnType,
  recoverFunding,
} from "./recover-funding.js";
export { type RedeemErrorType, type RedeemParameters, type RedeemReturnType, redeem } from "./redeem.js";
export {
  type RegisteredStateErrorType,
  type RegisteredStateParameters,
  type RegisteredStateReturnType,
  registeredState,
} from "./registered-state.js";
export {
  type RegistrationErrorType,
  type RegistrationParameters,
  type RegistrationReturnType,
  registration,
} from "./registration.js";
export { type RespondErrorType, type RespondParameters, type RespondReturnType, respond } from "./respond.js";
export {
  type SettlementErrorType,
  type SettlementParameters,
  type SettlementReturnType,
  settlement,
} from "./settlement.js";
export {
  type SettlementInErrorType,
  type SettlementInParameters,
  type SettlementInReturnType,
  settlementIn,
} from "./settlement-in.js";
export {
  type SyncPhaseErrorType,
  type SyncPhaseParameters,
  type SyncPhaseReturnType,
  syncPhase,
} from "./sync-phase.js";
export type { ChainErrorType, ChannelErrorType, SendErrorType } from "./types.js";
export {
  type WaitForFundingErrorType,
  type WaitForFundingParameters,
  type WaitForFundingReturnType,
  waitForFunding,
} from "./wait-for-funding.js";
