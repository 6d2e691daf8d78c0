// Measures the gas of each user story on Hardhat's in-process EVM (prague) and compares it with the anchor
// (statechannels' NitroAdjudicator) and with the committed snapshot.
//
//   npm run gas                  table: story, gas, anchor, ratio; lifecycles against their targets
//   npm run gas -- --json        one JSON object {story: gasUsed}
//   npm run gas -- --check       exit 1 unless the figures equal gas-snapshot.json
//   npm run gas -- --update      rewrite gas-snapshot.json
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ContractTransactionResponse, parseEther, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";
import {
  channelId,
  encodeVoucher,
  type FixedPart,
  outcomeHash,
  type SignedVariablePart,
  signBy,
  signVoucher,
  stateHash,
  toDestination,
  toSigned,
  type VariablePart,
} from "../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../typechain-types/index.js";

const SNAPSHOT = new URL("../gas-snapshot.json", import.meta.url);

/** statechannels NitroAdjudicator (@statechannels/nitro-protocol 0.17.3), same EVM, hardfork and payouts. */
const ANCHOR: Record<string, number> = {
  "deposit-first": 48_052,
  "deposit-second": 31_024,
  "close-cooperative": 101_166,
  challenge: 93_426,
  respond: 62_949,
  "checkpoint-answers-challenge": 55_023,
  "payout-after-timeout": 62_550,
};
const LIFECYCLES: Record<string, { stories: string[]; target: number }> = {
  "happy (deposit-first + close-cooperative)": { stories: ["deposit-first", "close-cooperative"], target: 0.75 },
  "dispute (deposit-first + challenge + payout-after-timeout)": {
    stories: ["deposit-first", "challenge", "payout-after-timeout"],
    target: 0.75,
  },
};

const { values: flags } = parseArgs({
  options: { json: { type: "boolean" }, check: { type: "boolean" }, update: { type: "boolean" } },
});

const { ethers, networkHelpers } = await network.create({ network: "default" });
const [deployer, alice, bob] = await ethers.getSigners();
const adjudicator = await new Adjudicator__factory(deployer).deploy();
const app = await new VoucherPaymentApp__factory(deployer).deploy();
const adjudicatorAddress = await adjudicator.getAddress();
const appAddress = await app.getAddress();
const chainId = (await ethers.provider.getNetwork()).chainId;
const DURATION = 3600n;
const ONE = parseEther("1");
/** The registration argument where the channel is open (ignored there). */
const NONE = { stateHash: ZeroHash, outcomeHash: ZeroHash, heldEth: 0n };

let nonce = 0n;
function newChannel(): { fixedPart: FixedPart; id: string } {
  const fixedPart: FixedPart = {
    participants: [alice.address, bob.address],
    channelNonce: ++nonce,
    appDefinition: appAddress,
    challengeDuration: DURATION,
  };
  return { fixedPart, id: channelId(chainId, adjudicatorAddress, fixedPart) };
}
function state(turnNum: bigint, aliceGets: bigint, bobGets: bigint, isFinal = false, appData = "0x"): VariablePart {
  return {
    outcome: [
      {
        asset: ZeroAddress,
        allocations: [
          { destination: toDestination(alice.address), amount: aliceGets },
          { destination: toDestination(bob.address), amount: bobGets },
        ],
      },
    ],
    appData,
    turnNum,
    isFinal,
  };
}
/** Signed by both, with the sender's own signature left empty (sending is signing). */
async function signedByBothSentBy(
  sender: typeof alice,
  fixedPart: FixedPart,
  id: string,
  vp: VariablePart,
): Promise<SignedVariablePart> {
  const other = sender === alice ? bob : alice;
  const signed = await signBy(fixedPart, id, vp, [other]);
  const sigs = new Map<number, string>([[sender === alice ? 0 : 1, "0x"]]);
  sigs.set(other === alice ? 0 : 1, signed.sigs[0]);
  return toSigned(vp, sigs);
}
async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

const gas: Record<string, number> = {};

// Happy path: both deposit, then a cooperative close pays both in one transaction.
{
  const { fixedPart, id } = newChannel();
  gas["deposit-first"] = await gasOf(adjudicator.connect(alice).deposit(ZeroAddress, id, 0n, ONE, { value: ONE }));
  gas["deposit-second"] = await gasOf(adjudicator.connect(bob).deposit(ZeroAddress, id, ONE, ONE, { value: ONE }));
  const final = state(10n, parseEther("0.7"), parseEther("1.3"), true);
  const candidate = await signedByBothSentBy(alice, fixedPart, id, final);
  gas["close-cooperative"] = await gasOf(adjudicator.connect(alice).concludeAndTransferAllAssets(fixedPart, candidate));
}

// Dispute: a stale challenge answered by a checkpoint with a newer state, which then finalizes at the challenge's
// deadline (ADR 0005: an answer replaces the registered state and keeps the deadline) and is paid out.
{
  const { fixedPart, id } = newChannel();
  await adjudicator.connect(alice).deposit(ZeroAddress, id, 0n, ONE, { value: ONE });
  await adjudicator.connect(bob).deposit(ZeroAddress, id, ONE, ONE, { value: ONE });
  const stale = await signedByBothSentBy(alice, fixedPart, id, state(5n, parseEther("1.2"), parseEther("0.8")));
  gas.challenge = await gasOf(adjudicator.connect(alice).challenge(fixedPart, [], stale, "0x", NONE));
  const newer = await signedByBothSentBy(bob, fixedPart, id, state(6n, parseEther("0.9"), parseEther("1.1")));
  const registered = {
    stateHash: stateHash(id, stale.variablePart),
    outcomeHash: outcomeHash(stale.variablePart.outcome),
    heldEth: 2n * ONE,
  };
  gas["checkpoint-answers-challenge"] = await gasOf(
    adjudicator.connect(bob).checkpoint(fixedPart, [], newer, registered),
  );
  await networkHelpers.time.increase(DURATION);
  const latest = newer.variablePart;
  gas["payout-after-timeout"] = await gasOf(
    adjudicator.connect(bob).transferAllAssets(id, stateHash(id, latest), latest.outcome, 2n * ONE),
  );
}

// Voucher payments: the payer funds alone; the payee enforces its latest voucher alone.
async function openVoucherChannel(): Promise<{ fixedPart: FixedPart; id: string; funding: SignedVariablePart }> {
  const { fixedPart, id } = newChannel();
  const funding = await signBy(fixedPart, id, state(1n, ONE, 0n), [alice, bob]);
  await adjudicator.connect(alice).deposit(ZeroAddress, id, 0n, ONE, { value: ONE });
  return { fixedPart, id, funding };
}
async function voucherState(id: string, turnNum: bigint, paid: bigint): Promise<VariablePart> {
  const voucher = await signVoucher(alice, id, paid);
  return state(turnNum, ONE - paid, paid, false, encodeVoucher(voucher));
}
{
  const { fixedPart, id, funding } = await openVoucherChannel();
  const latest = await voucherState(id, 2n, parseEther("0.25"));
  const candidate = toSigned(latest, new Map([[1, "0x"]]));
  const challengeGas = await gasOf(adjudicator.connect(bob).challenge(fixedPart, [funding], candidate, "0x", NONE));
  await networkHelpers.time.increase(DURATION);
  const payoutGas = await gasOf(
    adjudicator.connect(bob).transferAllAssets(id, stateHash(id, latest), latest.outcome, ONE),
  );
  gas["voucher-redeem"] = challengeGas + payoutGas;
}
{
  // The payer challenges with the funding state (as if nothing was paid); the payee responds with its voucher.
  const { fixedPart, id, funding } = await openVoucherChannel();
  await adjudicator.connect(alice).challenge(fixedPart, [], funding, "0x", NONE);
  const response = toSigned(await voucherState(id, 2n, parseEther("0.25")), new Map([[1, "0x"]]));
  gas.respond = await gasOf(adjudicator.connect(bob).respond(fixedPart, id, funding.variablePart, response, ONE));
}

const order = [
  "deposit-first",
  "deposit-second",
  "close-cooperative",
  "challenge",
  "respond",
  "checkpoint-answers-challenge",
  "payout-after-timeout",
  "voucher-redeem",
];
const figures = Object.fromEntries(order.map((k) => [k, gas[k]]));

if (flags.update) writeFileSync(SNAPSHOT, `${JSON.stringify(figures, null, 2)}\n`);

if (flags.json) {
  console.log(JSON.stringify(figures));
} else {
  const rows = order.map((story) => {
    const anchor = ANCHOR[story];
    const ratio = anchor ? (figures[story] / anchor).toFixed(3) : "";
    return `| ${story.padEnd(28)} | ${String(figures[story]).padStart(8)} | ${String(anchor ?? "-").padStart(8)} | ${ratio.padStart(6)} |`;
  });
  console.log("| story                        |      gas |   anchor |  ratio |");
  console.log("|------------------------------|---------:|---------:|-------:|");
  for (const row of rows) console.log(row);
  console.log("");
  for (const [name, { stories, target }] of Object.entries(LIFECYCLES)) {
    const ours = stories.reduce((sum, s) => sum + figures[s], 0);
    const theirs = stories.reduce((sum, s) => sum + ANCHOR[s], 0);
    const ratio = ours / theirs;
    const verdict = ratio <= target ? "meets" : "MISSES";
    console.log(`${name}: ${ours} vs ${theirs} = ${ratio.toFixed(3)}x (${verdict} target ${target}x)`);
  }
  const above = order.filter((s) => ANCHOR[s] !== undefined && figures[s] > ANCHOR[s]);
  console.log(above.length === 0 ? "no story above its anchor" : `ABOVE ANCHOR: ${above.join(", ")}`);
}

if (flags.check) {
  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const diffs = order.filter((s) => committed[s] !== figures[s]);
  if (diffs.length > 0) {
    for (const s of diffs) console.error(`gas changed: ${s} ${committed[s]} -> ${figures[s]}`);
    console.error("run `npm run gas -- --update` and commit gas-snapshot.json if the change is intended");
    process.exit(1);
  }
  console.error("gas snapshot matches");
}
