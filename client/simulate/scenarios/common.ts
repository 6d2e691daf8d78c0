// What the scenarios share: amounts, waiting for a condition, and the paid torrent peers (webtorrent over TCP
// loopback, no DHT, tracker or LSD; peers added by address).
import { parseEther, ZeroAddress } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { LOOPBACK_ONLY } from "../../session/extension.js";
import { createTorrentClient } from "../../session/guarded-client.js";
import { PaidLeecher, type PaidLeecherOptions } from "../../session/leecher.js";
import { PaidSeeder, type PaidSeederOptions } from "../../session/seeder.js";
import type { Party, ScenarioContext } from "../context.js";

/** Price of one piece (or one off-chain payment step). */
export const PRICE = parseEther("0.0001");
/** What a leecher deposits in a channel. */
export const DEPOSIT = parseEther("0.01");
/** Pieces of 64 KiB. */
export const PIECE_LENGTH = 64 * 1024;

/** Polls `condition` every 20 ms; rejects naming `what` after `ms`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with the first `event` of `emitter`, or rejects after `ms`. */
export function once<T extends unknown[]>(
  emitter: { once(event: string, listener: (...args: unknown[]) => void): unknown },
  event: string,
  ms: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

/** How long a step that waits for the chain's clock may take: the challenge duration, plus a minute. */
export function patience(ctx: ScenarioContext): number {
  return ctx.chain.canMoveTime ? 60_000 : Number(ctx.challengeDuration) * 1000 + 60_000;
}

function webtorrent(ctx: ScenarioContext): WebTorrent {
  const client = createTorrentClient(LOOPBACK_ONLY);
  ctx.cleanup(
    () =>
      new Promise((resolve) =>
        (client as unknown as { destroyed: boolean }).destroyed
          ? resolve(undefined)
          : client.destroy(() => resolve(undefined)),
      ),
  );
  return client;
}

/** The port `client` listens on, once it does. */
export async function listening(client: WebTorrent): Promise<number> {
  await eventually(() => Boolean(client.address()?.port), "the client to listen", 5_000);
  return client.address()?.port as number;
}

/**
 * A paid seeder of `data` run by `party`. Its copy is written under the scenario's own directory: without a path,
 * webtorrent writes a seeded buffer to one shared file (/tmp/webtorrent/file.bin), which any other process seeding a
 * "file.bin" overwrites, and the pieces read back from it fail their hash at the leechers.
 */
export async function seed(ctx: ScenarioContext, party: Party, data: Buffer, options: Partial<PaidSeederOptions> = {}) {
  const client = webtorrent(ctx);
  const seeder = new PaidSeeder({ client: party.client, pricePerPiece: PRICE, asset: ZeroAddress, ...options });
  ctx.cleanup(() => seeder.destroy());
  const torrent = await new Promise<Torrent>((resolve) => {
    const t = client.seed(
      data,
      { name: "file.bin", announce: [], pieceLength: PIECE_LENGTH, path: `${ctx.dir}/seed-${party.name}` },
      resolve,
    );
    seeder.attach(t);
  });
  return { torrent, seeder, client, port: await listening(client) };
}

/**
 * A paying leecher run by `party`, connected to the seeders at `ports`; it opens its channels with the scenario's
 * challenge duration.
 */
export async function leech(
  ctx: ScenarioContext,
  party: Party,
  torrentFile: Uint8Array,
  ports: number[],
  options: Partial<Omit<PaidLeecherOptions, "client">> = {},
) {
  const client = webtorrent(ctx);
  const leecher = new PaidLeecher({
    client: party.client,
    maxPricePerPiece: PRICE,
    budget: DEPOSIT,
    asset: ZeroAddress,
    challengeDuration: ctx.challengeDuration,
    ...options,
  });
  const torrent = client.add(torrentFile, { path: `${ctx.dir}/download-${party.name}` });
  leecher.attach(torrent);
  torrent.on("infoHash", () => {
    for (const port of ports) torrent.addPeer(`127.0.0.1:${port}`);
  });
  return { torrent, leecher, client };
}

/**
 * The parties of the SDK-level scenarios: a leecher and a seeder, their channel funded with DEPOSIT and ten
 * vouchers of PRICE received by the seeder; `paid` is what the seeder holds.
 */
export async function paidChannel(ctx: ScenarioContext) {
  const { leecher, seeder } = await parties(ctx);
  const id = await ctx.open(leecher.client, seeder.client, DEPOSIT);
  for (let i = 0; i < 10; i++) await seeder.client.receive(await leecher.client.pay(id, PRICE));
  return { leecher, seeder, id, paid: await seeder.client.paid(id) };
}

/** A leecher and a seeder, funded; the scenario's bookkeeping begins once they exist. */
export async function parties(ctx: ScenarioContext) {
  const leecher = await ctx.party("leecher");
  const seeder = await ctx.party("seeder");
  await ctx.begin();
  return { leecher, seeder };
}
