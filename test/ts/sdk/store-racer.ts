// One of the writers of store.test.ts's two-process race: opens the SQLite store at argv[2], says "ready", waits for
// "go" on stdin, then writes argv[3] received vouchers of random amounts, all at once, and prints each result (in
// the order they were written) as one JSON line.
import { createInterface } from "node:readline";
import { SqliteChannelStore, toJson } from "../../../sdk/node.js";
import { CHANNEL, randomAmount, voucher } from "./store-conformance.js";

const store = new SqliteChannelStore(process.argv[2]);
const count = Number(process.argv[3]);
process.stdout.write("ready\n");
createInterface({ input: process.stdin }).once("line", async () => {
  const amounts = Array.from({ length: count }, randomAmount);
  const results = await Promise.all(
    amounts.map(async (amount) => ({ amount, ...(await store.putVoucher("received", voucher(amount, CHANNEL))) })),
  );
  await store.close();
  process.stdout.write(`${toJson(results)}\n`);
  process.exit(0);
});
