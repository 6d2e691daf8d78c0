// The contracts' demo on an embedded chain (Hardhat's in-process EVM): a payer opens a voucher channel with a
// payee, pays three vouchers off chain, and the channel settles twice over:
//   1. cooperatively: one transaction pays both;
//   2. by dispute: the payer vanishes and the payee enforces its latest voucher alone (challenge, wait, payout).
// Prints balances before and after, and the gas of every transaction.
//
//   npm run demo
import { formatEther, parseEther, ZeroAddress } from "ethers";
import { network } from "hardhat";
import {
  channelId,
  encodeVoucher,
  type FixedPart,
  NO_REGISTRATION,
  signBy,
  signVoucher,
  stateHash,
  toDestination,
  toSigned,
  type VariablePart,
  type Voucher,
} from "../sdk/node.js";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../typechain-types/index.js";

const { ethers, networkHelpers } = await network.create({ network: "default" });
const [deployer, payer, payee] = await ethers.getSigners();
const adjudicator = await new Adjudicator__factory(deployer).deploy();
const app = await new VoucherPaymentApp__factory(deployer).deploy();
const chainId = (await ethers.provider.getNetwork()).chainId;
const adjudicatorAddress = await adjudicator.getAddress();
const DEPOSIT = parseEther("1");
const PRICE_PER_PIECE = parseEther("0.01");
const DURATION = 3600n;

console.log(`chain ${chainId}: adjudicator ${adjudicatorAddress}, voucher app ${await app.getAddress()}`);

function outcome(paid: bigint): VariablePart["outcome"] {
  return [
    {
      asset: ZeroAddress,
      allocations: [
        { destination: toDestination(payer.address), amount: DEPOSIT - paid },
        { destination: toDestination(payee.address), amount: paid },
      ],
    },
  ];
}

async function gasOf(label: string, sent: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<void> {
  const receipt = await (await sent).wait();
  console.log(`  tx ${label.padEnd(34)} gas ${receipt?.gasUsed}`);
}

async function balances(): Promise<[bigint, bigint]> {
  return [await ethers.provider.getBalance(payer.address), await ethers.provider.getBalance(payee.address)];
}

async function openAndPay(nonce: bigint, pieces: number[]) {
  const fixedPart: FixedPart = {
    participants: [payer.address, payee.address],
    channelNonce: nonce,
    appDefinition: await app.getAddress(),
    challengeDuration: DURATION,
  };
  const id = channelId(chainId, adjudicatorAddress, fixedPart);
  const funding: VariablePart = { outcome: outcome(0n), appData: "0x", turnNum: 1n, isFinal: false };
  const fundingSigned = await signBy(fixedPart, id, funding, [payer, payee]);
  await gasOf("deposit (payer)", adjudicator.connect(payer).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT }));
  let paid = 0n;
  const vouchers: Voucher[] = [];
  for (const count of pieces) {
    paid += PRICE_PER_PIECE * BigInt(count);
    vouchers.push(await signVoucher(payer, id, paid)); // off chain: no transaction
    console.log(`  voucher: ${count} pieces, cumulative ${formatEther(paid)} ETH (signed off chain)`);
  }
  return { fixedPart, id, fundingSigned, paid, voucher: vouchers[vouchers.length - 1] };
}

function report(label: string, before: [bigint, bigint], after: [bigint, bigint]) {
  console.log(
    `  ${label}: payer ${formatEther(after[0] - before[0])} ETH, payee ${formatEther(after[1] - before[1])} ETH`,
  );
}

console.log("\n1. Cooperative close");
{
  const before = await balances();
  const { fixedPart, id, paid } = await openAndPay(1n, [10, 20, 5]);
  const final: VariablePart = { outcome: outcome(paid), appData: "0x", turnNum: 2n, isFinal: true };
  const signed = await signBy(fixedPart, id, final, [payee]);
  const candidate = toSigned(
    final,
    new Map([
      [0, "0x"],
      [1, signed.sigs[0]],
    ]),
  );
  await gasOf(
    "concludeAndTransferAllAssets",
    adjudicator.connect(payer).concludeAndTransferAllAssets(fixedPart, candidate),
  );
  report("balance change (incl. gas)", before, await balances());
}

console.log("\n2. The payer vanishes; the payee enforces its latest voucher alone");
{
  const { fixedPart, id, fundingSigned, paid, voucher } = await openAndPay(2n, [7, 8]);
  const before = await balances();
  const latest: VariablePart = { outcome: outcome(paid), appData: encodeVoucher(voucher), turnNum: 2n, isFinal: false };
  const candidate = toSigned(latest, new Map([[1, "0x"]]));
  await gasOf(
    "challenge (payee, with voucher)",
    adjudicator.connect(payee).challenge(fixedPart, [fundingSigned], candidate, "0x", NO_REGISTRATION),
  );
  await networkHelpers.time.increase(DURATION);
  console.log(`  ... ${DURATION} s of challenge duration pass with no answer`);
  await gasOf(
    "transferAllAssets (payee)",
    // The ETH committed with the registered state: the payer's deposit (ChallengeRegistered.heldEth says so).
    adjudicator.connect(payee).transferAllAssets(id, stateHash(id, latest), latest.outcome, DEPOSIT),
  );
  const after = await balances();
  report("balance change since the challenge (payee pays gas)", before, after);
  console.log(
    `  payee was owed ${formatEther(paid)} ETH; holdings left: ${await adjudicator.holdings(ZeroAddress, id)}`,
  );
}
