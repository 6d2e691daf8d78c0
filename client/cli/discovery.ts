// How `seed` and `get` find peers besides trackers and --peer: the BitTorrent DHT (BEP 5) and Local Service
// Discovery (BEP 14), both on by default, as in other BitTorrent clients; peer exchange (ut_pex) is always on, as
// webtorrent offers it. `get --peer` turns both off unless asked for: the addresses given are the sources chosen,
// and get can then stop at once when every one of them refuses.
import { type CommandValues, UsageError } from "./command.js";

export const DISCOVERY_OPTIONS = {
  "no-dht": { type: "boolean" },
  "no-lsd": { type: "boolean" },
  "dht-bootstrap": { type: "string", multiple: true },
} as const;

export const DISCOVERY_HELP: [string, string][] = [
  ["--no-dht", "do not use the DHT (on by default; for get, off when --peer is given)"],
  ["--no-lsd", "do not use Local Service Discovery on the LAN (on by default; for get, off when --peer is given)"],
  [
    "--dht-bootstrap HOST:PORT",
    "a DHT node to join through instead of the public routers (repeatable; e.g. a private or test network)",
  ],
];

/** webtorrent's `dht` and `lsd` settings for the flags; `peersGiven`: get's --peer list is not empty. */
export function discoveryOptions(
  values: CommandValues,
  peersGiven = false,
): { dht: boolean | { bootstrap: string[] }; lsd: boolean } {
  const bootstrap = (values["dht-bootstrap"] as unknown as string[] | undefined) ?? [];
  for (const node of bootstrap) {
    const port = Number(/:(\d{1,5})$/.exec(node)?.[1]);
    if (!/^[^:\s]+:\d{1,5}$/.test(node) || !(port >= 1 && port <= 65_535)) {
      throw new UsageError(`--dht-bootstrap ${node} is not HOST:PORT (a port from 1 to 65535)`);
    }
  }
  if (values["no-dht"] === true && bootstrap.length > 0) {
    throw new UsageError("--dht-bootstrap joins the DHT: not with --no-dht");
  }
  const dhtOn = values["no-dht"] !== true && (!peersGiven || bootstrap.length > 0);
  return {
    dht: dhtOn ? (bootstrap.length > 0 ? { bootstrap } : true) : false,
    lsd: values["no-lsd"] !== true && !peersGiven,
  };
}
