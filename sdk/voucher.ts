import {
  AbiCoder,
  concat,
  dataLength,
  dataSlice,
  getBytes,
  keccak256,
  type Signer,
  toBeHex,
  toUtf8Bytes,
  zeroPadValue,
} from "ethers";

const VOUCHER_TYPEHASH = keccak256(toUtf8Bytes("piecepay.Voucher(bytes32 channelId,uint256 amount)"));

/** Bytes of an encoded voucher: a 32-byte amount and a 65-byte signature. */
export const VOUCHER_LENGTH = 97;

/** A payer's signed promise of a cumulative amount to a channel's payee. */
export interface Voucher {
  channelId: string;
  amount: bigint;
  signature: string;
}

/**
 * The hash that the payer signs for a voucher.
 * @example voucherHash(id, 1_000n)
 */
export function voucherHash(id: string, amount: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint256"], [VOUCHER_TYPEHASH, id, amount]),
  );
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
  if (dataLength(voucher.signature) !== 65) throw new Error("a voucher signature has 65 bytes");
  return concat([zeroPadValue(toBeHex(voucher.amount), 32), voucher.signature]);
}

/**
 * Reads the amount and signature from a voucher state's appData.
 * @example decodeVoucher(state.appData).amount
 */
export function decodeVoucher(appData: string): { amount: bigint; signature: string } {
  if (dataLength(appData) !== VOUCHER_LENGTH) throw new Error(`a voucher has ${VOUCHER_LENGTH} bytes`);
  return { amount: BigInt(dataSlice(appData, 0, 32)), signature: dataSlice(appData, 32) };
}
