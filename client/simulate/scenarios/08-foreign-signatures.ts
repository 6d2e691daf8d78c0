// 8. The seeder tries to enforce more than it was paid with signatures made for somewhere else: a voucher the
// leecher signed for the same channel on another chain, for another deployment of the adjudicator, for another
// channel, and a funding state signed for another chain. The SDK refuses each voucher, and the adjudicator reverts
// each challenge. The channel then closes cooperatively at what was really paid.
import { formatEther, getAddress, hexlify, randomBytes } from "ethers";
import {
  channelId,
  encodeVoucher,
  type FixedPart,
  NO_REGISTRATION,
  signState,
  signVoucher,
  splitOutcome,
  toSigned,
  type Voucher,
} from "../../../sdk/index.js";
import { errorCode } from "../context.js";
import type { Scenario } from "../scenario.js";
import { DEPOSIT, PRICE } from "./common.js";

export const foreignSignatures: Scenario = {
  id: "8",
  name: "foreign-signatures",
  title: "A challenge with a state or voucher signed for another chain, deployment or channel: rejected",
  async run(ctx) {
    const leecher = await ctx.party("leecher");
    const seeder = await ctx.party("seeder");
    await ctx.begin();
    const id = await ctx.open(leecher.client, seeder.client, DEPOSIT);
    for (let i = 0; i < 5; i++) await seeder.client.receive(await leecher.client.pay(id, PRICE));
    const paid = await seeder.client.paid(id);
    ctx.note(`five vouchers: the seeder holds ${formatEther(paid)} ETH`);
    const record = await seeder.client.store.getChannel(id);
    const base = await seeder.client.store.getSupportedState(id);
    if (!record || !base) throw new Error("the seeder has no record of its channel");
    const fixedPart: FixedPart = record.fixedPart;
    const { chainId, adjudicator } = ctx.chain;
    const elsewhere = {
      "another chain": channelId(chainId + 1n, adjudicator, fixedPart),
      "another deployment": channelId(chainId, getAddress(hexlify(randomBytes(20))), fixedPart),
      "another channel": channelId(chainId, adjudicator, { ...fixedPart, channelNonce: fixedPart.channelNonce + 1n }),
    };
    const claim = DEPOSIT; // the whole deposit, far more than was paid
    const attempts: { what: string; sdk: string; chain: string }[] = [];
    const challenge = async (voucher: Voucher, proof = base) => {
      const vp = {
        outcome: splitOutcome(base.variablePart, voucher.amount),
        appData: encodeVoucher(voucher),
        turnNum: 1n,
        isFinal: false,
      };
      const candidate = toSigned(vp, new Map([[1, await signState(seeder.signer, id, vp)]]));
      try {
        await seeder.client.adjudicator.challenge.staticCall(fixedPart, [proof], candidate, "0x", NO_REGISTRATION);
        return "ACCEPTED";
      } catch (error) {
        return errorCode(error);
      }
    };
    for (const [what, foreignId] of Object.entries(elsewhere)) {
      const signed = await signVoucher(leecher.signer, foreignId, claim);
      const voucher: Voucher = { channelId: id, amount: claim, signature: signed.signature };
      let sdk = "ACCEPTED";
      try {
        await seeder.client.receive(voucher);
      } catch (error) {
        sdk = errorCode(error);
      }
      attempts.push({ what: `voucher for ${claim} wei signed for ${what}`, sdk, chain: await challenge(voucher) });
    }
    // A funding state both signed for the same channel on another chain, as the proof of a genuine voucher.
    const foreignId = elsewhere["another chain"];
    const foreignProof = toSigned(
      base.variablePart,
      new Map([
        [0, await signState(leecher.signer, foreignId, base.variablePart)],
        [1, await signState(seeder.signer, foreignId, base.variablePart)],
      ]),
    );
    const genuine = (await seeder.client.store.getVoucher("received", id)) as Voucher;
    attempts.push({
      what: "funding state signed for another chain (as the proof)",
      sdk: "-",
      chain: await challenge(genuine, foreignProof),
    });
    for (const a of attempts) ctx.note(`${a.what}: SDK ${a.sdk}, adjudicator ${a.chain}`);
    for (const a of attempts) {
      ctx.check(
        `rejected: ${a.what}`,
        a.sdk !== "ACCEPTED" && a.chain !== "ACCEPTED",
        `the SDK said ${a.sdk}; the adjudicator reverted with ${a.chain}`,
      );
      ctx.figure(a.what, `SDK ${a.sdk}; adjudicator ${a.chain}`);
    }
    ctx.check(
      "the genuine voucher is still enforceable",
      (await challenge(genuine)) === "ACCEPTED",
      "the same challenge with the real voucher and the real funding state passes a dry run",
    );
    await ctx.settling();
    await seeder.client.close(await leecher.client.offerClose(id));
    await ctx.settled();
    ctx.note("the channel closed cooperatively at what was really paid");
    ctx.entitled.set("seeder", paid);
    ctx.entitled.set("leecher", -paid);
    ctx.honest.set("leecher", { owed: -paid, window: 0n });
  },
};
