// createPiecepayContext (sdk/context/context.ts) and the hub's two apps: optional addresses, each checked like the
// voucher app's when given (code on the chain, the chain id first), absent as undefined; `hubApps` refuses a context
// without them, saying how to deploy them.
import { expect } from "chai";
import { Wallet } from "ethers";
import { createPiecepayContext, type PiecepayContextOptions } from "../../../sdk/actions/index.js";
import { hubApps } from "../../../sdk/context/context.js";
import { PiecepayError, SqliteChannelStore } from "../../../sdk/node.js";
import { LedgerApp__factory, VirtualVoucherApp__factory } from "../../../typechain-types/index.js";
import { deployFixture, FAST, networkHelpers } from "../helpers/fixtures.js";

async function hubFixture() {
  const f = await deployFixture();
  const ledgerApp = await (await new LedgerApp__factory(f.deployer).deploy()).getAddress();
  const virtualApp = await (await new VirtualVoucherApp__factory(f.deployer).deploy()).getAddress();
  return { ...f, ledgerApp, virtualApp };
}

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<PiecepayError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    expect(error).to.be.instanceOf(PiecepayError);
    return error as PiecepayError;
  }
  return expect.fail("expected a PiecepayError");
}

describe("createPiecepayContext", function () {
  const stores: SqliteChannelStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  async function contextWith(extra: Partial<PiecepayContextOptions>) {
    const f = await networkHelpers.loadFixture(hubFixture);
    const store = new SqliteChannelStore(":memory:");
    stores.push(store);
    const options = {
      signer: f.alice,
      chainId: f.chainId,
      adjudicator: f.adjudicatorAddress,
      voucherApp: f.appAddress,
      store,
      ...FAST,
    };
    return { f, create: () => createPiecepayContext({ ...options, ...extra }) };
  }

  describe("when the hub's apps are given", function () {
    it("connects each at its address, and hubApps returns them", async function () {
      const f = await networkHelpers.loadFixture(hubFixture);
      const { create } = await contextWith({ ledgerApp: f.ledgerApp, virtualApp: f.virtualApp });
      const context = await create();
      expect(context.ledgerApp?.target).to.equal(f.ledgerApp);
      expect(context.virtualApp?.target).to.equal(f.virtualApp);
      const apps = hubApps(context);
      expect(apps.ledgerApp.target).to.equal(f.ledgerApp);
      expect(apps.virtualApp.target).to.equal(f.virtualApp);
    });

    it("refuses a ledger app address with no code, naming it: NOT_DEPLOYED", async function () {
      const f = await networkHelpers.loadFixture(hubFixture);
      const nowhere = Wallet.createRandom().address;
      const { create } = await contextWith({ ledgerApp: nowhere, virtualApp: f.virtualApp });
      const error = await refusal(create());
      expect(error.code).to.equal("NOT_DEPLOYED");
      expect(error.shortMessage).to.equal(`no ledger app at ${nowhere} on chain ${f.chainId}`);
      expect(error.message).to.include("npm run deploy:localhost").and.include("piecepay chain");
    });

    it("refuses a virtual voucher app address with no code, naming it: NOT_DEPLOYED", async function () {
      const f = await networkHelpers.loadFixture(hubFixture);
      const nowhere = Wallet.createRandom().address;
      const error = await refusal((await contextWith({ ledgerApp: f.ledgerApp, virtualApp: nowhere })).create());
      expect(error.code).to.equal("NOT_DEPLOYED");
      expect(error.shortMessage).to.equal(`no virtual voucher app at ${nowhere} on chain ${f.chainId}`);
    });

    it("checks the chain id before anything: WRONG_CHAIN on another chain", async function () {
      const f = await networkHelpers.loadFixture(hubFixture);
      const { create } = await contextWith({ chainId: 1n, ledgerApp: f.ledgerApp, virtualApp: f.virtualApp });
      expect((await refusal(create())).code).to.equal("WRONG_CHAIN");
    });
  });

  describe("when they are not given", function () {
    it("makes the context without them, and hubApps refuses it naming what is missing and how to deploy it", async function () {
      const f = await networkHelpers.loadFixture(hubFixture);
      const context = await (await contextWith({})).create();
      expect(context.ledgerApp).to.equal(undefined);
      expect(context.virtualApp).to.equal(undefined);
      const error = await refusal(() => hubApps(context));
      expect(error.code).to.equal("NOT_DEPLOYED");
      expect(error.shortMessage).to.equal("the hub needs ledgerApp and virtualApp, which this context was not given");
      expect(error.message).to.include("npm run deploy").and.include("piecepay chain");
      const half = await (await contextWith({ ledgerApp: f.ledgerApp })).create();
      expect((await refusal(() => hubApps(half))).shortMessage).to.equal(
        "the hub needs virtualApp, which this context was not given",
      );
    });
  });
});
