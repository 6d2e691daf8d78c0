// Parity in the other direction: what the contracts refuse, the SDK's mirrors refuse too, with the same code,
// instead of masking or wrapping the value; and every custom error the contracts can revert with (their own,
// their libraries' and OpenZeppelin's) decodes to a code of PiecepayErrorCode.
import { expect } from "chai";
import { type BigNumberish, parseEther, zeroPadValue } from "ethers";
import { reclaimEffects } from "../../../sdk/hub/index.js";
import {
  type ChannelStatus,
  CONTRACT_ERROR_CODES,
  ContractRevertError,
  computePayouts,
  decodeContractError,
  PiecepayError,
  packStatus,
  SDK_ERROR_CODES,
  toContractErrorCode,
  VoucherError,
} from "../../../sdk/index.js";
import {
  Adjudicator__factory,
  ILedgerApp__factory,
  IVirtualVoucherApp__factory,
  LedgerApp__factory,
  VirtualVoucherApp__factory,
  VoucherPaymentApp__factory,
} from "../../../typechain-types/index.js";
import { deployFixture, ethers, networkHelpers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";

/** The SDK's verdict: "ok" with the value, or the PiecepayError's code. */
function sdkVerdict<T>(run: () => T): { ok: T } | { code: string } {
  try {
    return { ok: run() };
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(PiecepayError);
    return { code: (error as PiecepayError).code };
  }
}

/** The contract's verdict through the SDK's decoder: "ok" with the value, or the decoded error's code. */
async function contractVerdict<T>(run: () => Promise<T>): Promise<{ ok: T } | { code: string }> {
  try {
    return { ok: await run() };
  } catch (error) {
    const decoded = decodeContractError(error);
    expect(decoded, `a revert the SDK cannot decode: ${String(error)}`).to.be.instanceOf(ContractRevertError);
    return { code: (decoded as ContractRevertError).code };
  }
}

const ZERO = "0x0000000000000000000000000000000000000000";

describe("SDK parity with the contracts' refusals", function () {
  it("the error codes are exactly the contracts' custom errors (full ABIs: libraries and OpenZeppelin included), and no code means two things", function () {
    const errors = [
      ...Adjudicator__factory.abi,
      ...VoucherPaymentApp__factory.abi,
      ...VirtualVoucherApp__factory.abi,
      ...LedgerApp__factory.abi,
    ].filter((f) => f.type === "error");
    const names = errors.map((f) => (f as { name: string }).name);
    expect([...new Set(names.map(toContractErrorCode))].sort()).to.deep.equal([...CONTRACT_ERROR_CODES].sort());
    expect(names).to.include.members([
      "FinalizesAtOverflow",
      "SafeCastOverflowedUintDowncast",
      "SafeERC20FailedOperation",
    ]);
    // The decoder reads the hub's apps' errors from their interfaces: they must be all the apps raise.
    const errorsOf = (abi: readonly { type: string; name?: string }[]) =>
      abi.filter((f) => f.type === "error").map((f) => f.name);
    expect(errorsOf(VirtualVoucherApp__factory.abi)).to.have.members(errorsOf(IVirtualVoucherApp__factory.abi));
    expect(errorsOf(LedgerApp__factory.abi)).to.have.members(errorsOf(ILedgerApp__factory.abi));
    // One name, one selector: the decoder keeps one error per name.
    const signatures = new Map<string, string>();
    for (const e of errors) {
      const signature = `${e.name}(${e.inputs.map((i) => i.type).join(",")})`;
      expect(signatures.get(e.name) ?? signature, e.name).to.equal(signature);
      signatures.set(e.name, signature);
    }
    const overlap = SDK_ERROR_CODES.filter((c) => (CONTRACT_ERROR_CODES as readonly string[]).includes(c));
    expect(overlap, "an SDK code that is also a contract error's").to.deep.equal([]);
    expect(new VoucherError("VOUCHER_MALFORMED", "x")).to.be.instanceOf(PiecepayError);
  });

  it("a library's revert decodes: FinalizesAtOverflow from ChannelStatusLib, with its argument", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const error = await harness.packStatus(1n, 2n ** 47n, false, 0n).then(
      () => undefined,
      (e: unknown) => decodeContractError(e),
    );
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).code).to.equal("FINALIZES_AT_OVERFLOW");
    expect((error as ContractRevertError).args).to.deep.equal([2n ** 47n]);
  });

  it("OpenZeppelin's revert decodes: a deposit that would push the holdings past 160 bits is refused (SafeCastOverflowedUintDowncast) and moves no wei", async function () {
    const { adjudicator, alice, channel } = await networkHelpers.loadFixture(deployFixture);
    const { id } = channel();
    const huge = 2n ** 160n;
    await networkHelpers.setBalance(alice.address, huge + parseEther("1"));
    const before = await ethers.provider.getBalance(await adjudicator.getAddress());
    const error = await adjudicator
      .connect(alice)
      .deposit(ethers.ZeroAddress, id, 0n, huge, { value: huge })
      .then(
        () => undefined,
        (e: unknown) => decodeContractError(e),
      );
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).code).to.equal("SAFE_CAST_OVERFLOWED_UINT_DOWNCAST");
    expect((error as ContractRevertError).args).to.deep.equal([160n, huge]);
    expect(await ethers.provider.getBalance(await adjudicator.getAddress())).to.equal(before);
  });

  it("packStatus refuses exactly what ChannelStatusLib.pack refuses, with the same code, on boundary and random fields", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(13);
    const edges = (bits: bigint) => [0n, 1n, 2n ** bits - 1n, 2n ** bits, 2n ** bits + 1n, -1n];
    const cases: ChannelStatus[] = [];
    for (const finalizesAt of [...edges(47n), ...edges(48n)]) {
      cases.push({ turnNumRecord: 1n, finalizesAt, lateEth: false, low: 5n });
    }
    for (const turnNumRecord of edges(48n)) cases.push({ turnNumRecord, finalizesAt: 0n, lateEth: true, low: 0n });
    for (const low of edges(160n)) cases.push({ turnNumRecord: 0n, finalizesAt: 7n, lateEth: false, low });
    for (let i = 0; i < 100; i++) {
      cases.push({
        turnNumRecord: random.uint(random.bool() ? 48 : 49),
        finalizesAt: random.uint(random.bool() ? 47 : 48),
        lateEth: random.bool(),
        low: random.uint(random.bool() ? 160 : 161),
      });
    }
    let refusedByBoth = 0;
    for (const status of cases) {
      const sdk = sdkVerdict(() => packStatus(status));
      const fits = (v: bigint, bits: bigint) => v >= 0n && v < 2n ** bits;
      if (!fits(status.turnNumRecord, 48n) || !fits(status.finalizesAt, 48n) || !fits(status.low, 160n)) {
        // The value cannot even be ABI-encoded as the library's parameter type: the SDK says so.
        expect(
          sdk,
          JSON.stringify(status, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
        ).to.deep.equal({
          code: "STATUS_FIELD_OUT_OF_RANGE",
        });
        refusedByBoth++;
        continue;
      }
      const chain = await contractVerdict(() =>
        harness.packStatus(status.turnNumRecord, status.finalizesAt, status.lateEth, status.low),
      );
      expect(sdk, `finalizesAt ${status.finalizesAt}`).to.deep.equal(chain);
      if ("code" in chain) refusedByBoth++;
    }
    expect(refusedByBoth, "cases refused").to.be.greaterThan(20);
  });

  it("computePayouts refuses exactly the index lists PayoutLib refuses (InvalidAllocationIndex, GuaranteeNotPayable), and agrees on the rest", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(14);
    let refused = 0;
    for (let i = 0; i < 150; i++) {
      const allocations = Array.from({ length: random.int(5) }, () => ({
        destination: randomDestination(random),
        amount: random.uint(64),
      }));
      // Any short list of small numbers: repeats, decreasing, past the end and valid ones all occur.
      const indices = Array.from({ length: random.int(4) }, () => BigInt(random.int(allocations.length + 2)));
      const held = random.uint(66);
      const sdk = sdkVerdict(() => computePayouts(held, allocations, indices));
      const chain = await contractVerdict(async () => {
        const [newAmounts, paid, totalPaid] = await harness.computePayouts(held, allocations, indices);
        return { newAmounts: [...newAmounts], paid: [...paid], totalPaid } as { [k: string]: BigNumberish[] | bigint };
      });
      expect(sdk, `case ${i}: indices ${indices}`).to.deep.equal(chain);
      if ("code" in chain) refused++;
    }
    expect(refused, "index lists refused").to.be.greaterThan(20);
  });
  it("reclaimEffects computes and refuses exactly what ReclaimLib does, on random ledgers and virtual channels", async function () {
    const { harness } = await networkHelpers.loadFixture(deployFixture);
    const random = new Random(21);
    const [payer, hub, payee, stranger] = [random.address(), random.address(), random.address(), random.address()];
    const people = [payer, hub, payee, stranger];
    const pick = () => people[random.int(people.length)];
    const verdicts = new Map<string, number>();
    for (let i = 0; i < 250; i++) {
      const virtualId = random.bytes(32);
      const otherId = random.bytes(32);
      const fixed = (participants: string[]) => ({
        participants,
        channelNonce: 1n,
        appDefinition: stranger,
        challengeDuration: 60n,
      });
      // Mostly well-formed, with one field at a time going wrong.
      const ledgerParticipants =
        random.int(5) === 0
          ? [pick(), pick(), ...(random.bool() ? [pick()] : [])]
          : [random.bool() ? payer : payee, hub];
      const virtualParticipants =
        random.int(6) === 0 ? [pick(), pick(), ...(random.bool() ? [pick()] : [])] : [payer, hub, payee];
      const asset = random.int(8) === 0 ? random.address() : ZERO;
      const allocation = (destination: string) => ({
        destination,
        amount: random.uint(random.int(4) === 0 ? 256 : 64),
      });
      const ledgerAllocations = [
        allocation(random.int(10) === 0 ? virtualId : zeroPadValue(ledgerParticipants[0], 32)),
        allocation(zeroPadValue(hub, 32)),
        ...Array.from({ length: random.int(3) }, () => allocation(random.bool() ? virtualId : otherId)),
      ];
      const ledgerOutcome = [{ asset: ZERO, allocations: ledgerAllocations }];
      const virtualOutcome = [
        {
          asset,
          allocations: Array.from({ length: random.int(8) === 0 ? 2 : 3 }, () => allocation(zeroPadValue(pick(), 32))),
        },
      ];
      const owesNothing = random.int(6) === 0;
      const assetIndex = random.int(8) === 0 ? 1 : 0;
      const guaranteeIndex = random.int(ledgerAllocations.length + 1);
      const ledgerId = random.bytes(32);
      const sdk = sdkVerdict(() =>
        reclaimEffects({
          ledger: fixed(ledgerParticipants),
          ledgerId,
          ledgerOutcome,
          assetIndex,
          guaranteeIndex,
          virtualChannel: fixed(virtualParticipants),
          virtualId,
          virtualOutcome: owesNothing ? undefined : virtualOutcome,
        }),
      );
      const chain = await contractVerdict(async () => {
        const [updated, toUser, toHub] = await harness.reclaimed(
          fixed(ledgerParticipants),
          ledgerId,
          ledgerOutcome,
          assetIndex,
          guaranteeIndex,
          fixed(virtualParticipants),
          virtualId,
          virtualOutcome,
          owesNothing,
        );
        const plain = updated.map((exit) => ({
          asset: exit.asset,
          allocations: exit.allocations.map((a) => ({ destination: a.destination, amount: a.amount })),
        }));
        return { updated: plain, toUser, toHub } as unknown as ReturnType<typeof reclaimEffects>;
      });
      expect(sdk, `case ${i}`).to.deep.equal(chain);
      const verdict = "code" in chain ? chain.code : "ok";
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    }
    // Every refusal and the success path were drawn.
    expect([...verdicts.keys()].sort()).to.include.members([
      "ok",
      "INVALID_ALLOCATION_INDEX",
      "INVALID_ASSET_INDEX",
      "GUARANTEE_TARGET_MISMATCH",
      "NOT_A_LEDGER_OUTCOME",
      "NOT_A_VIRTUAL_CHANNEL",
      "NOT_GUARANTEE_PARTIES",
      "ASSET_MISMATCH",
    ]);
  });
});

/** An external address (left-padded) or, one time in three, a channel id: a guarantee, which is never paid. */
function randomDestination(random: Random): string {
  return random.int(3) === 0 ? random.bytes(32) : zeroPadValue(random.bytes(20), 32);
}
