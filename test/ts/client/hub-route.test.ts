// The leecher's rules for paying through a hub (client/session/hub-route.ts): `--max-price` bounds the price plus
// the hub's fee, so what n pieces cost through the hub (their price and the fee on the cumulative amount) is never
// above n x the maximum; a virtual channel sized by virtualAmountFor pays every piece it was sized for.
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { pricePlusFee, routeThrough, virtualAmountFor } from "../../../client/session/hub-route.js";
import { hubFee, maxVirtualVoucher } from "../../../sdk/hub/index.js";
import { Random } from "../helpers/random.js";

describe("client/session/hub-route", function () {
  it("n pieces through a hub cost at most n x pricePlusFee, and a channel of virtualAmountFor(n x price) pays them all (2,000 random cases)", function () {
    const random = new Random(0x4b0b);
    for (let i = 0; i < 2_000; i++) {
      const price = 1n + random.uint([8, 32, 64, 96][random.int(4)]);
      const feeBps = random.int(4) === 0 ? BigInt(random.int(2) * 10_000) : BigInt(random.int(10_001));
      const n = BigInt(1 + random.int(100_000));
      const vouchers = n * price;
      const cost = vouchers + hubFee(vouchers, feeBps);
      expect(cost, `n ${n}, price ${price}, fee ${feeBps}`).to.be.at.most(n * pricePlusFee(price, feeBps));
      const x = virtualAmountFor(vouchers, feeBps);
      expect(x).to.equal(cost);
      expect(maxVirtualVoucher(x, feeBps)).to.be.at.least(vouchers);
    }
  });

  it("takes the route through our hub only, whatever the case of its address", function () {
    const hub = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
    const ledger = `0x${"ab".repeat(32)}`;
    const account = { connection: { info: { hub } }, ledgerId: ledger } as never;
    const offer = { payee: ZeroAddress, asset: ZeroAddress, pricePerPiece: 1n };
    expect(routeThrough({ ...offer, hubs: [{ hub: hub.toLowerCase(), ledger }] }, account)).to.deep.equal({
      hub: hub.toLowerCase(),
      ledger,
    });
    expect(routeThrough({ ...offer, hubs: [{ hub: ZeroAddress, ledger }] }, account)).to.equal(undefined);
    expect(routeThrough(offer, account)).to.equal(undefined);
    expect(routeThrough({ ...offer, hubs: [{ hub, ledger }] }, undefined)).to.equal(undefined);
  });
});
