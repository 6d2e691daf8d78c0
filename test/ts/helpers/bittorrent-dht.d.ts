// The part of bittorrent-dht (webtorrent's DHT, which has no types of its own) that the tests' bootstrap node uses.
declare module "bittorrent-dht" {
  export default class DHT {
    constructor(options: { bootstrap: false | string[] });
    listen(port: number, host: string, onListening: () => void): void;
    address(): { port: number };
    destroy(callback?: () => void): void;
  }
}
