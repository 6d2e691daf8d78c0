// --peer HOST:PORT, checked before anything starts: a peer that cannot be written down or looked up is a mistake in
// the command line, not a reason to wait for --timeout.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { CliError, UsageError } from "./command.js";

/** How long a host name may take to resolve before we call it unresolvable. */
const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Each `HOST:PORT` (or `[IPv6]:PORT`) as an address webtorrent can dial, host names resolved to an IP.
 * @throws UsageError when one is not HOST:PORT with a port from 1 to 65535; CliError when a host name does not resolve
 * @example await resolvePeers(["localhost:6881"]) // ["127.0.0.1:6881"]
 */
export async function resolvePeers(peers: string[]): Promise<string[]> {
  return Promise.all(peers.map(resolvePeer));
}

async function resolvePeer(peer: string): Promise<string> {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(peer);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 1 && port <= 65_535)) {
    throw new UsageError(
      `--peer ${peer} is not HOST:PORT (a port from 1 to 65535)`,
      "give the address `piecepay seed` prints after `peers:`, e.g. --peer 127.0.0.1:6881",
    );
  }
  const v6 = match[1];
  if (v6 !== undefined) {
    if (isIP(v6) !== 6) throw new UsageError(`--peer ${peer}: ${v6} is not an IPv6 address`);
    return `[${v6}]:${port}`;
  }
  const host = match[2];
  if (isIP(host) === 4) return `${host}:${port}`;
  let address: { address: string; family: number };
  try {
    address = await Promise.race([
      lookup(host),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), LOOKUP_TIMEOUT_MS).unref()),
    ]);
  } catch {
    throw new CliError(
      `--peer ${peer}: no address found for the host "${host}"`,
      "check the spelling, or give the seeder's IP address (e.g. --peer 127.0.0.1:6881)",
    );
  }
  return address.family === 6 ? `[${address.address}]:${port}` : `${address.address}:${port}`;
}
