// waitForFunding's one poll for every awaited channel (docs/security.md rows 35 and 36): a constant number of RPC
// requests per interval however many channels wait, early looks coalesced, the confirmation depth and FUNDING_TIMEOUT
// kept, and a wait that can be stopped. The chain says what is funded.
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { type PiecepayClient, PiecepayError, SqliteChannelStore } from "../../../sdk/node.js";
import { countRpc, sleep } from "../client/raw-session.js";
import { networkHelpers, sdkClient } from "../helpers/fixtures.js";
import { sdkBed } from "./bed.js";

const DEPOSIT = 1000n;
const POLL = 100;

describe("waitForFunding: one poll for every awaited channel", function () {
  this.timeout(30_000);
  const bed = sdkBed("piecepay-funding-");
  /** Ends the waits a test leaves behind, so that no poll runs into the next test. */
  let stop: AbortController;
  beforeEach(() => {
    stop = new AbortController();
  });
  afterEach(() => stop.abort());

  /** A payee polling every POLL ms at `confirmations`, and `n` channels alice proposed and it joined. */
  async function pending(n: number, confirmations = 1) {
    const { f } = bed;
    const payer = await bed.clientFor(f.alice);
    const payee: PiecepayClient = await sdkClient(f, f.bob, new SqliteChannelStore(":memory:"), {
      pollingIntervalMs: POLL,
      confirmations,
    });
    const channels = [];
    for (let i = 0; i < n; i++) {
      const proposal = await payer.propose({ payee: f.bob.address, deposit: DEPOSIT });
      channels.push({ proposal, acceptance: await payee.join(proposal) });
    }
    return { payer, payee, channels };
  }

  /** Whether `promise` settled, without waiting for it. */
  function watch<T>(promise: Promise<T>) {
    const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
    promise.then(
      (value) => Object.assign(state, { value, settled: true }),
      (error) => Object.assign(state, { error, settled: true }),
    );
    return state;
  }

  it("20 channels awaited at once cost a constant number of requests per interval; each resolves once its deposit is confirmed", async function () {
    const { payer, payee, channels } = await pending(20, 2);
    const waits = channels.map((c) =>
      watch(payee.waitForFunding(c.acceptance.channelId, { timeoutMs: 20_000, signal: stop.signal })),
    );
    await sleep(2 * POLL); // the first look at each channel
    const rpc = countRpc();
    await sleep(10 * POLL);
    rpc.stop();
    // A look: chain id, head, one eth_getLogs for all 20. Twenty polls of their own made 20 x 4 per interval.
    expect(rpc.total(), JSON.stringify([...rpc.byMethod])).to.be.at.most(3 * 12);
    expect(rpc.byMethod.get("eth_call") ?? 0).to.equal(0);

    const [first] = channels;
    await payer.fund(first.proposal, first.acceptance);
    await sleep(4 * POLL);
    // Mined, but not yet 2 blocks deep: still waiting.
    expect(waits[0].settled).to.equal(false);
    await networkHelpers.mine(1);
    await sleep(4 * POLL);
    expect(waits[0].error).to.equal(undefined);
    expect(waits[0].value).to.deep.include({ phase: "open", deposited: DEPOSIT });
    expect(waits.slice(1).every((w) => !w.settled)).to.equal(true);
    expect(await payee.adjudicator.holdings(ZeroAddress, first.acceptance.channelId)).to.equal(DEPOSIT);
    expect((await payee.store.getChannel(channels[1].acceptance.channelId))?.phase).to.equal("proposed");
  });

  it("early looks are coalesced: a thousand checkFundingNow calls make at most one extra look per interval", async function () {
    const { payee, channels } = await pending(4);
    for (const c of channels) {
      void payee.waitForFunding(c.acceptance.channelId, { timeoutMs: 20_000, signal: stop.signal }).catch(() => 0);
    }
    await sleep(2 * POLL);
    const rpc = countRpc();
    const started = Date.now();
    for (let i = 0; i < 1000; i++) {
      payee.checkFundingNow(channels[i % 4].acceptance.channelId);
      if (i % 100 === 0) await sleep(POLL / 5);
    }
    await sleep(POLL);
    rpc.stop();
    const intervals = Math.ceil((Date.now() - started) / POLL);
    expect(rpc.total(), JSON.stringify([...rpc.byMethod])).to.be.at.most(3 * 2 * (intervals + 1));
  });

  it("a channel never funded fails with FUNDING_TIMEOUT; an aborted wait with FUNDING_ABORTED; then nothing is polled", async function () {
    const { payee, channels } = await pending(2);
    const timedOut = watch(payee.waitForFunding(channels[0].acceptance.channelId, { timeoutMs: 3 * POLL }));
    const aborted = watch(payee.waitForFunding(channels[1].acceptance.channelId, { signal: stop.signal }));
    stop.abort();
    await sleep(6 * POLL);
    expect(timedOut.error).to.be.instanceOf(PiecepayError).with.property("code", "FUNDING_TIMEOUT");
    expect(String(timedOut.error)).to.match(/holds 0 of the 1000 promised/);
    expect(aborted.error).to.be.instanceOf(PiecepayError).with.property("code", "FUNDING_ABORTED");
    const rpc = countRpc();
    await sleep(4 * POLL);
    rpc.stop();
    expect(rpc.total()).to.equal(0);
    for (const c of channels) {
      expect(await payee.adjudicator.holdings(ZeroAddress, c.acceptance.channelId)).to.equal(0n);
    }
  });
});
