// A seeder's payment side (a payee) as a process of its own, for scenario 4 and the crash tests (killed and
// restarted): it reads one JSON command
// per line on stdin, runs it through the SDK with its store on disk, and writes one JSON line per answer on stdout.
// An answer to "receive" is written only after the voucher is on disk: that line is the acknowledgement.
// Usage: tsx client/simulate/processes/seeder.ts <rpcUrl> <chainId> <adjudicator> <voucherApp> <storePath>, with the
// account's key in PIECEPAY_SIM_KEY (a throwaway account of the simulation; kept out of the process list).
import { createInterface } from "node:readline";
import { JsonRpcProvider, Wallet } from "ethers";
import { ChannelWatcher, fromJson, PiecepayClient, SqliteChannelStore, toJson } from "../../../sdk/node.js";

const [rpcUrl, chainId, adjudicator, voucherApp, storePath] = process.argv.slice(2);
const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 50, cacheTimeout: -1 });
const store = new SqliteChannelStore(storePath);
const client = await PiecepayClient.create({
  signer: new Wallet(process.env.PIECEPAY_SIM_KEY as string, provider),
  chainId: BigInt(chainId),
  adjudicator,
  voucherApp,
  store,
  confirmations: 1,
  pollingIntervalMs: 50,
  blockTimeSeconds: 1,
  safetyMarginSeconds: 5,
});

const commands: Record<string, (arg: never) => unknown> = {
  join: (proposal: Parameters<PiecepayClient["join"]>[0]) => client.join(proposal),
  waitForFunding: (id: string) => client.waitForFunding(id, { timeoutMs: 20_000 }),
  receive: async (voucher: Parameters<PiecepayClient["receive"]>[0]) => (await client.receive(voucher)).delta,
  close: (offer: Parameters<PiecepayClient["close"]>[0]) => client.close(offer).then((r) => r.hash),
  challenge: (id: string) => client.challenge(id).then((r) => r.hash),
  scan: () => new ChannelWatcher(client).scanOnce(),
  state: async (id: string) => ({
    channel: await store.getChannel(id),
    best: (await store.getVoucher("received", id))?.amount ?? 0n,
  }),
  best: async (id: string) => (await store.getVoucher("received", id))?.amount ?? 0n,
};

process.stdout.write(`${toJson({ ready: true })}\n`);
// Commands run one after another, in the order they arrive, like a peer connection's message handler.
let queue: Promise<void> = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  queue = queue.then(async () => {
    const { id, op, arg } = fromJson(line) as { id: number; op: string; arg: never };
    try {
      const result = await commands[op](arg);
      process.stdout.write(`${toJson({ id, ok: true, result })}\n`);
    } catch (error) {
      process.stdout.write(`${toJson({ id, ok: false, error: (error as { code?: string }).code ?? String(error) })}\n`);
    }
  });
});
