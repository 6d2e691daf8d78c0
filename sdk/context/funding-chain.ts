// What the funding poll asks of the chain, answered through a context: the head, the channels a HoldingsUpdated
// log names, and one look at a channel's funding.
import { zeroPadValue } from "ethers";
import { channelOf } from "../actions/internal/channels.js";
import { PiecepayError } from "../errors.js";
import type { FundingChain } from "../funding.js";
import type { PiecepayContext } from "./types.js";

const PAYER = 0;

/** The funding poll's view of the chain through `context()` (read when the poll first looks). */
export function fundingChain(context: () => PiecepayContext): FundingChain {
  return {
    head: async () => {
      await context().chain.assert();
      return context().provider().getBlockNumber();
    },
    updatedIn: (ids, from, to) => holdingsUpdatedIn(context(), ids, from, to),
    look: (id, to) => fundingLook(context(), id, to),
    log: (event, fields) => context().log(event, fields),
  };
}

/** The ids among `ids` that a `HoldingsUpdated` log of the adjudicator names in blocks `from..to`: one request. */
async function holdingsUpdatedIn(context: PiecepayContext, ids: string[], from: number, to: number) {
  const event = context.adjudicator.interface.getEvent("HoldingsUpdated");
  const logs = await context.provider().getLogs({
    address: context.adjudicator.target as string,
    topics: [event.topicHash, ids.map((id) => zeroPadValue(id, 32))],
    fromBlock: from,
    toBlock: to,
  });
  return new Set(logs.map((log) => (log.topics[1] ?? "").toLowerCase()));
}

/** One look at a channel's funding as of block `blockTag`; records the channel open once it is funded. */
async function fundingLook(context: PiecepayContext, id: string, blockTag: number) {
  const record = await channelOf(context, id);
  const funding = await context.store.getSupportedState(id);
  const wanted = funding?.variablePart.outcome[0].allocations[PAYER].amount ?? 0n;
  const held = await context.adjudicator.holdings(record.asset, id, { blockTag });
  const [, finalizesAt] = await context.adjudicator.statusOf(id, { blockTag });
  if (finalizesAt !== 0n) {
    throw new PiecepayError("CHANNEL_NOT_OPEN", `channel ${id} was challenged before it opened`);
  }
  if (held < wanted) return { record, held, wanted };
  // Vouchers are only enforceable up to the payer's allocation in the funding state, whatever else the channel
  // holds: that is the most a voucher may promise.
  // Only a channel still waiting for its deposit opens: not one that a close or a challenge moved on meanwhile.
  const open =
    (await context.store.updateChannel(id, (now) =>
      now.phase === "proposed" || now.phase === "funding" ? { ...now, deposited: wanted, phase: "open" } : undefined,
    )) ?? record;
  context.log("channel-funding-seen", { channelId: id, held });
  return { record: open, held, wanted };
}
