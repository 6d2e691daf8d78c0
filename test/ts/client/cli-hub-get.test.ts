// Issue 16's "done when", as a user runs it: `piecepay chain` (a block every second), `piecepay tracker` and
// `piecepay hub` running; five `piecepay seed --hub` processes the leecher has never met; one `piecepay get --hub`.
// The leecher sends one transaction (its ledger deposit) and the seeders none; every piece is paid once, to the
// seeder that delivered it. Then each withdraws its ledger, and the chain's PaidOut events pay each seeder exactly
// what it delivered at its price, the hub exactly its fee, and the leecher the rest of its deposit.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, parseEther } from "ethers";
import { hubFee } from "../../../sdk/hub/index.js";
import { freePort } from "../helpers/nodes.js";
import { cli, jsonLines, type Running, startCli, useScratchDirs } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const key = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);
const SEEDERS = [1, 2, 3, 4, 5];
const LEECHER = 6;
const HUB = 7;
const FEE_BPS = 25n;
const PRICE = parseEther("0.001");
const PIECES = 128;
const BUDGET = parseEther("1");

describe("piecepay get --hub: one deposit pays five seeders it never met, with no further transaction", function () {
  this.timeout(360_000);
  const scratch = useScratchDirs("piecepay-hub-get-");
  const running: Running[] = [];
  const stop = async (process: Running) => {
    if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill("SIGINT");
    await process.exited;
  };
  after(async () => {
    for (const process of running.reverse()) await stop(process);
  });

  it("downloads from five seeders through the hub, each paid to the wei on chain at withdraw", async () => {
    const dataDir = scratch();
    const chain = await startCli(
      ["chain", "--port", String(await freePort()), "--data-dir", dataDir, "--skip-build", "--node", "anvil"],
      120_000,
    );
    running.push(chain);
    const rpc = String(chain.ready.rpc);
    const provider = new JsonRpcProvider(rpc, undefined, { cacheTimeout: -1, staticNetwork: true });
    try {
      const tracker = await startCli(["tracker", "--port", String(await freePort())]);
      running.push(tracker);
      const announce = (tracker.ready as { announce: string[] }).announce.find((url) => url.startsWith("http"));
      const hub = await startCli([
        "hub",
        ...["--key", key(HUB).privateKey, "--rpc", rpc, "--data-dir", dataDir],
        ...["--port", "0", "--fee-bps", String(FEE_BPS), "--capacity", "1"],
      ]);
      running.push(hub);
      const hubUrl = String(hub.ready.url);

      const file = path.join(scratch(), "album.bin");
      const data = randomBytes(PIECES * 64 * 1024);
      writeFileSync(file, data);
      const seeders: Running[] = [];
      for (const i of SEEDERS) {
        const seeding = await startCli(
          [
            "seed",
            file,
            // 256 KiB/s each: one seeder alone would take 32 s, so the download needs all five.
            ...["--price", "0.001", "--piece-length", "64", "--upload-limit", "256", "--announce", String(announce)],
            ...["--hub", hubUrl, "--key", key(i).privateKey, "--rpc", rpc, "--data-dir", dataDir],
          ],
          120_000,
        );
        running.push(seeding);
        seeders.push(seeding);
        expect(seeding.ready).to.include({ event: "seeding", pieces: PIECES, hub: key(HUB).address });
      }
      const torrent = String(seeders[0].ready.torrent);
      const nonces = async () =>
        Promise.all([LEECHER, ...SEEDERS].map((i) => provider.getTransactionCount(key(i).address)));
      const before = await nonces();

      const out = scratch();
      const got = await cli([
        "get",
        torrent,
        ...["--max-price", "0.0011", "--budget", "1", "--max-window", "4"],
        ...["--hub", hubUrl, "--announce", String(announce), "--out", out],
        ...["--key", key(LEECHER).privateKey, "--rpc", rpc, "--data-dir", dataDir, "--json"],
      ]);
      expect(got.code, got.stderr).to.equal(0);
      expect(readFileSync(path.join(out, "album.bin")).equals(data)).to.equal(true);
      const after = await nonces();
      // The leecher's one transaction is its ledger deposit; no seeder sent any.
      expect(after[0] - before[0], "the leecher's transactions").to.equal(1);
      expect(after.slice(1), "the seeders' transactions").to.deep.equal(before.slice(1));

      // Five virtual channels through the hub, closed at what each seeder delivered; every piece paid once.
      const settled = jsonLines(got.stdout).filter((l) => l.event === "settled");
      const context = `\n${got.stdout}\n${got.stderr}`;
      expect(settled, context).to.have.length(SEEDERS.length);
      for (const line of settled) {
        expect(line, context).to.include({ closed: true, hub: key(HUB).address });
        expect(Number(line.delivered)).to.be.greaterThan(0);
        expect(BigInt(String(line.spent))).to.equal(BigInt(Number(line.delivered)) * PRICE);
        expect(BigInt(String(line.fee))).to.equal(hubFee(BigInt(String(line.spent)), FEE_BPS));
      }
      expect(settled.reduce((n, l) => n + Number(l.delivered), 0)).to.equal(PIECES);
      const spentOn = new Map(settled.map((l) => [String(l.channelId), BigInt(String(l.spent))]));

      // Each seeder's own line for its virtual channel says what it earned into its ledger: what the leecher paid it.
      for (const seeding of seeders) await stop(seeding);
      const earned = seeders.map((seeding) => {
        const closed = jsonLines(seeding.stdout()).filter((l) => l.event === "closed");
        expect(closed, `${seeding.stdout()}\n${seeding.stderr()}`).to.have.length(1);
        expect(closed[0]).to.include({ hub: key(HUB).address });
        expect(BigInt(String(closed[0].earned))).to.equal(spentOn.get(String(closed[0].channelId)));
        return BigInt(String(closed[0].earned));
      });

      // Each takes its ledger out with `piecepay withdraw --hub`: the chain's PaidOut events pay each seeder what it
      // earned, and the leecher its deposit less what it paid and the hub's fees.
      const withdraw = async (i: number) => {
        const run = await cli([
          "withdraw",
          ...["--hub", hubUrl, "--key", key(i).privateKey, "--rpc", rpc, "--data-dir", dataDir, "--json"],
        ]);
        expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
        const lines = jsonLines(run.stdout).filter((l) => l.action === "paid-out" && l.via === "hub");
        expect(lines, run.stdout).to.have.length(1);
        return BigInt(String(lines[0].paidToUs));
      };
      let fees = 0n;
      for (const [n, i] of SEEDERS.entries()) {
        fees += hubFee(earned[n], FEE_BPS);
        expect(await withdraw(i), `seeder ${i} is paid on chain what it delivered`).to.equal(earned[n]);
      }
      const paid = earned.reduce((a, b) => a + b, 0n);
      expect(paid).to.equal(BigInt(PIECES) * PRICE);
      expect(await withdraw(LEECHER), "the leecher gets its deposit back less what it paid and the fees").to.equal(
        BUDGET - paid - fees,
      );
    } finally {
      provider.destroy();
    }
  });
});
