// What a raw peer says to play one side of a paid session by hand (the session-level tests of docs/security.md rows 35
// to 41), and a counter of the RPC requests the in-process chain receives. hostile.test.ts keeps its own copies of a
// few of these (it predates this file).
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { dataSlice, getAddress, ZeroAddress } from "ethers";
import { encodeMessage } from "../../../client/wire/codec.js";
import { type PaidHandshake, PROTOCOL_VERSION, type ProposeMessage } from "../../../client/wire/messages.js";
import { type ChannelProposal, type PiecepayClient, toDestination } from "../../../sdk/index.js";
import { connection } from "../helpers/fixtures.js";
import { PRICE, type RawPeer, type RawWire } from "./helpers.js";

/** What a raw leecher advertises: it will pay, from `sdk`'s address. */
export function payerHandshake(sdk: PiecepayClient): PaidHandshake {
  return {
    version: PROTOCOL_VERSION,
    chainId: sdk.chainId,
    adjudicator: sdk.adjudicator.target as string,
    payer: sdk.address,
  };
}

/** What a raw seeder advertises: `price` per piece, paid to `sdk`'s address. */
export function offerHandshake(sdk: PiecepayClient, price = PRICE): PaidHandshake {
  return {
    version: PROTOCOL_VERSION,
    chainId: sdk.chainId,
    adjudicator: sdk.adjudicator.target as string,
    offer: { payee: sdk.address, asset: ZeroAddress, pricePerPiece: price },
  };
}

/** The `propose` message of `proposal` for `deposit`, its destinations read from the proposal's funding state. */
export function proposeMessage(proposal: ChannelProposal, deposit: bigint): ProposeMessage {
  const { chainId, adjudicator, fixedPart, payerSignature, funding } = proposal;
  const [payerDestination, payeeDestination] = funding.outcome[0].allocations.map((a) =>
    getAddress(dataSlice(a.destination, 12)),
  );
  return {
    type: "propose",
    chainId,
    adjudicator,
    fixedPart,
    asset: ZeroAddress,
    deposit,
    payerDestination,
    payeeDestination,
    payerSignature,
  };
}

/** The proposal a `propose` message carries, as `join` takes it. */
export function fundingProposal(p: ProposeMessage): ChannelProposal {
  return {
    chainId: p.chainId,
    adjudicator: p.adjudicator,
    fixedPart: p.fixedPart,
    funding: {
      outcome: [
        {
          asset: p.asset,
          allocations: [
            { destination: toDestination(p.fixedPart.participants[0]), amount: p.deposit },
            { destination: toDestination(p.fixedPart.participants[1]), amount: 0n },
          ],
        },
      ],
      appData: "0x",
      turnNum: 0n,
      isFinal: false,
    },
    payerSignature: p.payerSignature,
  };
}

/** A `propose` message for `proposal`, as bytes. */
export function proposeBytes(proposal: ChannelProposal, deposit: bigint): Uint8Array {
  return encodeMessage(proposeMessage(proposal, deposit));
}

/** A raw leecher proposes a channel to the seeder behind `peer` and waits for its acceptance (no deposit yet). */
export async function proposeOnly(peer: RawPeer, sdk: PiecepayClient, payee: string, deposit: bigint) {
  const proposal = await sdk.propose({ payee, deposit });
  peer.send(proposeBytes(proposal, deposit));
  const accept = await peer.next("accept");
  return { proposal, accept, id: accept.channelId.toLowerCase() };
}

/** Pays `amount` more on channel `id` and waits for the seeder's receipt. */
export async function payAndWait(peer: RawPeer, sdk: PiecepayClient, id: string, amount: bigint) {
  const voucher = await sdk.pay(id, amount);
  peer.send(encodeMessage({ type: "voucher", voucher }));
  const receipt = await peer.next("receipt");
  expect(receipt.amount).to.equal(voucher.amount);
  return voucher;
}

/** A BitTorrent `request` message as bytes: length 13, id 6, index, offset, length. */
export function requestMessage(index: number, offset: number, length: number): Buffer {
  const message = Buffer.alloc(17);
  message.writeUInt32BE(13, 0);
  message.writeUInt8(6, 4);
  message.writeUInt32BE(index, 5);
  message.writeUInt32BE(offset, 9);
  message.writeUInt32BE(length, 13);
  return message;
}

/** A BitTorrent `request`, sent whatever the choke state (the raw wire's own `request` would refuse). */
export function rawRequest(wire: RawWire, index: number, offset: number, length: number): void {
  wire._message(6, [index, offset, length], null);
}

/** Counts the bytes of piece data a raw peer receives, per piece. */
export function countPieces(wire: Wire): { bytes: number; perPiece: Map<number, number> } {
  const got = { bytes: 0, perPiece: new Map<number, number>() };
  wire.on("piece", (index: number, _offset: number, buffer: Uint8Array) => {
    got.bytes += buffer.length;
    got.perPiece.set(index, (got.perPiece.get(index) ?? 0) + buffer.length);
  });
  return got;
}

/**
 * Counts the JSON-RPC requests the in-process chain receives from now on, by method, until `stop()`. Every client
 * of the test shares this provider: count only while the side under test is the only one talking to the chain.
 */
export function countRpc(): { readonly byMethod: Map<string, number>; total(): number; stop(): void } {
  const provider = connection.provider as unknown as { request(args: { method: string }): Promise<unknown> };
  const request = provider.request;
  const byMethod = new Map<string, number>();
  provider.request = function (this: unknown, args: { method: string }) {
    byMethod.set(args.method, (byMethod.get(args.method) ?? 0) + 1);
    return request.call(this, args);
  };
  return {
    byMethod,
    total: () => [...byMethod.values()].reduce((a, b) => a + b, 0),
    stop: () => {
      provider.request = request;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
