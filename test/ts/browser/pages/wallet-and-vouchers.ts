// The page script of browser/harness.test.ts: the SDK's voucher code and ethers' BrowserProvider, run in Chromium
// and driven by the test through `window.piecepayTest`.
import { BrowserProvider, hexlify, parseEther, randomBytes, Wallet } from "ethers";
import { signatureBackend } from "../../../../sdk/recover.js";
import { signVoucher, type Voucher, verifyVoucher } from "../../../../sdk/voucher.js";

declare global {
  interface Window {
    ethereum: import("ethers").Eip1193Provider;
    piecepayTest: typeof api;
  }
}

const api = {
  /** What the injected wallet says: its chain id and accounts, through ethers' BrowserProvider. */
  async wallet(): Promise<{ chainId: string; accounts: string[] }> {
    const provider = new BrowserProvider(window.ethereum);
    const network = await provider.getNetwork();
    const accounts = (await provider.send("eth_requestAccounts", [])) as string[];
    return { chainId: network.chainId.toString(), accounts };
  },

  /** Sends `eth` from the wallet's first account to `to`; resolves with the mined transaction's hash. */
  async pay(to: string, eth: string): Promise<string> {
    const signer = await new BrowserProvider(window.ethereum).getSigner(0);
    const tx = await signer.sendTransaction({ to, value: parseEther(eth) });
    await tx.wait();
    return tx.hash;
  },

  /** Signs `count` vouchers with a fresh key in the page; each as [channelId, amount, signature], and the payer. */
  async signVouchers(count: number): Promise<{ payer: string; vouchers: [string, string, string][] }> {
    const key = Wallet.createRandom();
    const channelId = hexlify(randomBytes(32));
    const vouchers: [string, string, string][] = [];
    for (let i = 1; i <= count; i++) {
      const v = await signVoucher(key, channelId, BigInt(i) * 1000n);
      vouchers.push([v.channelId, v.amount.toString(), v.signature]);
    }
    return { payer: key.address, vouchers };
  },

  /**
   * Verifies vouchers (signed anywhere) with the SDK in the page: per voucher "ok" or the VoucherError code, and
   * the verifications per second over `rounds` passes, with the backend the page got (no native code here).
   */
  verify(
    payer: string,
    vouchers: [string, string, string][],
    rounds = 1,
  ): { results: string[]; perSecond: number; backend: string } {
    const parsed: Voucher[] = vouchers.map(([channelId, amount, signature]) => ({
      channelId,
      amount: BigInt(amount),
      signature,
    }));
    const check = (v: Voucher) => {
      try {
        verifyVoucher(v, { channelId: v.channelId, payer, deposited: 10n ** 30n, best: 0n });
        return "ok";
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    };
    const results = parsed.map(check);
    const start = performance.now();
    for (let r = 0; r < rounds; r++) for (const v of parsed) check(v);
    const seconds = (performance.now() - start) / 1000;
    return { results, perSecond: Math.round((rounds * parsed.length) / seconds), backend: signatureBackend() };
  },

  /** Writes `value` under `key` in the page's IndexedDB, committed. */
  async idbPut(key: string, value: string): Promise<void> {
    const db = await openDb();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction("kv", "readwrite");
      tx.objectStore("kv").put(value, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  },

  async idbGet(key: string): Promise<string | undefined> {
    const db = await openDb();
    const value = await new Promise<string | undefined>((resolve, reject) => {
      const request = db.transaction("kv").objectStore("kv").get(key);
      request.onsuccess = () => resolve(request.result as string | undefined);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return value;
  },
};

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("piecepay-harness", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("kv");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

window.piecepayTest = api;
