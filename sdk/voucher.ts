import { keccak_256 } from "@noble/hashes/sha3.js";
import {
  concat,
  dataLength,
  dataSlice,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  type Signer,
  toBeHex,
  toUtf8Bytes,
  zeroPadValue,
} from "ethers";
import { PiecepayError, VoucherError } from "./errors.js";
import { recoverPersonalSignerBytes } from "./recover.js";

const VOUCHER_TYPEHASH = keccak256(toUtf8Bytes("piecepay.Voucher(bytes32 channelId,uint256 amount)"));

/**
 * Bytes of an encoded voucher: a 32-byte amount and a 65-byte signature.
 * @example if (dataLength(appData) !== VOUCHER_LENGTH) throw new Error("not a voucher")
 */
export const VOUCHER_LENGTH = 97;

/** A payer's signed promise of a cumulative amount to a channel's payee. */
export interface Voucher {
  channelId: string;
  amount: bigint;
  signature: string;
}

/**
 * The hash that the payer signs for a voucher: keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, amount)).
 * @example voucherHash(id, 1_000n)
 */
export function voucherHash(id: string, amount: bigint): string {
  return hexlify(voucherDigest(getBytes(id), amount));
}

const TYPEHASH_BYTES = getBytes(VOUCHER_TYPEHASH);

/** `voucherHash` on bytes, for the hot path: no ABI coder, no hex strings. */
function voucherDigest(id: Uint8Array, amount: bigint): Uint8Array {
  if (id.length !== 32) throw new PiecepayError("INVALID_ENCODING", "a channel id has 32 bytes");
  const encoded = new Uint8Array(96);
  encoded.set(TYPEHASH_BYTES);
  encoded.set(id, 32);
  let rest = amount;
  for (let i = 95; i >= 64 && rest > 0n; i--) {
    encoded[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return keccak_256(encoded);
}

/**
 * Signs a voucher with the payer's signer (EIP-191 personal signature over the voucher hash).
 * @example const voucher = await signVoucher(payerSigner, id, 1_000n)
 */
export async function signVoucher(signer: Signer, id: string, amount: bigint): Promise<Voucher> {
  const signature = await signer.signMessage(getBytes(voucherHash(id, amount)));
  return { channelId: id, amount, signature };
}

/**
 * The voucher as a state's appData: abi.encodePacked(uint256 amount, bytes65 signature).
 * @example encodeVoucher(voucher)
 */
export function encodeVoucher(voucher: Pick<Voucher, "amount" | "signature">): string {
  if (dataLength(voucher.signature) !== 65)
    throw new PiecepayError("INVALID_ENCODING", "a voucher signature has 65 bytes");
  return concat([zeroPadValue(toBeHex(voucher.amount), 32), voucher.signature]);
}

/**
 * Reads the amount and signature from a voucher state's appData.
 * @example decodeVoucher(state.appData).amount
 */
export function decodeVoucher(appData: string): { amount: bigint; signature: string } {
  if (dataLength(appData) !== VOUCHER_LENGTH)
    throw new PiecepayError("INVALID_ENCODING", `a voucher has ${VOUCHER_LENGTH} bytes`);
  return { amount: BigInt(dataSlice(appData, 0, 32)), signature: dataSlice(appData, 32) };
}

/** What a payee knows when a voucher arrives. */
export interface VoucherContext {
  /** The channel the voucher must be for (its id binds the chain id and the adjudicator's address). */
  channelId: string;
  /** The channel's payer: the only account whose vouchers count. */
  payer: string;
  /** What the payer has deposited into the channel: no voucher may promise more. */
  deposited: bigint;
  /** The largest amount already credited on this channel (0 before the first voucher). */
  best: bigint;
}

/** A voucher that checked out, and how much it adds to what was already credited. */
export interface VerifiedVoucher {
  voucher: Voucher;
  /** `amount - best`; 0 for a replayed or older voucher, which credits nothing. */
  delta: bigint;
}

/**
 * Checks a received voucher against its channel: the right channel, signed by the payer (low-s, v 27/28), and not
 * above the deposit. A voucher not larger than `best` is valid but credits nothing (`delta` 0).
 * @throws VoucherError with code VOUCHER_MALFORMED, VOUCHER_WRONG_CHANNEL, VOUCHER_WRONG_SIGNER or VOUCHER_EXCEEDS_DEPOSIT
 * @example const { delta } = verifyVoucher(voucher, { channelId: id, payer, deposited: 10n ** 18n, best: 0n })
 */
export function verifyVoucher(voucher: Voucher, context: VoucherContext): VerifiedVoucher {
  if (typeof voucher.amount !== "bigint" || voucher.amount < 0n || voucher.amount >= 2n ** 256n) {
    throw new VoucherError("VOUCHER_MALFORMED", "the voucher's amount is not a uint256");
  }
  if (typeof voucher.channelId !== "string" || voucher.channelId.toLowerCase() !== context.channelId.toLowerCase()) {
    throw new VoucherError(
      "VOUCHER_WRONG_CHANNEL",
      `the voucher is for channel ${voucher.channelId}, not ${context.channelId}`,
    );
  }
  let signer: Uint8Array | undefined;
  try {
    const digest = voucherDigest(getBytes(context.channelId), voucher.amount);
    signer = recoverPersonalSignerBytes(digest, getBytes(voucher.signature));
  } catch {
    signer = undefined;
  }
  if (signer === undefined) {
    throw new VoucherError("VOUCHER_MALFORMED", "the voucher's signature is not a valid 65-byte low-s signature");
  }
  if (hexlify(signer) !== context.payer.toLowerCase()) {
    const by = getAddress(hexlify(signer));
    throw new VoucherError("VOUCHER_WRONG_SIGNER", `the voucher is signed by ${by}, not by the payer ${context.payer}`);
  }
  if (voucher.amount > context.deposited) {
    throw new VoucherError(
      "VOUCHER_EXCEEDS_DEPOSIT",
      `the voucher promises ${voucher.amount} but the payer deposited ${context.deposited}`,
    );
  }
  return { voucher, delta: voucher.amount > context.best ? voucher.amount - context.best : 0n };
}

/**
 * Signs the next voucher of a channel we pay into: the cumulative `amount` must be above the last one we signed
 * (`previous`) and not above what we deposited, so a bug upstream can never promise more than the channel holds.
 * @throws VoucherError with code VOUCHER_NOT_INCREASING or VOUCHER_EXCEEDS_DEPOSIT
 * @example const voucher = await createVoucher(payer, { channelId: id, deposited: budget, previous: 0n }, price)
 */
export async function createVoucher(
  signer: Signer,
  context: { channelId: string; deposited: bigint; previous: bigint },
  amount: bigint,
): Promise<Voucher> {
  if (amount <= context.previous) {
    throw new VoucherError("VOUCHER_NOT_INCREASING", `a new voucher must exceed the last one (${context.previous})`);
  }
  if (amount > context.deposited) {
    throw new VoucherError("VOUCHER_EXCEEDS_DEPOSIT", `${amount} is more than the ${context.deposited} deposited`);
  }
  return signVoucher(signer, context.channelId, amount);
}
