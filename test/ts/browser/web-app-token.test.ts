// The web app priced in an ERC-20 token: `piecepay web --token` offers the chain's test token (USD6, 6 decimals)
// next to ETH; a seeding page asks 0.5 USD6 a piece, a leecher page pays in USD6 from its development account (one
// approval per channel, then the deposit). The chain is the judge: the token moves price x pieces to the seeder, the
// leecher keeps the rest, and the leecher's account approved the adjudicator once.
import { expect } from "chai";
import { parseUnits } from "ethers";
import { toDestination } from "../../../sdk/node.js";
import { fileBytes } from "../helpers/file-bytes.js";

import { connectDev, downloadState, seedFile, startDownload, useWebApp, waitForDownload } from "./web-app.js";

describe("the web app priced in an ERC-20 token", function () {
  this.timeout(180_000);
  const suite = useWebApp({ token: true });

  it("a page seeds at 0.5 USD6 a piece, another pays in USD6 with one approval, and the token moves price x pieces", async () => {
    const { provider, adjudicator } = suite.app;
    const token = suite.app.token ?? expect.fail("the test token");
    const asset = await token.getAddress();
    const start = await provider.getBlockNumber();
    const seederPage = await suite.open(suite.app.url);
    const seeder = await connectDev(seederPage.page);
    const link = await seedFile(
      seederPage.page,
      { name: "token.bin", bytes: fileBytes(1 << 20, "token") },
      "0.5",
      asset,
    );
    const leecherPage = await suite.open(link);
    const leecher = await connectDev(leecherPage.page);
    await (await token.mint(leecher, parseUnits("1000", 6))).wait();
    await startDownload(leecherPage.page, "0.5", "1000", asset);
    await waitForDownload(leecherPage.page, "settled", 120_000);
    const { have, pieces } = await downloadState(leecherPage.page);
    expect(have).to.equal(pieces);

    const price = parseUnits("0.5", 6);
    expect(await token.balanceOf(seeder), "the seeder: price x pieces in USD6").to.equal(price * BigInt(pieces));
    expect(await token.balanceOf(leecher), "the leecher: the rest").to.equal(
      parseUnits("1000", 6) - price * BigInt(pieces),
    );
    const events = await adjudicator.queryFilter(adjudicator.filters.PaidOut(), start);
    const toSeeder = events.filter((e) => e.args.destination === toDestination(seeder));
    expect(toSeeder.map((e) => e.args.asset)).to.deep.equal([asset]);
    const approvals = await token.queryFilter(token.filters.Approval(leecher), start);
    expect(approvals, "one approval for the one channel").to.have.length(1);
    const shown = await leecherPage.page.locator('[data-testid="transfer"]').getByTestId("total").textContent();
    expect(shown).to.include("USD6");
  });
});
