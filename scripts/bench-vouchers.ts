// Voucher verification throughput on one core: ethers' recoverAddress (the baseline), @noble/curves (the browser
// fallback) and libsecp256k1 (the Node fast path), each measured in this one run over the same signed vouchers.
// Usage: tsx scripts/bench-vouchers.ts [--json] [--seconds S]
import { parseArgs } from "node:util";
import { getBytes, hashMessage, hexlify, randomBytes, recoverAddress, Wallet } from "ethers";
import { signatureBackend, useSignatureBackend, type Voucher, verifyVoucher, voucherHash } from "../sdk/node.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "2" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(
    "Usage: npm run bench:vouchers -- [--json] [--seconds S]\n\nVoucher verifications per second on one core.",
  );
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error("--seconds must be a positive number");

const payer = new Wallet(hexlify(randomBytes(32)));
const channelId = hexlify(randomBytes(32));
const COUNT = 512;
const vouchers: Voucher[] = [];
for (let i = 1; i <= COUNT; i++) {
  const amount = BigInt(i) * 16_384n;
  vouchers.push({
    channelId,
    amount,
    signature: payer.signingKey.sign(hashMessage(getBytes(voucherHash(channelId, amount)))).serialized,
  });
}
const context = { channelId, payer: payer.address, deposited: 2n ** 128n, best: 0n };

/** Runs `check` over the vouchers for about `seconds`; returns checks per second. */
function rate(check: (voucher: Voucher) => void): number {
  for (let i = 0; i < 50; i++) check(vouchers[i % COUNT]); // warm up
  let done = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 64; i++) check(vouchers[done++ % COUNT]);
    elapsed = process.hrtime.bigint() - start;
  }
  return (done * 1e9) / Number(elapsed);
}

const ethersRate = rate((v) => {
  if (recoverAddress(hashMessage(getBytes(voucherHash(channelId, v.amount))), v.signature) !== payer.address) {
    throw new Error("ethers recovered the wrong signer");
  }
});
useSignatureBackend("js");
const jsRate = rate((v) => verifyVoucher(v, context));
useSignatureBackend("native");
const nativeRate = signatureBackend() === "native" ? rate((v) => verifyVoucher(v, context)) : Number.NaN;

const result = {
  "ethers-recoverAddress-per-s": Math.round(ethersRate),
  "verifyVoucher-js-per-s": Math.round(jsRate),
  "verifyVoucher-native-per-s": Math.round(nativeRate),
  "native-vs-ethers": Number((nativeRate / ethersRate).toFixed(1)),
  "target-per-s": 10_000,
  "meets-target": nativeRate >= 10_000,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`Voucher verifications per second, one core, ${seconds} s each (measured in this run):`);
  console.log(`  ethers recoverAddress (baseline)       ${result["ethers-recoverAddress-per-s"].toLocaleString("en")}`);
  console.log(`  verifyVoucher, @noble/curves (browser) ${result["verifyVoucher-js-per-s"].toLocaleString("en")}`);
  console.log(`  verifyVoucher, libsecp256k1 (Node)     ${result["verifyVoucher-native-per-s"].toLocaleString("en")}`);
  console.log(
    `  native / ethers: ${result["native-vs-ethers"]}x; target >= 10,000/s: ${result["meets-target"] ? "met" : "MISSED"}`,
  );
}
