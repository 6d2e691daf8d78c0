// Voucher checks a payee runs before crediting anything: each rejection says what happens to the money (nothing
// is credited), and both signature backends agree with ethers on thousands of random vouchers.
import { expect } from "chai";
import {
  concat,
  dataSlice,
  getBytes,
  hashMessage,
  hexlify,
  randomBytes,
  toBeHex,
  verifyMessage,
  Wallet,
  zeroPadValue,
} from "ethers";
import {
  createVoucher,
  recoverPersonalSigner,
  signatureBackend,
  signVoucher,
  useSignatureBackend,
  VoucherError,
  verifyVoucher,
} from "../../../sdk/node.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const payer = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const stranger = new Wallet(hexlify(randomBytes(32)));
const id = `0x${"ab".repeat(32)}`;
const otherId = `0x${"cd".repeat(32)}`;
const deposited = 10n ** 18n;

function expectVoucherError(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(VoucherError);
    expect((error as VoucherError).code).to.equal(code);
    return;
  }
  expect.fail(`expected VoucherError ${code}`);
}

/** The malleable twin of a signature: s' = n - s and the other recovery id; recovers the same key. */
function highS(signature: string): string {
  const s = BigInt(dataSlice(signature, 32, 64));
  const v = getBytes(signature)[64];
  return concat([dataSlice(signature, 0, 32), zeroPadValue(toBeHex(N - s), 32), toBeHex(v === 27 ? 28 : 27)]);
}

for (const backend of ["native", "js"] as const) {
  describe(`verifyVoucher (${backend} secp256k1)`, function () {
    before(() => useSignatureBackend(backend));
    after(() => useSignatureBackend("native"));

    it("credits the increase of a valid voucher, and nothing for a replay or an older one", async function () {
      const v1 = await signVoucher(payer, id, 100n);
      const v2 = await signVoucher(payer, id, 250n);
      expect(verifyVoucher(v1, { channelId: id, payer: payer.address, deposited, best: 0n }).delta).to.equal(100n);
      expect(verifyVoucher(v2, { channelId: id, payer: payer.address, deposited, best: 100n }).delta).to.equal(150n);
      expect(verifyVoucher(v2, { channelId: id, payer: payer.address, deposited, best: 250n }).delta).to.equal(0n);
      expect(verifyVoucher(v1, { channelId: id, payer: payer.address, deposited, best: 250n }).delta).to.equal(0n);
    });

    it("rejects a voucher above the deposit: the payee credits nothing it could not enforce", async function () {
      const v = await signVoucher(payer, id, deposited + 1n);
      const context = { channelId: id, payer: payer.address, deposited, best: 0n };
      expectVoucherError(() => verifyVoucher(v, context), "VOUCHER_EXCEEDS_DEPOSIT");
    });

    it("rejects a voucher signed by anyone but the payer: nothing credited", async function () {
      const v = await signVoucher(stranger, id, 1n);
      const context = { channelId: id, payer: payer.address, deposited, best: 0n };
      expectVoucherError(() => verifyVoucher(v, context), "VOUCHER_WRONG_SIGNER");
    });

    it("rejects a voucher for another channel, even re-labelled: its signature binds the other channel", async function () {
      const v = await signVoucher(payer, otherId, 1n);
      const context = { channelId: id, payer: payer.address, deposited, best: 0n };
      expectVoucherError(() => verifyVoucher(v, context), "VOUCHER_WRONG_CHANNEL");
      // Claiming it is for our channel does not help: it then recovers to some other address.
      expectVoucherError(() => verifyVoucher({ ...v, channelId: id }, context), "VOUCHER_WRONG_SIGNER");
    });

    it("rejects malleable (high-s), wrong-v, wrong-length and zero-recovering signatures", async function () {
      const v = await signVoucher(payer, id, 7n);
      const context = { channelId: id, payer: payer.address, deposited, best: 0n };
      const bad = [
        highS(v.signature),
        concat([dataSlice(v.signature, 0, 64), "0x00"]),
        concat([dataSlice(v.signature, 0, 64), "0x01"]),
        concat([dataSlice(v.signature, 0, 64), "0x1d"]),
        dataSlice(v.signature, 0, 64),
        concat([v.signature, "0x00"]),
        "0x",
        concat([zeroPadValue("0x", 32), zeroPadValue("0x", 32), "0x1b"]),
        concat([dataSlice(v.signature, 0, 32), zeroPadValue("0x", 32), "0x1b"]),
        concat([zeroPadValue(toBeHex(N), 32), dataSlice(v.signature, 32, 64), "0x1b"]),
        "not hex at all",
      ];
      for (const signature of bad) {
        expectVoucherError(() => verifyVoucher({ ...v, signature }, context), "VOUCHER_MALFORMED");
      }
    });

    it("rejects amounts that are not a uint256", async function () {
      const v = await signVoucher(payer, id, 7n);
      const context = { channelId: id, payer: payer.address, deposited: 2n ** 300n, best: 0n };
      expectVoucherError(() => verifyVoucher({ ...v, amount: -1n }, context), "VOUCHER_MALFORMED");
      expectVoucherError(() => verifyVoucher({ ...v, amount: 2n ** 256n }, context), "VOUCHER_MALFORMED");
      expectVoucherError(() => verifyVoucher({ ...v, amount: 7 as unknown as bigint }, context), "VOUCHER_MALFORMED");
    });

    it("agrees with ethers' verifyMessage on 1,000 random digests and keys", function () {
      for (let i = 0; i < 1000; i++) {
        const wallet = new Wallet(hexlify(randomBytes(32)));
        const digest = hexlify(randomBytes(32));
        // Signed raw over the EIP-191 hash, so the recovery under test shares no code with the signing.
        const signature = wallet.signingKey.sign(hashMessage(getBytes(digest))).serialized;
        expect(recoverPersonalSigner(digest, signature)).to.equal(wallet.address);
        expect(verifyMessage(getBytes(digest), signature)).to.equal(wallet.address);
      }
    });
  });
}

describe("createVoucher", function () {
  it("signs only increasing amounts within the deposit, so a payer never promises more than the channel holds", async function () {
    const context = { channelId: id, deposited: 100n, previous: 10n };
    const v = await createVoucher(payer, context, 11n);
    expect(verifyVoucher(v, { channelId: id, payer: payer.address, deposited: 100n, best: 10n }).delta).to.equal(1n);
    await expectAsyncVoucherError(() => createVoucher(payer, context, 10n), "VOUCHER_NOT_INCREASING");
    await expectAsyncVoucherError(() => createVoucher(payer, context, 101n), "VOUCHER_EXCEEDS_DEPOSIT");
  });

  it("uses the native backend in Node", function () {
    expect(signatureBackend()).to.equal("native");
  });
});

async function expectAsyncVoucherError(fn: () => Promise<unknown>, code: string) {
  try {
    await fn();
  } catch (error) {
    expect((error as VoucherError).code).to.equal(code);
    return;
  }
  expect.fail(`expected VoucherError ${code}`);
}
