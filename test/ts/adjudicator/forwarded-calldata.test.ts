// Adversarial review of respond's forwarded call data (shortcut A). respond checks that the three TOP-LEVEL struct
// offsets are >= 0x80, but Solidity decodes a NESTED offset (a struct member's or an array element's) with a signed
// bound check only (`access_calldata_tail`: slt(offset, calldatasize - base - 31)), so a two's-complement negative
// nested offset points backwards, into respond's head. There the adjudicator reads
//   [fixedPart offset, challenged offset, response offset, heldEth]
// and the app, given the forwarded call data, reads
//   [fixedPart offset, channelId, from offset, to offset].
// With `response.variablePart` placed at 0x60 (the last head word), the variable part's outcome offset is heldEth
// for the adjudicator and the response's offset for the app: the adjudicator hashes, registers, emits and later
// pays one outcome, the app validates another. Its appData, turnNum and isFinal (words 0x80.. of the tail) are
// common to both. The plain path (re-encoding, as on bc15e8c) hands the app the adjudicator's values, so the app
// rejects the move: these tests assert that.
import { expect } from "chai";
import { AbiCoder, concat, dataSlice, toBeHex, ZeroAddress, zeroPadValue } from "ethers";
import { fingerprint, outcomeHash, stateHash, toDestination, type VariablePart } from "../../../sdk/index.js";
import { TestToken__factory } from "../../../typechain-types/index.js";
import { DURATION, deployFixture, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";

const coder = AbiCoder.defaultAbiCoder();
const OUTCOME = "tuple(address asset, tuple(bytes32 destination, uint256 amount)[] allocations)[]";
const VARIABLE_PART = `tuple(${OUTCOME} outcome, bytes appData, uint48 turnNum, bool isFinal)`;
const FIXED_PART =
  "tuple(address[] participants, uint64 channelNonce, address appDefinition, uint48 challengeDuration)";
const word = (n: bigint | number) => zeroPadValue(toBeHex(BigInt.asUintN(256, BigInt(n))), 32);
const tail = (type: string, value: unknown) => dataSlice(coder.encode([type], [value]), 32);
const length = (hex: string) => (hex.length - 2) / 2;
const ZERO32 = `0x${"00".repeat(32)}`;
const TOKENS = 1_000_000n;

/**
 * A token channel [alice payer, bob payee] holding TOKENS of alice's and `dustEth` wei that bob deposited, challenged
 * with the funding state (turn 1, signed by both).
 */
async function challengedTokenChannel(dustEth: bigint) {
  const f = await deployFixture();
  const token = await new TestToken__factory(f.deployer).deploy();
  await token.mint(f.alice.address, TOKENS);
  const { fixedPart, id } = f.channel({ channelNonce: 7n });
  const tokenAddress = await token.getAddress();
  await token.connect(f.alice).approve(await f.adjudicator.getAddress(), TOKENS);
  await f.adjudicator.connect(f.alice).deposit(tokenAddress, id, 0n, TOKENS);
  if (dustEth > 0n) await f.adjudicator.connect(f.bob).deposit(ZeroAddress, id, 0n, dustEth, { value: dustEth });
  const funding = ethState(f.alice.address, f.bob.address, 1n, TOKENS, 0n, { asset: tokenAddress });
  await f.adjudicator
    .connect(f.alice)
    .challenge(fixedPart, [], await signed(fixedPart, id, funding, [f.alice, f.bob]), "0x", {
      stateHash: ZERO32,
      outcomeHash: ZERO32,
      heldEth: 0n,
    });
  return { f, token, tokenAddress, fixedPart, id, funding, held: dustEth };
}

/**
 * respond's call data in which `response.variablePart` sits at head word 0x60 (reached by a negative offset from
 * the response). The adjudicator sees the outcome at 0x60 + heldEth (`adjudicatorOutcome`, or the empty outcome
 * when heldEth is 0: its length word is heldEth itself); the app sees it at 0x60 + responseOffset (`appOutcome`).
 * Both see `appData` and turn number 2. Bob "signs" by sending (an empty signature, signedBy = payee).
 */
function crossedRespond(
  selector: string,
  fixedPart: unknown,
  challenged: VariablePart,
  appData: string,
  appOutcome: VariablePart["outcome"],
  adjudicatorOutcome: VariablePart["outcome"] | undefined,
  held: bigint,
): string {
  const fixedEnc = tail(FIXED_PART, fixedPart);
  const challengedEnc = tail(VARIABLE_PART, challenged);
  const appOutcomeEnc = tail(OUTCOME, appOutcome);
  const sigsEnc = tail("bytes[]", ["0x"]);
  const appDataEnc = tail("bytes", appData);
  const F = 0xe0; // after the head (0x00-0x7f) and the variable part's other three words (0x80-0xdf)
  const C = F + length(fixedEnc);
  const R = C + length(challengedEnc);
  // The response: (variablePart offset, signedBy, sigs offset), the app's outcome right after it (at vp + R).
  const sigsAt = R + 0x60 + length(appOutcomeEnc);
  const appDataAt = sigsAt + length(sigsEnc);
  let body = concat([
    word(F),
    word(C),
    word(R),
    word(held), // heldEth, and the outcome offset of the variable part at 0x60 for the adjudicator
    word(appDataAt - 0x60), // the variable part's appData offset (relative to 0x60)
    word(2), // turnNum
    word(0), // isFinal
    fixedEnc,
    challengedEnc,
    word(0x60 - R), // response.variablePart: negative, back to head word 0x60
    word(2), // signedBy: the payee
    word(sigsAt - R),
    appOutcomeEnc,
    sigsEnc,
    appDataEnc,
  ]);
  if (adjudicatorOutcome !== undefined) {
    const at = 0x60 + Number(held);
    expect(at).to.be.greaterThanOrEqual(length(body), "heldEth must put the adjudicator's outcome after the rest");
    body = concat([body, `0x${"00".repeat(at - length(body))}`, tail(OUTCOME, adjudicatorOutcome)]);
  }
  return concat([selector, body]);
}

describe("respond's forwarded call data: a nested offset back into the head (shortcut A)", () => {
  it("the payee registers an outcome taking all the payer's tokens while the app validates a 1-token voucher", async () => {
    const held = 0x800n; // wei of dust the payee deposited while the channel was open
    const c = await challengedTokenChannel(held);
    const { f, fixedPart, id, funding, tokenAddress } = c;
    const honest = await voucherState(f.alice, id, funding, 2n, 1n); // a real 1-token voucher from alice
    const stolen: VariablePart["outcome"] = [
      {
        asset: tokenAddress,
        allocations: [
          { destination: toDestination(f.alice.address), amount: 0n },
          { destination: toDestination(f.bob.address), amount: TOKENS },
        ],
      },
    ];
    const data = crossedRespond(
      f.adjudicator.interface.getFunction("respond").selector,
      fixedPart,
      funding,
      honest.appData,
      honest.outcome,
      stolen,
      held,
    );
    const registeredIfAccepted: VariablePart = { ...honest, outcome: stolen };
    const before = await f.adjudicator.statusOf(id);
    const tx = f.bob.sendTransaction({ to: await f.adjudicator.getAddress(), data });
    // The plain path: the app is handed the outcome the adjudicator hashed, which is no voucher move.
    let accepted = true;
    try {
      await (await tx).wait();
    } catch {
      accepted = false;
    }
    if (accepted) {
      // Show the damage before failing: bob pays himself every token once the challenge runs out.
      const [, , fp] = await f.adjudicator.statusOf(id);
      expect(fp).to.equal(fingerprint(stateHash(id, registeredIfAccepted), outcomeHash(stolen), held));
      await networkHelpers.time.increase(DURATION);
      await f.adjudicator.transferAllAssets(id, stateHash(id, registeredIfAccepted), stolen, held);
      const bobTokens = await c.token.balanceOf(f.bob.address);
      expect.fail(
        `respond accepted an outcome the app never saw: bob was paid ${bobTokens} of alice's ${TOKENS} tokens ` +
          "on a 1-token voucher",
      );
    }
    expect(await f.adjudicator.statusOf(id)).to.deep.equal(before);
  });

  it("with no ETH in the channel the payee registers the empty outcome: the payer's tokens are locked for good", async () => {
    const c = await challengedTokenChannel(0n);
    const { f, fixedPart, id, funding } = c;
    const honest = await voucherState(f.alice, id, funding, 2n, 1n);
    const data = crossedRespond(
      f.adjudicator.interface.getFunction("respond").selector,
      fixedPart,
      funding,
      honest.appData,
      honest.outcome,
      undefined,
      0n,
    );
    const before = await f.adjudicator.statusOf(id);
    let accepted = true;
    try {
      await (await f.bob.sendTransaction({ to: await f.adjudicator.getAddress(), data })).wait();
    } catch {
      accepted = false;
    }
    if (accepted) {
      const registered: VariablePart = { ...honest, outcome: [] };
      const [, , fp] = await f.adjudicator.statusOf(id);
      expect(fp).to.equal(fingerprint(stateHash(id, registered), outcomeHash([]), 0n));
      expect.fail("respond registered the empty outcome while the app validated a voucher move");
    }
    expect(await f.adjudicator.statusOf(id)).to.deep.equal(before);
  });
});
