// 4. The seeder's payment side runs as its own process with its store on disk. The leecher sends twenty vouchers
// without waiting; the process is killed (SIGKILL) as soon as ten are acknowledged, then restarted on the same store:
// it still holds at least every acknowledged amount. The leecher re-sends its latest voucher (vouchers are
// cumulative) and the channel closes cooperatively through the restarted process.
import { formatEther, type Wallet } from "ethers";
import type { ChannelAcceptance, SqliteChannelStore, Voucher } from "../../../sdk/node.js";
import { SeederProcess } from "../processes/handle.js";
import type { Scenario } from "../scenario.js";
import { DEPOSIT, PRICE } from "./common.js";

export const seederRestart: Scenario = {
  id: "4",
  name: "seeder-restart",
  title: "The seeder's process is killed after accepting vouchers and restarted: nothing acknowledged is lost",
  async run(ctx) {
    const leecher = await ctx.party("leecher");
    const seeder = await ctx.party("seeder");
    const url = await ctx.chain.serve();
    const storePath = (seeder.client.store as SqliteChannelStore).path;
    const args = [url, `${ctx.chain.chainId}`, ctx.chain.adjudicator, ctx.chain.voucherApp, storePath];
    const key = (seeder.signer as unknown as Wallet).privateKey;
    let process = new SeederProcess(args, key);
    ctx.cleanup(() => process.kill());
    await process.ready;
    await ctx.begin();
    const proposal = await leecher.client.propose({
      payee: seeder.address,
      deposit: DEPOSIT,
      challengeDuration: ctx.challengeDuration,
    });
    const channel = await leecher.client.fund(proposal, (await process.call("join", proposal)) as ChannelAcceptance);
    await process.call("waitForFunding", channel.id);
    const id = channel.id;
    ctx.track(id);
    ctx.note(`the leecher opened a channel with ${formatEther(DEPOSIT)} ETH to the seeder's process`);
    const vouchers: Voucher[] = [];
    for (let i = 0; i < 20; i++) vouchers.push(await leecher.client.pay(id, PRICE));
    let acked = 0n;
    let acks = 0;
    const amounts = new Map<number, bigint>();
    const first = process;
    const killed = new Promise<void>((resolve) => {
      first.onAnswer = (answer) => {
        const amount = amounts.get(answer.id);
        if (!answer.ok || amount === undefined) return;
        if (amount > acked) acked = amount;
        if (++acks === 10) void first.kill().then(resolve);
      };
    });
    for (const v of vouchers) amounts.set(first.post("receive", v), v.amount);
    await killed;
    await ctx.settling();
    const sent = vouchers[vouchers.length - 1].amount;
    ctx.note(
      `twenty vouchers sent (${formatEther(sent)} ETH); SIGKILL after ten acknowledgements (${formatEther(acked)} ETH)`,
    );
    process = new SeederProcess(args, key);
    await process.ready;
    const best = (await process.call("best", id)) as bigint;
    ctx.note(`restarted on the same store: it holds ${formatEther(best)} ETH`);
    ctx.check(
      "nothing acknowledged is lost",
      best >= acked && best <= sent,
      `after the restart the store holds ${best} wei; ${acked} were acknowledged, ${sent} signed`,
    );
    await process.call("receive", vouchers[vouchers.length - 1]);
    const hash = (await process.call("close", await leecher.client.offerClose(id))) as string;
    ctx.recordHash("seeder", "concludeAndTransferAllAssets", hash);
    await ctx.settled();
    ctx.note("the leecher re-sent its latest voucher; the channel closed cooperatively through the restarted process");
    ctx.entitled.set("seeder", sent);
    ctx.entitled.set("leecher", -sent);
    ctx.honest.set("seeder", { owed: acked, window: 0n });
    ctx.figure("acknowledged before the kill (wei)", acked);
    ctx.figure("held after the restart (wei)", best);
    ctx.figure("signed (wei)", sent);
  },
};
