// docs/security.md row 51: never two deposits to one seeder for one torrent. A deposit whose transaction reached the
// chain but whose answer never came back (the RPC gave up on us) fails `fund`; the seeder is dropped, and webtorrent
// dials it again. That new connection must not get a second channel and a second deposit: the first may be (here: is)
// on chain, and `withdraw` recovers it.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { type TransactionRequest, ZeroAddress } from "ethers";
import { PiecepayError } from "../../../sdk/index.js";
import type { Signer } from "../helpers/fixtures.js";
import { eventually, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

/** `signer` whose first transaction is sent, and then its answer lost after the RPC's patience ran out. */
function answerLost(signer: Signer): Signer & { sent: number } {
  let sent = 0;
  return new Proxy(signer, {
    get(target, prop) {
      if (prop === "sent") return sent;
      if (prop === "sendTransaction") {
        return async (tx: TransactionRequest) => {
          const response = await target.sendTransaction(tx);
          if (++sent === 1) {
            await response.wait();
            throw new PiecepayError("RPC_UNAVAILABLE", "the RPC did not answer eth_sendRawTransaction for 120 s");
          }
          return response;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Signer & { sent: number };
}

describe("a deposit whose answer was lost", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("the seeder, dialed again, gets no second channel: one deposit on chain, recovered whole by withdraw's lookup", async function () {
    const { f } = net;
    const { torrent: seeded, port } = await net.seed(f.bob, randomBytes(8 * PIECE));
    const alice = answerLost(f.alice);
    const { leecher, torrent } = await net.leech(alice, seeded.torrentFile, [port]);
    const warnings: string[] = [];
    leecher.on("warning", (e: Error) => warnings.push(e.message));
    const failed: unknown[] = [];
    leecher.on("fund-failed", (e: unknown) => failed.push(e));
    await eventually(() => failed.length === 1, "the deposit's send to fail", 20_000);
    // The seeder was dropped; webtorrent dials it again and it offers again: the leecher asks it to continue the
    // channel, which it refuses (it forgot the channel when the connection closed unfunded); then no second
    // proposal, said so.
    // Or the seeder did see the funding before the connection closed, and continues the channel: the download
    // completes in it, still with one deposit.
    await eventually(
      () => warnings.some((w) => /may be on chain: no second deposit/.test(w)) || torrent.done || alice.sent > 1,
      "the seeder's second connection",
      20_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; the leecher's warnings: ${warnings.join(" | ")}`);
    });
    expect(alice.sent, "transactions alice sent").to.equal(1);
    const store = leecher.options.client.store;
    const channels = await store.listChannels();
    expect(channels).to.have.length(1);
    // `funding` until the chain is asked; the leecher's attempt to continue the channel with the seeder (which
    // refused: it never saw the funding) already asked it. Either way `withdraw` finds the deposit; nothing is lost.
    expect(["funding", "open"]).to.include(channels[0].phase);
    const recovered =
      channels[0].phase === "funding" ? await leecher.options.client.recoverFunding(channels[0].id) : channels[0];
    expect(recovered?.phase).to.equal("open");
    // One deposit of the whole file's price (8 pieces, within the budget), held by the channel, none other.
    expect(await f.adjudicator.holdings(ZeroAddress, channels[0].id)).to.equal(8n * PRICE);
    expect(recovered?.deposited).to.equal(8n * PRICE);
  });
});
