import { AbiCoder, keccak256, toUtf8Bytes, zeroPadValue } from "ethers";
import { fixedPartFieldTypes, isFinalType, outcomeType, turnNumType } from "./abi.js";
import { checksumAddress as getAddress } from "./address.js";
import type { FixedPart, Outcome, VariablePart } from "./types.js";

const coder = AbiCoder.defaultAbiCoder();

/** Encoders of the same bytes without ethers' ABI coder (installStateEncoders). */
export interface StateEncoders {
  channelId: typeof abiChannelId;
  stateHash: typeof abiStateHash;
}

let encoders: StateEncoders | undefined;

/**
 * Has `channelId` and `stateHash` use `faster` instead of the ABI coder: the Node entry point installs its own on
 * import (state-signer.ts), which are held equal to abiChannelId and abiStateHash in its tests. They must fall back
 * to the abi* functions, never to channelId or stateHash.
 * @example installStateEncoders({ channelId: fastChannelId, stateHash: fastStateHash })
 */
export function installStateEncoders(faster: StateEncoders | undefined): void {
  encoders = faster;
}

/**
 * The id of a channel: binds the chain id, the adjudicator's address and the fixed part.
 * @example channelId(31337n, adjudicatorAddress, { participants: [payer, payee], channelNonce: 1n, appDefinition, challengeDuration: 3600n })
 */
export function channelId(chainId: bigint, adjudicator: string, fixedPart: FixedPart): string {
  return encoders === undefined
    ? abiChannelId(chainId, adjudicator, fixedPart)
    : encoders.channelId(chainId, adjudicator, fixedPart);
}

/**
 * channelId through ethers' ABI coder: the reference, in every environment.
 * @example abiChannelId(31337n, adjudicatorAddress, fixedPart) === channelId(31337n, adjudicatorAddress, fixedPart)
 */
export function abiChannelId(chainId: bigint, adjudicator: string, fixedPart: FixedPart): string {
  return keccak256(
    coder.encode(
      ["uint256", "address", ...fixedPartFieldTypes],
      [
        chainId,
        adjudicator,
        fixedPart.participants,
        fixedPart.channelNonce,
        fixedPart.appDefinition,
        fixedPart.challengeDuration,
      ],
    ),
  );
}

/**
 * keccak256 of the ABI encoding of an outcome.
 * @example outcomeHash([{ asset: ZeroAddress, allocations: [{ destination: toDestination(payer), amount: 10n }] }])
 */
export function outcomeHash(outcome: Outcome): string {
  return keccak256(coder.encode([outcomeType], [outcome]));
}

/**
 * The hash that participants sign for a state of channel `id`.
 * @example stateHash(id, { outcome, appData: "0x", turnNum: 0n, isFinal: false })
 */
export function stateHash(id: string, variablePart: VariablePart): string {
  return encoders === undefined ? abiStateHash(id, variablePart) : encoders.stateHash(id, variablePart);
}

/**
 * stateHash through ethers' ABI coder: the reference, in every environment.
 * @example abiStateHash(id, variablePart) === stateHash(id, variablePart)
 */
export function abiStateHash(id: string, variablePart: VariablePart): string {
  return keccak256(
    coder.encode(
      ["bytes32", turnNumType, isFinalType, "bytes32", "bytes32"],
      [
        id,
        variablePart.turnNum,
        variablePart.isFinal,
        keccak256(variablePart.appData),
        outcomeHash(variablePart.outcome),
      ],
    ),
  );
}

const CHALLENGE_TYPEHASH = keccak256(toUtf8Bytes("piecepay.Challenge(bytes32 stateHash)"));

/**
 * The hash a participant signs so that another account (a watchtower) may challenge with `stateHash` for it.
 * @example challengeHash(stateHash(id, variablePart))
 */
export function challengeHash(hashOfState: string): string {
  return keccak256(coder.encode(["bytes32", "bytes32"], [CHALLENGE_TYPEHASH, hashOfState]));
}

/**
 * The 32-byte destination of an external address in an allocation.
 * @example toDestination("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
 */
export function toDestination(address: string): string {
  return zeroPadValue(getAddress(address), 32).toLowerCase();
}

/**
 * Whether a destination is an external address (top 96 bits zero) rather than a channel id.
 * @example isExternalDestination(toDestination(payee)) // true
 */
export function isExternalDestination(destination: string): boolean {
  return BigInt(destination) >> 160n === 0n;
}
