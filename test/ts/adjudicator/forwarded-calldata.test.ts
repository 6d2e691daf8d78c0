// Regressions of the adversarial review of respond's app call. Solidity decodes a NESTED offset (a struct member's
// or an array element's) with a signed bound check only (`access_calldata_tail`), so a negative nested offset points
// backwards, into respond's head. The first forwarding (99eae11) sent the app respond's tail under a REORDERED head,
// so a struct in the head was read from different words by the two sides: with `response.variablePart` at the last
// head word the adjudicator took heldEth as the outcome's offset and the app the response's offset, and a payee
// registered and was paid an outcome that the app never checked (theft of a token channel), or registered the empty
// outcome (the payer's tokens locked for good).
//
// respond now takes requireValidTransition's parameters first and in its order (fixedPart, channelId, challenged,
// response), heldEth after them, and hands the app its call data after the selector unchanged. The same attack
// (response.variablePart at head word 0x80, heldEth) now makes both sides read the same outcome: the voucher app
// rejects it. An app that accepts anything shows that what is registered is exactly what the app decoded.
import { expect } from "chai";
import { concat, dataSlice, id as keccakId, ZeroAddress } from "ethers";
import { toDestination, type VariablePart } from "../../../sdk/index.js";
import { EchoApp__factory, TestToken__factory } from "../../../typechain-types/index.js";
import { deployFixture, ethState, signed, voucherState } from "../helpers/fixtures.js";
import { appView, expectRegisteredWhatAppSaw, NONE, responseInHead, ZERO32 } from "./forwarding.js";

const TOKENS = 1_000_000n;

/**
 * A token channel [alice payer, bob payee] holding TOKENS of alice's and `dustEth` wei that bob deposited, with app
 * `app` (the voucher app by default), challenged with the funding state (turn 1, signed by both).
 */
async function challengedTokenChannel(dustEth: bigint, app?: string) {
  const f = await deployFixture();
  const token = await new TestToken__factory(f.deployer).deploy();
  await token.mint(f.alice.address, TOKENS);
  const { fixedPart, id } = f.channel({ channelNonce: 7n, ...(app ? { appDefinition: app } : {}) });
  const tokenAddress = await token.getAddress();
  await token.connect(f.alice).approve(await f.adjudicator.getAddress(), TOKENS);
  await f.adjudicator.connect(f.alice).deposit(tokenAddress, id, 0n, TOKENS);
  if (dustEth > 0n) await f.adjudicator.connect(f.bob).deposit(ZeroAddress, id, 0n, dustEth, { value: dustEth });
  const funding = ethState(f.alice.address, f.bob.address, 1n, TOKENS, 0n, { asset: tokenAddress });
  await f.adjudicator
    .connect(f.alice)
    .challenge(fixedPart, [], await signed(fixedPart, id, funding, [f.alice, f.bob]), "0x", NONE);
  return { f, token, tokenAddress, fixedPart, id, funding };
}

function stolenOutcome(tokenAddress: string, alice: string, bob: string): VariablePart["outcome"] {
  return [
    {
      asset: tokenAddress,
      allocations: [
        { destination: toDestination(alice), amount: 0n },
        { destination: toDestination(bob), amount: TOKENS },
      ],
    },
  ];
}

describe("respond's app call: a nested offset back into the head (review regressions)", () => {
  it("both selectors end in a nonzero byte, so a word read at call data position 0 to 3 is never a small value", async () => {
    const f = await deployFixture();
    const respond = f.adjudicator.interface.getFunction("respond").selector;
    const transition = f.app.interface.getFunction("requireValidTransition").selector;
    for (const selector of [respond, transition]) expect(dataSlice(selector, 3, 4)).to.not.equal("0x00");
    // The layout the forwarding relies on: requireValidTransition's four parameters, then heldEth.
    expect(f.adjudicator.interface.getFunction("respond").inputs.map((p) => p.type)).to.deep.equal([
      ...f.app.interface.getFunction("requireValidTransition").inputs.map((p) => p.type),
      "uint256",
    ]);
  });

  it("a payee's outcome taking all the payer's tokens on a 1-token voucher: the app sees it too and rejects it", async () => {
    const held = 0x800n; // wei of dust the payee deposited while the channel was open
    const { f, fixedPart, id, funding, tokenAddress } = await challengedTokenChannel(held);
    const honest = await voucherState(f.alice, id, funding, 2n, 1n); // a real 1-token voucher from alice
    const stolen = stolenOutcome(tokenAddress, f.alice.address, f.bob.address);
    const { body, held: laid } = responseInHead({
      fixedPart,
      id,
      challenged: funding,
      outcome: stolen,
      appData: honest.appData,
      turnNum: 2n,
      signedBy: 2n,
      held,
      decoy: honest.outcome, // where the old app call was led; no offset leads there now
    });
    expect(laid).to.equal(held);
    const before = await f.adjudicator.statusOf(id);
    await expect(
      f.bob.sendTransaction({
        to: await f.adjudicator.getAddress(),
        data: concat([f.adjudicator.interface.getFunction("respond").selector, body]),
      }),
    )
      .to.be.revertedWithCustomError(f.app, "OutcomeNotVoucherMove")
      .withArgs(1n);
    expect(await f.adjudicator.statusOf(id)).to.deep.equal(before);
  });

  it("with no ETH in the channel, the empty outcome: the app sees it too and rejects it", async () => {
    const { f, fixedPart, id, funding } = await challengedTokenChannel(0n);
    const honest = await voucherState(f.alice, id, funding, 2n, 1n);
    const { body } = responseInHead({
      fixedPart,
      id,
      challenged: funding,
      outcome: undefined,
      appData: honest.appData,
      turnNum: 2n,
      signedBy: 2n,
      held: 0n,
      decoy: honest.outcome,
    });
    const before = await f.adjudicator.statusOf(id);
    await expect(
      f.bob.sendTransaction({
        to: await f.adjudicator.getAddress(),
        data: concat([f.adjudicator.interface.getFunction("respond").selector, body]),
      }),
    ).to.be.revertedWithCustomError(f.app, "OutcomeNotTwoPartyOneAsset");
    expect(await f.adjudicator.statusOf(id)).to.deep.equal(before);
  });

  for (const [name, dust, withOutcome] of [
    ["the outcome at 0x80 + heldEth", 0x800n, true],
    ["the empty outcome (heldEth 0)", 0n, false],
  ] as const) {
    it(`the same layouts with an app that accepts anything: registered is what the app decoded (${name})`, async () => {
      const probe = await deployFixture();
      const echo = await (await new EchoApp__factory(probe.deployer).deploy()).getAddress();
      const { f, fixedPart, id, funding, tokenAddress } = await challengedTokenChannel(dust, echo);
      const honest = await voucherState(f.alice, id, funding, 2n, 1n);
      const { body } = responseInHead({
        fixedPart,
        id,
        challenged: funding,
        outcome: withOutcome ? stolenOutcome(tokenAddress, f.alice.address, f.bob.address) : undefined,
        appData: honest.appData,
        turnNum: 2n,
        signedBy: 2n,
        held: dust,
        decoy: honest.outcome,
      });
      const data = concat([f.adjudicator.interface.getFunction("respond").selector, body]);
      const [, , before] = await f.adjudicator.statusOf(id);
      const view = await appView(f, echo, f.bob, data);
      const receipt = await (await f.bob.sendTransaction({ to: await f.adjudicator.getAddress(), data })).wait();
      if (receipt === null) throw new Error("no receipt");
      await expectRegisteredWhatAppSaw(f, id, view, before, receipt, name);
      expect(view?.to.outcome).to.deep.equal(
        withOutcome ? stolenOutcome(tokenAddress, f.alice.address, f.bob.address) : [],
      );
    });
  }

  it("a channel id other than the fixed part's: WrongChannelId, before anything else", async () => {
    const { f, fixedPart, id, funding } = await challengedTokenChannel(0n);
    const next = await voucherState(f.alice, id, funding, 2n, 1n);
    const response = await signed(fixedPart, id, next, [f.bob]);
    const other = keccakId("another channel");
    await expect(f.adjudicator.connect(f.bob).respond(fixedPart, other, funding, response, 0n))
      .to.be.revertedWithCustomError(f.adjudicator, "WrongChannelId")
      .withArgs(other);
    // The id of an open channel, a finalized one or no channel at all fares the same: only fixedPart's is taken.
    await expect(f.adjudicator.connect(f.bob).respond(fixedPart, ZERO32, funding, response, 0n))
      .to.be.revertedWithCustomError(f.adjudicator, "WrongChannelId")
      .withArgs(ZERO32);
  });
});
