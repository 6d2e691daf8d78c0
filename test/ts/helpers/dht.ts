// A DHT bootstrap node on loopback, for tests and benchmarks: no public network is reachable here, so peers join
// the DHT through this node (`--dht-bootstrap 127.0.0.1:PORT`, or webtorrent's `dht: { bootstrap }`).

import DHT from "bittorrent-dht";

/** A DHT node that knows nobody and that others bootstrap from; `address` is what they are given. */
export async function startDhtBootstrap(): Promise<{ address: string; stop(): Promise<void> }> {
  const node = new DHT({ bootstrap: false });
  await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${node.address().port}`,
    stop: () => new Promise<void>((resolve) => node.destroy(() => resolve())),
  };
}
