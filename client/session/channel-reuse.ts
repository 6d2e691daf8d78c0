// One channel per payee per torrent, across reconnects and restarts. A leecher that was interrupted (Ctrl-C, a
// crash, a dropped connection) and meets the same seeder again for the same torrent continues the channel it
// already funded (a `resume` message) instead of depositing again; the seeder continues it from the largest
// voucher both know, and both count as paid for only the pieces the seeder delivered that the leecher still has.
// This module holds what both sides need for that: the channel's tags in the store (which torrent, at which
// price), the leecher's search for a channel to continue, and the seeder's memory of channels whose peer left.
import type { ChannelRecord, PiecepayClient, Voucher } from "../../sdk/index.js";
import { NO_SIGNATURE } from "../wire/codec.js";

/** What a paid channel is for, kept in its store record: the torrent (info hash) and the price per piece. */
export interface ChannelTags {
  torrent: string;
  pricePerPiece: bigint;
}

/**
 * Records in the store which torrent a channel is for and at which price, right after `propose` or `join` wrote
 * its row and before anything is sent or deposited: a later run finds the channel by them.
 * @example await tagChannel(client, proposalId, { torrent: torrent.infoHash, pricePerPiece })
 */
export async function tagChannel(client: PiecepayClient, id: string, tags: ChannelTags): Promise<void> {
  await client.store.updateChannel(id, (record) => ({
    ...record,
    torrent: tags.torrent.toLowerCase(),
    pricePerPiece: tags.pricePerPiece,
  }));
}

/** Whether `record` is tagged for `torrent` and belongs to this client's chain and adjudicator. */
function ours(client: PiecepayClient, record: ChannelRecord, torrent: string): boolean {
  return (
    record.torrent === torrent.toLowerCase() &&
    record.chainId === client.chainId &&
    record.adjudicator.toLowerCase() === (client.adjudicator.target as string).toLowerCase()
  );
}

/**
 * The leecher's channel to continue with `payee` for `torrent`, if one is still open on chain: ours as payer, in
 * `asset`, funded. A row left in `funding` (killed while the deposit was in flight) is first settled from the chain,
 * so that a deposit we sent is found rather than sent again. Channels the payee already challenged (it enforced
 * our voucher after we vanished) or that finalized are not continued: their money is settled by `withdraw`.
 * @example const record = await findChannelToResume(client, { payee, torrent: torrent.infoHash, asset })
 */
export async function findChannelToResume(
  client: PiecepayClient,
  wanted: { payee: string; torrent: string; asset: string },
): Promise<ChannelRecord | undefined> {
  for (const candidate of await client.store.listChannels()) {
    if (candidate.myIndex !== 0 || !ours(client, candidate, wanted.torrent)) continue;
    if (candidate.fixedPart.participants[1].toLowerCase() !== wanted.payee.toLowerCase()) continue;
    if (candidate.asset.toLowerCase() !== wanted.asset.toLowerCase()) continue;
    let record: ChannelRecord | undefined = candidate;
    if (record.phase === "funding") record = await client.recoverFunding(record.id);
    if (record?.phase !== "open" || record.deposited === 0n) continue;
    const onChain = await client.onChain(record.id);
    if (onChain.finalized || onChain.challenged || onChain.holdings === 0n) continue;
    return record;
  }
  return undefined;
}

/** The `resume` message's voucher: our largest on the channel, or amount 0 with no signature when we sent none. */
export async function resumeVoucher(client: PiecepayClient, id: string): Promise<Voucher> {
  return (
    (await client.store.getVoucher("sent", id)) ?? { channelId: id.toLowerCase(), amount: 0n, signature: NO_SIGNATURE }
  );
}

/**
 * The checks of a seeder's `resumed` answer on the leecher's side: the seeder can hold no voucher above our largest,
 * and can count as served no more pieces than its voucher pays for, nor more than we have verified.
 * Returns why the answer is refused, if it is.
 */
export function refuseResumed(
  answer: { amount: bigint; served: bigint },
  ours: { sent: bigint; pricePerPiece: bigint; verified: number },
): string | undefined {
  if (answer.amount > ours.sent)
    return `the seeder claims a voucher of ${answer.amount}, above our largest ${ours.sent}`;
  if (answer.served * ours.pricePerPiece > answer.amount) {
    return `the seeder counts ${answer.served} pieces served, more than its voucher of ${answer.amount} pays for`;
  }
  if (answer.served > BigInt(ours.verified)) {
    return `the seeder counts ${answer.served} pieces served, more than the ${ours.verified} we have`;
  }
  return undefined;
}

/** Why a seeder does not continue channel `record` for a peer, if it does not. */
export function refuseResume(
  client: PiecepayClient,
  record: ChannelRecord | undefined,
  expected: { torrent: string; pricePerPiece: bigint; payer: string | undefined },
): string | undefined {
  if (record?.myIndex !== 1 || !ours(client, record, expected.torrent)) {
    return "no channel of ours for this torrent with that id";
  }
  if (record.phase !== "open") return `the channel is ${record.phase}`;
  if (!expected.payer || record.fixedPart.participants[0].toLowerCase() !== expected.payer.toLowerCase()) {
    return "the channel is not this peer's";
  }
  if (record.pricePerPiece !== expected.pricePerPiece) {
    return `the channel was opened at ${record.pricePerPiece} per piece, our price is now ${expected.pricePerPiece}`;
  }
  return undefined;
}

/**
 * The seeder's memory of its channels across connections: which connection holds each channel now (one at a time),
 * the pieces it sent on each channel whose peer left (so that a resumed channel counts them once; also written to
 * the channel's store record, so that a seeder stopped cleanly and started again knows them), and the pending
 * enforcement of each (cancelled when the peer comes back to continue).
 */
export class SeederChannels<Holder> {
  readonly #client: PiecepayClient;
  readonly #holders = new Map<string, Holder>();
  readonly #sent = new Map<string, Set<number>>();
  readonly #enforcements = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(client: PiecepayClient) {
    this.#client = client;
  }

  /** `holder` takes channel `id`; false when another connection holds it. */
  hold(id: string, holder: Holder): boolean {
    const current = this.#holders.get(id);
    if (current !== undefined && current !== holder) return false;
    this.#holders.set(id, holder);
    return true;
  }

  /** Whether a connection holds channel `id` now. */
  isHeld(id: string): boolean {
    return this.#holders.has(id);
  }

  /**
   * `holder` left: it no longer holds `id`; the pieces it sent on it are kept for a resume, in memory at once and on
   * disk when the returned promise resolves (never rejects).
   */
  async release(id: string, holder: Holder, sent: Set<number>): Promise<void> {
    if (this.#holders.get(id) !== holder) return;
    this.#holders.delete(id);
    const pieces = [...sent];
    this.#sent.set(id, new Set(pieces));
    try {
      // Only on a channel still open when the write lands: a close that finished meanwhile is not reopened.
      await this.#client.store.updateChannel(id, (record) =>
        record.phase === "open" ? { ...record, servedPieces: pieces } : undefined,
      );
    } catch {
      // The store already closed (we are stopping): the pieces are unknown after a restart, which is bounded (see
      // servedBefore).
    }
  }

  /**
   * The pieces sent on channel `id` before, taken for the connection that continues it: from memory, or from the
   * store after a clean restart; undefined when unknown (the seeder was killed while a peer held the channel). The
   * store's copy is removed, so that a later kill never leaves a stale one behind.
   */
  async takeSent(id: string): Promise<Set<number> | undefined> {
    let stored: number[] | undefined;
    await this.#client.store.updateChannel(id, (record) => {
      stored = record.servedPieces;
      if (!stored) return undefined;
      const { servedPieces: _, ...rest } = record;
      return rest;
    });
    const sent = this.#sent.get(id) ?? (stored ? new Set(stored) : undefined);
    this.#sent.delete(id);
    return sent;
  }

  /** Keeps the enforcement timer of channel `id`, replacing (and stopping) an earlier one. */
  scheduleEnforcement(id: string, timer: ReturnType<typeof setTimeout>): void {
    const earlier = this.#enforcements.get(id);
    if (earlier) clearTimeout(earlier);
    this.#enforcements.set(id, timer);
  }

  /** The peer came back to continue channel `id`: its enforcement is off. */
  cancelEnforcement(id: string): void {
    const timer = this.#enforcements.get(id);
    if (timer) clearTimeout(timer);
    this.#enforcements.delete(id);
  }

  /** The enforcement of `id` ran (or was stopped). */
  enforcementDone(id: string, timer: ReturnType<typeof setTimeout>): void {
    if (this.#enforcements.get(id) === timer) this.#enforcements.delete(id);
  }
}

/**
 * The pieces a resumed channel counts as already served and paid for: those the seeder sent on it before that the
 * leecher has now (a piece sent but lost, e.g. in flight when the leecher was killed, was not delivered: it is
 * neither counted nor paid unless it is sent again). After a seeder restart the pieces sent are unknown: as many of
 * the leecher's pieces as the largest voucher pays for count (never more than the voucher the seeder could enforce
 * alone).
 * @example const kept = servedBefore(sent, (i) => wire.peerPieces.get(i), pieceCount, paidPieces)
 */
export function servedBefore(
  sent: Set<number> | undefined,
  leecherHas: (index: number) => boolean,
  pieceCount: number,
  paidPieces: number,
): Set<number> {
  const kept = new Set<number>();
  if (sent) {
    for (const index of sent) if (leecherHas(index) && kept.size < paidPieces) kept.add(index);
    return kept;
  }
  for (let index = 0; index < pieceCount && kept.size < paidPieces; index++) if (leecherHas(index)) kept.add(index);
  return kept;
}
