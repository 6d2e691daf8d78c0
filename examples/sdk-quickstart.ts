// Pay for something with piecepay in about twenty lines: open a channel, pay three times, close and withdraw.
// Runs on an embedded chain (Hardhat's in-process EVM): npm run example:sdk
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatEther, parseEther } from "ethers";
import { network } from "hardhat";
import { PiecepayClient, SqliteChannelStore } from "piecepay/sdk/node";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../typechain-types/index.js";

const { ethers } = await network.create(); // or any provider: new JsonRpcProvider("http://127.0.0.1:8545")
const [deployer, alice, bob] = await ethers.getSigners();
const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).getAddress();
const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).getAddress();
const settings = {
  chainId: (await ethers.provider.getNetwork()).chainId,
  adjudicator,
  voucherApp,
  blockTimeSeconds: 1,
};
const dir = mkdtempSync(join(tmpdir(), "piecepay-example-")); // each side keeps its channels in its own store
const payer = await PiecepayClient.create({ ...settings, signer: alice, store: new SqliteChannelStore(`${dir}/a.db`) });
const payee = await PiecepayClient.create({ ...settings, signer: bob, store: new SqliteChannelStore(`${dir}/b.db`) });

// Open: alice deposits 1 ETH into a channel to bob (bob countersigns; in an app this goes over the wire).
const channel = await payer.open({ payee: bob.address, deposit: parseEther("1") }, (proposal) => payee.join(proposal));
await payee.waitForFunding(channel.id);
// Pay three times, off chain: each voucher is checked and on bob's disk before it counts.
for (let i = 0; i < 3; i++) await payee.receive(await payer.pay(channel.id, parseEther("0.01")));
// Close and withdraw: one transaction pays bob 0.03 ETH and returns 0.97 ETH to alice.
const before = await ethers.provider.getBalance(alice.address);
await payee.close(await payer.offerClose(channel.id));
console.log(`bob was paid ${formatEther(await payee.paid(channel.id))} ETH`);
console.log(`alice got back ${formatEther((await ethers.provider.getBalance(alice.address)) - before)} ETH`);
