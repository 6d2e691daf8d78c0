// The channels panel's data and buttons: every channel in the page's store (IndexedDB) with what the chain says of
// it, and the two things a person may do: close a channel on chain when its peer is gone (a challenge with our best
// state; it finalizes after the channel's challenge duration) and withdraw a finalized one. While the page is open a
// ChannelWatcher answers any challenge against us with a newer state and, unless the person turned that off (then
// the Withdraw button does it), pays out what finalizes.
import { type ChannelPhase, ChannelWatcher, type PiecepayClient } from "../../../sdk/index.js";
import { explain } from "./errors.js";

export interface ChannelView {
  id: string;
  role: "payer" | "payee";
  /** The counterparty's label (its peer address) or its signing address. */
  peer: string;
  asset: string;
  deposited: bigint;
  /** Payer: the largest voucher we signed. Payee: the largest we received. */
  vouchers: bigint;
  phase: ChannelPhase;
  torrent?: string;
  onChain?: {
    holdings: bigint;
    challenged: boolean;
    finalized: boolean;
    /** Unix seconds; 0 when no challenge was ever registered. */
    finalizesAt: bigint;
    /** What the payouts sent each side, read from the chain's events. */
    paidToUs: bigint;
    paidToPeer: bigint;
  };
  error?: string;
}

/** Every channel of the page's store, newest first, with its on-chain state (a read per channel not withdrawn). */
export async function listChannels(client: PiecepayClient): Promise<ChannelView[]> {
  const store = client.context.store;
  const records = (await store.listChannels()).reverse();
  return Promise.all(
    records.map(async (record) => {
      const role = record.myIndex === 0 ? ("payer" as const) : ("payee" as const);
      const view: ChannelView = {
        id: record.id,
        role,
        peer: record.peer ?? record.fixedPart.participants[1 - record.myIndex],
        asset: record.asset,
        deposited: record.deposited,
        vouchers: (await store.getVoucher(role === "payer" ? "sent" : "received", record.id))?.amount ?? 0n,
        phase: record.phase,
        ...(record.torrent === undefined ? {} : { torrent: record.torrent }),
      };
      if (record.phase === "proposed") return view;
      try {
        view.phase = await client.syncPhase(record.id);
        const onChain = await client.onChain(record.id);
        const { toUs, toPeer } = await client.settlement(record.id);
        view.onChain = {
          holdings: onChain.holdings,
          challenged: onChain.challenged,
          finalized: onChain.finalized,
          finalizesAt: onChain.finalizesAt,
          paidToUs: toUs,
          paidToPeer: toPeer,
        };
      } catch (error) {
        view.error = explain(error);
      }
      return view;
    }),
  );
}

/** Closes an open channel without its peer: registers our best state on chain (a challenge). */
export async function closeOnChain(client: PiecepayClient, id: string): Promise<void> {
  await client.challenge(id);
}

/** Pays out a finalized channel to both sides. */
export async function withdraw(client: PiecepayClient, id: string): Promise<void> {
  await client.payout(id);
}

/** Whether the page's watcher withdraws finalized channels by itself: the person's choice, kept in the browser. */
const AUTO_WITHDRAW = "piecepay.autoWithdraw";
export const autoWithdrawSetting = {
  get: (): boolean => localStorage.getItem(AUTO_WITHDRAW) !== "off",
  set: (on: boolean): void => localStorage.setItem(AUTO_WITHDRAW, on ? "on" : "off"),
};

/**
 * Starts the watcher that defends the page's channels while it is open (and withdraws finalized ones if
 * `withdraw`); returns its stop.
 */
export function defendChannels(
  client: PiecepayClient,
  onEvent: (event: string) => void,
  withdraw: boolean,
): () => Promise<void> {
  const watcher = new ChannelWatcher(client, {
    payOut: withdraw,
    log: (event, fields) => {
      if (event === "answered" || event === "paid-out") onEvent(`${event} ${String(fields.channelId ?? "")}`);
    },
  });
  watcher.start();
  return () => watcher.stop();
}
