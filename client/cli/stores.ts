// Where the CLI keeps channels: one store per account, <data-dir>/channels/<address>.db. A store is keyed by
// channel id and holds one side of each channel, so a seeder and a leecher sharing a data dir (the terminals of
// client/README.md's first run, all run from the package root by npm) must not share a store: the seeder would find
// the leecher's proposal already there and refuse it. An older piecepay kept one <data-dir>/channels.db for every
// account.
import { existsSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import { SqliteChannelStore } from "../../sdk/node.js";

/** <data-dir>/channels.db: the one store of an older piecepay, for every account of the data dir. */
export function sharedStorePath(dataDir: string): string {
  return path.join(dataDir, "channels.db");
}

/** <data-dir>/channels/<checksummed address>.db: the account's own store. */
export function accountStorePath(dataDir: string, account: string): string {
  return path.join(dataDir, "channels", `${getAddress(account)}.db`);
}

/** Every store file in the data dir: each account's, then an older shared one when present. */
export function storeFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, "channels");
  const own = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^0x[0-9a-fA-F]{40}\.db$/.test(name))
        .sort()
        .map((name) => path.join(dir, name))
    : [];
  const shared = sharedStorePath(dataDir);
  return existsSync(shared) ? [...own, shared] : own;
}

/**
 * The store of `account` in `dataDir`, created if missing. An older shared <data-dir>/channels.db whose channels
 * are all this account's becomes its store (renamed, with SQLite's -wal and -shm files). One that also holds other
 * accounts' channels stays shared and is used as before, so that no channel of ours drops out of sight; `note`
 * says so.
 */
export async function openAccountStore(
  dataDir: string,
  account: string,
  note: (text: string) => void = () => undefined,
): Promise<SqliteChannelStore> {
  const own = accountStorePath(dataDir, account);
  const shared = sharedStorePath(dataDir);
  if (existsSync(own) || !existsSync(shared)) return new SqliteChannelStore(own);
  const legacy = new SqliteChannelStore(shared);
  const others = (await legacy.listChannels()).filter(
    (r) => getAddress(r.fixedPart.participants[r.myIndex]) !== getAddress(account),
  );
  if (others.length > 0) {
    note(
      `note: ${shared} (from an older piecepay) also holds channels of other accounts; using it as it is. ` +
        "Give each account its own --data-dir to keep them apart.",
    );
    return legacy;
  }
  await legacy.close();
  mkdirSync(path.dirname(own), { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(shared + suffix)) renameSync(shared + suffix, own + suffix);
  }
  note(`note: moved ${shared} to ${own} (one store per account)`);
  return new SqliteChannelStore(own);
}
