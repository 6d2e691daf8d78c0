/** The fixed part of a channel's state (mirrors `FixedPart` in ChannelTypes.sol). */
export interface FixedPart {
  participants: string[];
  channelNonce: bigint;
  appDefinition: string;
  challengeDuration: bigint;
}

/** One payee of one asset: `destination` is a left-padded address or another channel's id. */
export interface Allocation {
  destination: string;
  amount: bigint;
}

/** The allocations of one asset; `asset` is the zero address for ETH. */
export interface SingleAssetExit {
  asset: string;
  allocations: Allocation[];
}

/** An outcome: one exit per asset. */
export type Outcome = SingleAssetExit[];

/** The part of a state that changes from turn to turn (mirrors `VariablePart`). */
export interface VariablePart {
  outcome: Outcome;
  appData: string;
  turnNum: bigint;
  isFinal: boolean;
}

/** A variable part with its signatures: bit i of `signedBy` is participant i; `sigs` in ascending order. */
export interface SignedVariablePart {
  variablePart: VariablePart;
  signedBy: bigint;
  sigs: string[];
}
