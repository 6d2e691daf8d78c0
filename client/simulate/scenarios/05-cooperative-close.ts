// 5. Cooperative close: the leecher pays ten vouchers off chain, offers to close, the seeder countersigns and sends
// one transaction that concludes the channel and pays both.
import { formatEther } from "ethers";
import type { Scenario } from "../scenario.js";
import { DEPOSIT, PRICE } from "./common.js";

export const cooperativeClose: Scenario = {
  id: "5",
  name: "cooperative-close",
  title: "Cooperative close: one transaction, both paid",
  async run(ctx) {
    const leecher = await ctx.party("leecher");
    const seeder = await ctx.party("seeder");
    await ctx.begin();
    const id = await ctx.open(leecher.client, seeder.client, DEPOSIT);
    ctx.note(`the leecher opened a channel with ${formatEther(DEPOSIT)} ETH`);
    for (let i = 0; i < 10; i++) await seeder.client.receive(await leecher.client.pay(id, PRICE));
    const paid = await seeder.client.paid(id);
    ctx.note(`ten vouchers of ${formatEther(PRICE)} ETH, off chain: the seeder holds ${formatEther(paid)} ETH`);
    await ctx.settling();
    const before = ctx.sent;
    await seeder.client.close(await leecher.client.offerClose(id));
    await ctx.settled();
    const closing = ctx.sent - before;
    ctx.note("the leecher offered to close; the seeder countersigned and sent the close");
    ctx.check("the close is one transaction", closing === 1, `${closing} transaction(s) from the offer to both paid`);
    ctx.entitled.set("seeder", paid);
    ctx.entitled.set("leecher", -paid);
    ctx.honest.set("seeder", { owed: paid, window: 0n });
    ctx.honest.set("leecher", { owed: -paid, window: 0n });
    ctx.figure("paid off chain (wei)", paid);
  },
};
