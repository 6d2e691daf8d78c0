// The README's commands, run as a user runs them (child processes on the embedded chain).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect } from "chai";

const run = promisify(execFile);
const tsx = new URL("../../../node_modules/.bin/tsx", import.meta.url).pathname;
const root = new URL("../../../", import.meta.url).pathname;

describe("README commands", function () {
  this.timeout(120_000);

  it("npm run demo (piecepay demo): two paid seeders, one leecher; each seeder earns price x pieces served", async function () {
    const { stdout } = await run(tsx, ["client/cli/main.ts", "demo", "--size", "8", "--json"], { cwd: root });
    const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(report.pieces).to.equal(32);
    const [leecher, ...seeders] = report.accounts as { change: string; gas: string; pieces: number }[];
    const price = BigInt(report.pricePerPiece);
    let earned = 0n;
    for (const s of seeders) {
      expect(BigInt(s.change) + BigInt(s.gas)).to.equal(BigInt(s.pieces) * price);
      earned += BigInt(s.pieces) * price;
    }
    expect(seeders.reduce((a, s) => a + s.pieces, 0)).to.equal(32);
    expect(-BigInt(leecher.change) - BigInt(leecher.gas)).to.equal(earned);
  });

  it("npm run demo -- --asset token: paid in a 6-decimal ERC-20; each seeder's token balance rises by price x pieces, gas apart", async function () {
    const { stdout } = await run(tsx, ["client/cli/main.ts", "demo", "--size", "4", "--asset", "token", "--json"], {
      cwd: root,
    });
    const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(report).to.include({ symbol: "USD6", decimals: 6, pricePerPiece: "100" }); // 0.0001 USD6
    const [leecher, ...seeders] = report.accounts as { change: string; gas: string; pieces: number }[];
    let earned = 0n;
    for (const s of seeders) {
      expect(BigInt(s.change)).to.equal(BigInt(s.pieces) * 100n);
      earned += BigInt(s.change);
    }
    expect(seeders.reduce((a, s) => a + s.pieces, 0)).to.equal(report.pieces);
    expect(-BigInt(leecher.change)).to.equal(earned);
    expect(BigInt(leecher.gas)).to.be.above(0n); // the approve and the deposit, in ETH
  });

  it("npm run demo:contracts: a cooperative close and a payee enforcing its voucher alone, with exact balances", async function () {
    const { stdout } = await run(tsx, ["scripts/demo.ts"], { cwd: root });
    expect(stdout).to.match(/concludeAndTransferAllAssets\s+gas \d+/);
    // The payee is owed 0.15 ETH and the channel ends empty.
    expect(stdout).to.include("payee was owed 0.15 ETH; holdings left: 0");
    expect(stdout).to.include("payer 0.85 ETH");
  });

  it("npm run gas -- --json: one JSON object with every story", async function () {
    const { stdout } = await run(tsx, ["scripts/gas.ts", "--json"], { cwd: root });
    const figures = JSON.parse(stdout.trim()) as Record<string, number>;
    expect(Object.keys(figures)).to.include.members([
      "deposit-first",
      "deposit-second",
      "close-cooperative",
      "challenge",
      "checkpoint-answers-challenge",
      "payout-after-timeout",
      "voucher-redeem",
    ]);
    for (const gas of Object.values(figures)) expect(gas).to.be.a("number").and.greaterThan(21_000);
  });

  it("npm run example:sdk: sdk/README.md's example, verbatim, opens, pays three times and closes", async function () {
    const example = readFileSync(new URL("examples/sdk-quickstart.ts", `file://${root}`), "utf8");
    const readme = readFileSync(new URL("sdk/README.md", `file://${root}`), "utf8");
    const body = example.slice(example.indexOf("import "));
    expect(readme, "sdk/README.md's example must be examples/sdk-quickstart.ts").to.include(
      `\`\`\`ts\n${body.trim()}\n\`\`\``,
    );
    const { stdout } = await run(tsx, ["examples/sdk-quickstart.ts"], { cwd: root });
    expect(stdout).to.include("bob was paid 0.03 ETH");
    expect(stdout).to.include("alice got back 0.97 ETH");
  });
});
