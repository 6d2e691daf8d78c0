// Tools for the tests of respond's app call, which forwards respond's call data after the selector unchanged:
// hand-laid call data (structs reached through negative offsets back into the head), what the app decoded (the
// EchoApp's `Seen` error) and the check that what respond registered is what the app was handed.
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, toBeHex, zeroPadValue } from "ethers";
import { channelId, fingerprint, outcomeHash, stateHash, type VariablePart } from "../../../sdk/index.js";
import { EchoApp__factory } from "../../../typechain-types/index.js";
import { type deployFixture, ethers, type Signer } from "../helpers/fixtures.js";

export const coder = AbiCoder.defaultAbiCoder();
export const OUTCOME = "tuple(address asset, tuple(bytes32 destination, uint256 amount)[] allocations)[]";
export const VARIABLE_PART = `tuple(${OUTCOME} outcome, bytes appData, uint48 turnNum, bool isFinal)`;
export const SIGNED = `tuple(${VARIABLE_PART} variablePart, uint256 signedBy, bytes[] sigs)`;
export const FIXED_PART =
  "tuple(address[] participants, uint64 channelNonce, address appDefinition, uint48 challengeDuration)";
export const ZERO32 = `0x${"00".repeat(32)}`;
export const NONE = { stateHash: ZERO32, outcomeHash: ZERO32, heldEth: 0n };
/** A 32-byte word; negative values in two's complement. */
export const word = (n: bigint | number) => zeroPadValue(toBeHex(BigInt.asUintN(256, BigInt(n))), 32);
/** The encoding of one dynamic value of `type`, without the leading offset word. */
export const tail = (type: string, value: unknown) => dataSlice(coder.encode([type], [value]), 32);
export const length = (hex: string) => (hex.length - 2) / 2;

type Fixture = Awaited<ReturnType<typeof deployFixture>>;

/** A plain copy of a decoded variable part. */
export function plainVariablePart(v: {
  outcome: { asset: string; allocations: { destination: string; amount: bigint }[] }[];
  appData: string;
  turnNum: bigint;
  isFinal: boolean;
}): VariablePart {
  return {
    outcome: v.outcome.map((e) => ({
      asset: e.asset,
      allocations: e.allocations.map((a) => ({ destination: a.destination, amount: a.amount })),
    })),
    appData: v.appData,
    turnNum: v.turnNum,
    isFinal: v.isFinal,
  };
}

/**
 * respond's call data (selector excluded) in which `response.variablePart` is the four words at 0x80 (heldEth,
 * then the three words after the head): a negative offset from the response reaches it. Its outcome is then at
 * 0x80 + heldEth (`outcome`, or the empty outcome when `held` is 0: its length word is heldEth itself), its appData
 * after the rest, its turn number `turnNum`. `decoy` is an outcome laid right after the response, where no offset
 * leads. Returns the body and the heldEth the layout needs (at least `held`, a multiple of 0x20).
 */
export function responseInHead(opts: {
  fixedPart: unknown;
  id: string;
  challenged: VariablePart;
  outcome: VariablePart["outcome"] | undefined;
  appData: string;
  turnNum: bigint;
  signedBy: bigint;
  held: bigint;
  decoy?: VariablePart["outcome"];
}): { body: string; held: bigint } {
  const fixedEnc = tail(FIXED_PART, opts.fixedPart);
  const challengedEnc = tail(VARIABLE_PART, opts.challenged);
  const decoyEnc = opts.decoy === undefined ? "0x" : tail(OUTCOME, opts.decoy);
  const sigsEnc = tail("bytes[]", ["0x"]);
  const appDataEnc = tail("bytes", opts.appData);
  const F = 0x100; // after the head (0x00-0x9f) and the variable part's three other words (0xa0-0xff)
  const C = F + length(fixedEnc);
  const R = C + length(challengedEnc);
  const sigsAt = R + 0x60 + length(decoyEnc);
  const appDataAt = sigsAt + length(sigsEnc);
  const end = appDataAt + length(appDataEnc);
  let held = opts.held;
  if (opts.outcome !== undefined && 0x80n + held < BigInt(end)) held = BigInt(end - 0x80);
  const parts = [
    word(F),
    opts.id,
    word(C),
    word(R),
    word(held), // heldEth, and the outcome's offset of the variable part at 0x80
    word(appDataAt - 0x80), // its appData's offset
    word(opts.turnNum),
    word(0), // isFinal
    fixedEnc,
    challengedEnc,
    word(0x80 - R), // response.variablePart: negative, back to head word 0x80
    word(opts.signedBy),
    word(sigsAt - R),
    decoyEnc,
    sigsEnc,
    appDataEnc,
  ];
  if (opts.outcome !== undefined) {
    parts.push(`0x${"00".repeat(Number(0x80n + held) - end)}`, tail(OUTCOME, opts.outcome));
  }
  return { body: concat(parts), held };
}

/** What the app decoded from one respond call: its four arguments. */
export type AppView = { fixedPart: unknown; channelId: string; from: VariablePart; to: VariablePart };

/**
 * Sends `data` to the adjudicator from `sender` as an eth_call with the EchoApp in echo mode: the app reverts with
 * what it decoded and respond bubbles that up. Undefined when the call reverts otherwise (before the app).
 */
export async function appView(f: Fixture, echo: string, sender: Signer, data: string): Promise<AppView | undefined> {
  const app = EchoApp__factory.connect(echo, f.deployer);
  await (await app.setEcho(true)).wait();
  let revertData: string | undefined;
  try {
    await ethers.provider.call({ from: sender.address, to: await f.adjudicator.getAddress(), data });
  } catch (e) {
    const err = e as { data?: string; info?: { error?: { data?: string } } };
    revertData = err.data ?? err.info?.error?.data;
  }
  await (await app.setEcho(false)).wait();
  if (revertData === undefined || revertData === "0x") return undefined;
  const parsed = app.interface.parseError(revertData);
  if (parsed?.name !== "Seen") return undefined;
  const [fixedPart, id, from, to] = coder.decode([FIXED_PART, "bytes32", VARIABLE_PART, SIGNED], parsed.args[0]);
  return { fixedPart, channelId: id, from: plainVariablePart(from), to: plainVariablePart(to.variablePart) };
}

/**
 * Checks that a respond that succeeded registered what the app was handed: the app's channel id is the channel's
 * (and its fixed part's), its `from` is the state registered before, and its `to` is the state the receipt's
 * ChallengeRegistered carries and the status fingerprints, with the heldEth the call carried.
 */
export async function expectRegisteredWhatAppSaw(
  f: Fixture,
  id: string,
  view: AppView | undefined,
  before: bigint,
  receipt: { logs: readonly { topics: readonly string[]; data: string }[] },
  where: string,
) {
  expect(view, `${where}: respond succeeded but the app was never handed the call`).to.not.equal(undefined);
  if (view === undefined) return;
  const topic = f.adjudicator.interface.getEvent("ChallengeRegistered").topicHash;
  const log = receipt.logs.find((l) => l.topics[0] === topic);
  expect(log, `${where}: no ChallengeRegistered`).to.not.equal(undefined);
  if (log === undefined) return;
  const [, turnNum, outcome, appData, heldEth] = coder.decode(
    ["uint48", "uint48", OUTCOME, "bytes", "uint256"],
    log.data,
  );
  expect(log.topics[1], where).to.equal(id);
  expect(view.channelId, `${where}: the app's channel id`).to.equal(id);
  expect(
    channelId(f.chainId, f.adjudicatorAddress, view.fixedPart as never),
    `${where}: the app's fixed part`,
  ).to.equal(id);
  const registered = plainVariablePart({ outcome, appData, turnNum, isFinal: false });
  expect(view.to, `${where}: the app validated another state than the one registered`).to.deep.equal(registered);
  const [, , fp] = await f.adjudicator.statusOf(id);
  expect(fp, `${where}: the fingerprint`).to.equal(
    fingerprint(stateHash(id, view.to), outcomeHash(view.to.outcome), heldEth),
  );
  expect(
    fingerprint(stateHash(id, view.from), outcomeHash(view.from.outcome), heldEth),
    `${where}: the app's from`,
  ).to.equal(before);
}
