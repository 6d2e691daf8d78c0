// Voucher signatures and verifications per second, measured the same way in Node and in a browser page (bench-sdk.ts
// runs it in both): nothing here is Node's, and time is `performance.now()`, which both have. Verification goes
// through the SDK's `verifyVoucher` with whatever signature backend is selected where it runs.
import { Wallet } from "ethers";
import { signVoucher, type Voucher, verifyVoucher } from "../../sdk/index.js";

/** A voucher as it crosses into a page: [channelId, amount in decimal, signature]. */
export type VoucherTuple = [string, string, string];

/** Calls `step` until `seconds` have passed (after a warm-up); returns calls per second. */
async function rate(step: (i: number) => unknown, seconds: number): Promise<number> {
  // A synchronous step is not awaited: an await per call would be part of what is timed.
  for (let i = 0; i < 50; i++) {
    const result = step(i); // warm up: the JIT, and @noble's precomputed tables
    if (result instanceof Promise) await result;
  }
  let done = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < 32; i++) {
      const result = step(done++);
      if (result instanceof Promise) await result;
    }
    elapsed = performance.now() - start;
  }
  return (done * 1000) / elapsed;
}

/** `verifyVoucher` calls per second over `vouchers` of `payer` (each must verify, or this throws). */
export function verificationsPerSecond(payer: string, vouchers: VoucherTuple[], seconds: number): Promise<number> {
  const parsed: Voucher[] = vouchers.map(([channelId, amount, signature]) => ({
    channelId,
    amount: BigInt(amount),
    signature,
  }));
  const context = { channelId: parsed[0].channelId, payer, deposited: 2n ** 128n, best: 0n };
  return rate((i) => verifyVoucher(parsed[i % parsed.length], context), seconds);
}

/** `signVoucher` calls per second with an ethers Wallet (a key in memory, as a session key is). */
export function signaturesPerSecond(seconds: number): Promise<number> {
  const key = Wallet.createRandom();
  const channelId = `0x${"5a".repeat(32)}`;
  return rate((i) => signVoucher(key, channelId, BigInt(i + 1)), seconds);
}
