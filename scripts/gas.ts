// Measures the gas of each user story on Hardhat's in-process EVM (prague) and compares it with the anchor
// (statechannels' NitroAdjudicator), the virtual-channel stories with go-nitro's published figures, and all of them
// with the committed snapshot.
//
//   npm run gas                  table: story, gas, anchor, ratio; lifecycles against their targets and go-nitro
//   npm run gas -- --json        one JSON object {story: gasUsed}
//   npm run gas -- --check       exit 1 unless the figures equal gas-snapshot.json
//   npm run gas -- --update      rewrite gas-snapshot.json
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ContractTransactionResponse, parseEther, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";
import {
  fundGuarantee,
  hubFee,
  ledgerOutcome,
  reclaimEffects,
  virtualChannelOutcome,
  virtualNonce,
  virtualVoucherState,
} from "../sdk/hub/index.js";
import {
  channelId,
  encodeVoucher,
  type FixedPart,
  type Outcome,
  outcomeHash,
  type SignedVariablePart,
  signBy,
  signVoucher,
  stateHash,
  toDestination,
  toSigned,
  type VariablePart,
} from "../sdk/node.js";
import {
  Adjudicator__factory,
  LedgerApp__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../typechain-types/index.js";

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
/**
 * go-nitro's published `ETHexitSadVirtualFunded` steps (gasResults.json at commit 64c4ee9 of statechannels/go-nitro):
 * their figures on their EVM and hardfork, not re-measured here.
 */
const GO_NITRO: Record<string, number> = {
  "ledger-challenge": 122_389, // challengeL
  "virtual-challenge": 172_692, // challengeV
  "reclaim-payee-side": 61_713, // reclaimL
  "ledger-payout-after-reclaim": 113_726, // transferAllAssetsL
};
const GO_NITRO_TOTAL = 470_520;
const LIFECYCLES: Record<string, { stories: string[]; target: number }> = {
  "happy (deposit-first + close-cooperative)": { stories: ["deposit-first", "close-cooperative"], target: 0.75 },
  "dispute (deposit-first + challenge + payout-after-timeout)": {
    stories: ["deposit-first", "challenge", "payout-after-timeout"],
    target: 0.75,
  },
};

/** ADR 0021's exits as sums of stories; seeder-forced-exit has the shape of go-nitro's ETHexitSadVirtualFunded. */
const VIRTUAL_LIFECYCLES: Record<string, string[]> = {
  "seeder-forced-exit": ["ledger-challenge", "virtual-challenge", "reclaim-payee-side", "ledger-payout-after-reclaim"],
  "hub-recovery": ["ledger-challenge", "reclaim-payer-side", "ledger-payout-after-reclaim"],
};

const { values: flags } = parseArgs({
  options: { json: { type: "boolean" }, check: { type: "boolean" }, update: { type: "boolean" } },
});

const { ethers, networkHelpers } = await network.create({ network: "default" });
const [deployer, alice, bob, leecher, hub, seeder] = await ethers.getSigners();
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

// Virtual channels (ADR 0021): ledgers A [leecher, hub] and B [seeder, hub] with the real LedgerApp, each with one
// guarantee of x for V [leecher, hub, seeder] with the real VirtualVoucherApp, its fee (10 bps) in its nonce; every
// state is built by the SDK. The apps are deployed after every story above, so that no address they hash moves.
const ledgerApp = await (await new LedgerApp__factory(deployer).deploy()).getAddress();
const virtualApp = await (await new VirtualVoucherApp__factory(deployer).deploy()).getAddress();
const FEE_BPS = 10n;
/** x, what the leecher puts into V (guaranteed in both ledgers), and p, the largest voucher. */
const X = parseEther("0.4");
const P = parseEther("0.1");
/** What a finalized channel owes, as reclaim and transferAllAssets are told it. */
interface Owed {
  stateHash: string;
  outcome: Outcome;
  heldEth: bigint;
}
type Channel = { fixedPart: FixedPart; id: string };

function channelOf(participants: (typeof alice)[], app: string, channelNonce: bigint): Channel {
  const fixedPart: FixedPart = {
    participants: participants.map((p) => p.address),
    channelNonce,
    appDefinition: app,
    challengeDuration: DURATION,
  };
  return { fixedPart, id: channelId(chainId, adjudicatorAddress, fixedPart) };
}
let virtualCount = 0n;
/** A new V and its funding state V0 [x, 0, 0] (turn 0), signed by all three. */
async function newVirtual(): Promise<Channel & { v0: VariablePart; v0Signed: SignedVariablePart }> {
  const v = channelOf([leecher, hub, seeder], virtualApp, virtualNonce(FEE_BPS, ++virtualCount));
  const outcome = virtualChannelOutcome(ZeroAddress, leecher.address, hub.address, seeder.address, X);
  const v0: VariablePart = { outcome, appData: "0x", turnNum: 0n, isFinal: false };
  return { ...v, v0, v0Signed: await signBy(v.fixedPart, v.id, v0, [leecher, hub, seeder]) };
}
/** `vp` signed by every participant of `channel`, the sender's own signature implied (sending is signing). */
async function signedAllSentBy(sender: typeof alice, channel: Channel, vp: VariablePart): Promise<SignedVariablePart> {
  const others = [leecher, hub, seeder].filter(
    (s) => s !== sender && channel.fixedPart.participants.includes(s.address),
  );
  const signed = await signBy(channel.fixedPart, channel.id, vp, others);
  const sigs = new Map<number, string>([[channel.fixedPart.participants.indexOf(sender.address), "0x"]]);
  let next = 0;
  for (let i = 0; i < channel.fixedPart.participants.length; i++) if (!sigs.has(i)) sigs.set(i, signed.sigs[next++]);
  return toSigned(vp, sigs);
}

/** Measured on the payer's ledger A, where they differ from the stories (measured on B): printed, not in the snapshot. */
const payerSide: Record<string, number> = {};
{
  const v = await newVirtual();
  const a = channelOf([leecher, hub], ledgerApp, ++nonce);
  const b = channelOf([seeder, hub], ledgerApp, ++nonce);
  await adjudicator.connect(leecher).deposit(ZeroAddress, a.id, 0n, ONE, { value: ONE });
  await adjudicator.connect(hub).deposit(ZeroAddress, b.id, 0n, ONE, { value: ONE });
  // Each ledger's latest state: turn 0 with the deposit, then V's guarantee added (turn 1), signed by both.
  const ledger0 = (outcome: Outcome): VariablePart => ({ outcome, appData: "0x", turnNum: 0n, isFinal: false });
  const a1 = fundGuarantee(ledger0(ledgerOutcome(ZeroAddress, leecher.address, hub.address, ONE, 0n)), {
    target: v.id,
    amount: X,
    from: "user",
    supportedV0: v.v0,
  });
  const b1 = fundGuarantee(ledger0(ledgerOutcome(ZeroAddress, seeder.address, hub.address, 0n, ONE)), {
    target: v.id,
    amount: X,
    from: "hub",
    supportedV0: v.v0,
    payerGuarantee: X,
  });
  const challengeLedger = async (sender: typeof alice, ledger: Channel, latest: VariablePart) =>
    gasOf(
      adjudicator
        .connect(sender)
        .challenge(ledger.fixedPart, [], await signedAllSentBy(sender, ledger, latest), "0x", NONE),
    );

  // The seeder's forced exit: it challenges B with its latest state and V with its voucher state on V0 (signed by
  // the seeder alone, who sends it), then after D reclaims B's guarantee and pays B out.
  gas["ledger-challenge"] = await challengeLedger(seeder, b, b1);
  const vp = virtualVoucherState(v.fixedPart, v.v0, await signVoucher(leecher, v.id, P));
  const candidate = toSigned(vp, new Map([[2, "0x"]]));
  gas["virtual-challenge"] = await gasOf(
    adjudicator.connect(seeder).challenge(v.fixedPart, [v.v0Signed], candidate, "0x", NONE),
  );
  // The hub's recovery of A (the leecher vanished): it challenges A with its latest state; V is finalized by the
  // seeder's challenge.
  payerSide["ledger-challenge"] = await challengeLedger(hub, a, a1);
  await networkHelpers.time.increase(DURATION);

  const vOwed: Owed = { stateHash: stateHash(v.id, vp), outcome: vp.outcome, heldEth: 0n };
  const reclaimAndPay = async (sender: typeof alice, ledger: Channel, latest: VariablePart) => {
    const owed: Owed = { stateHash: stateHash(ledger.id, latest), outcome: latest.outcome, heldEth: ONE };
    const reclaimGas = await gasOf(
      adjudicator.connect(sender).reclaim(ledger.fixedPart, owed, 0n, 2n, v.fixedPart, vOwed),
    );
    const { updated } = reclaimEffects({
      ledger: ledger.fixedPart,
      ledgerId: ledger.id,
      ledgerOutcome: owed.outcome,
      assetIndex: 0,
      guaranteeIndex: 2,
      virtualChannel: v.fixedPart,
      virtualId: v.id,
      virtualOutcome: vOwed.outcome,
    });
    const payoutGas = await gasOf(
      adjudicator.connect(sender).transferAllAssets(ledger.id, owed.stateHash, updated, owed.heldEth),
    );
    // The reclaim freed the guarantee: the payout paid the ledger's whole 1 ETH, so nothing is held or owed.
    if ((await adjudicator.statusOf(ledger.id))[2] !== 0n) throw new Error(`${ledger.id} not paid out in full`);
    return { reclaimGas, payoutGas };
  };
  const inB = await reclaimAndPay(seeder, b, b1);
  gas["reclaim-payee-side"] = inB.reclaimGas;
  gas["ledger-payout-after-reclaim"] = inB.payoutGas;
  const inA = await reclaimAndPay(hub, a, a1);
  gas["reclaim-payer-side"] = inA.reclaimGas;
  payerSide["ledger-payout-after-reclaim"] = inA.payoutGas;
}
{
  // V closed on its own (no challenge before) by its final state V_F [x - p - fee(p), fee(p), p] at turn 1, empty
  // appData, signed by all three and sent by the payee.
  const v = await newVirtual();
  const fee = hubFee(P, FEE_BPS);
  const [exit] = v.v0.outcome;
  const amounts = [X - P - fee, fee, P];
  const vF: VariablePart = {
    outcome: [{ ...exit, allocations: exit.allocations.map((a, i) => ({ ...a, amount: amounts[i] })) }],
    appData: "0x",
    turnNum: 1n,
    isFinal: true,
  };
  const finalSigned = await signedAllSentBy(seeder, v, vF);
  gas["virtual-conclude"] = await gasOf(adjudicator.connect(seeder).conclude(v.fixedPart, finalSigned, NONE));
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
  "ledger-challenge",
  "virtual-challenge",
  "virtual-conclude",
  "reclaim-payee-side",
  "reclaim-payer-side",
  "ledger-payout-after-reclaim",
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
  console.log("");
  console.log("go-nitro: its published ETHexitSadVirtualFunded steps (its EVM and hardfork; not re-measured here)");
  for (const [story, theirs] of Object.entries(GO_NITRO)) {
    console.log(`  ${story}: ${figures[story]} vs ${theirs} = ${(figures[story] / theirs).toFixed(3)}x`);
  }
  for (const [name, stories] of Object.entries(VIRTUAL_LIFECYCLES)) {
    const ours = stories.reduce((sum, s) => sum + figures[s], 0);
    const vs = name === "seeder-forced-exit" ? ` vs ${GO_NITRO_TOTAL} = ${(ours / GO_NITRO_TOTAL).toFixed(3)}x` : "";
    console.log(`${name} (${stories.join(" + ")}): ${ours}${vs}`);
  }
  const onA = VIRTUAL_LIFECYCLES["hub-recovery"].map((s) => payerSide[s] ?? figures[s]);
  const total = onA.reduce((sum, g) => sum + g, 0);
  console.log(`hub-recovery measured on A (the stories are on B): ${onA.join(" + ")} = ${total}`);
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
