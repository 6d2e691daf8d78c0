// The part of bittorrent-tracker 11's server that `piecepay tracker` uses (the package ships no declarations).
declare module "bittorrent-tracker/server" {
  import type { EventEmitter } from "node:events";
  import type { Server as HttpServer } from "node:http";

  export interface ServerOptions {
    /** Announce interval told to clients, in ms (default 10 min). */
    interval?: number;
    http?: boolean;
    udp?: boolean;
    ws?: boolean;
    /** Serve /stats (default true). */
    stats?: boolean;
    trustProxy?: boolean;
  }

  export default class Server extends EventEmitter {
    constructor(options?: ServerOptions);
    http: HttpServer | null;
    listening: boolean;
    torrents: Record<string, unknown>;
    listen(port: number, hostname?: string, onListening?: () => void): void;
    close(callback?: (error?: Error) => void): void;
  }
}
