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
import { openAccountStore } from "../../../client/cli/stores.js";
import { HubConnection, hubFee } from "../../../sdk/hub/index.js";
import { PiecepayClient, settlementOf } from "../../../sdk/node.js";
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

      const settled = jsonLines(got.stdout).filter((l) => l.event === "settled");
      const byPeer = new Map(settled.map((l) => [String(l.peer), l]));
      const ports = seeders.map((s) => `127.0.0.1:${s.ready.port}`);
      for (const port of ports) {
        const line = byPeer.get(port);
        expect(line, `${port} was paid through the hub:\n${got.stdout}\n${got.stderr}`).to.include({
          closed: true,
          hub: key(HUB).address,
        });
        expect(Number(line?.delivered)).to.be.greaterThan(0);
        expect(BigInt(String(line?.spent))).to.equal(BigInt(Number(line?.delivered)) * PRICE);
      }
      expect(settled.reduce((n, l) => n + Number(l.delivered), 0)).to.equal(PIECES);

      // Each withdraws its ledger (the seeders stopped first: one process per store); the chain's payouts decide.
      for (const seeding of seeders) await stop(seeding);
      const deployment = JSON.parse(readFileSync(path.join(dataDir, "deployments", "31337.json"), "utf8"));
      const withdraw = async (i: number) => {
        const signer = key(i).connect(provider);
        const store = await openAccountStore(dataDir, signer.address);
        try {
          const client = await PiecepayClient.create({
            signer,
            chainId: 31337n,
            adjudicator: deployment.contracts.Adjudicator.address,
            voucherApp: deployment.contracts.VoucherPaymentApp.address,
            store,
            pollingIntervalMs: 200,
          });
          const connection = await HubConnection.connect(client.context, hubUrl);
          try {
            const ledger = (await store.listChannels()).find((r) => r.ledger !== undefined);
            expect(ledger, `account ${i} has a ledger`).to.not.equal(undefined);
            await connection.withdraw(String(ledger?.id));
            const { paid } = await settlementOf(client.adjudicator, String(ledger?.id), [signer.address]);
            return { toUs: paid[0] };
          } finally {
            connection.close();
          }
        } finally {
          store.close();
        }
      };
      let fees = 0n;
      let paid = 0n;
      for (const [n, i] of SEEDERS.entries()) {
        const line = byPeer.get(ports[n]);
        const owed = BigInt(Number(line?.delivered)) * PRICE;
        fees += hubFee(owed, FEE_BPS);
        paid += owed;
        expect((await withdraw(i)).toUs, `seeder ${i} is paid on chain what it delivered`).to.equal(owed);
      }
      expect(
        (await withdraw(LEECHER)).toUs,
        "the leecher gets back its deposit less what it paid and the fees",
      ).to.equal(BUDGET - paid - fees);
    } finally {
      provider.destroy();
    }
  });
});
