// The part of bittorrent-tracker 11's server that `piecepay tracker` and `piecepay web` use (the package ships no declarations).
declare module "bittorrent-tracker/server" {
  import type { EventEmitter } from "node:events";
  import type { Server as HttpServer, IncomingMessage } from "node:http";
  import type { Duplex } from "node:stream";

  export interface ServerOptions {
    /** Announce interval told to clients, in ms (default 10 min). */
    interval?: number;
    http?: boolean;
    udp?: boolean;
    /** With `noServer`, the caller hands it each WebSocket upgrade (`ws.handleUpgrade`) from its own HTTP server. */
    ws?: boolean | { noServer: true };
    /** Serve /stats (default true). */
    stats?: boolean;
    trustProxy?: boolean;
  }

  export default class Server extends EventEmitter {
    constructor(options?: ServerOptions);
    http: HttpServer | null;
    /** The `ws` package's WebSocketServer. */
    ws: {
      handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, done: (ws: unknown) => void): void;
      emit(event: "connection", ws: unknown, req: IncomingMessage): boolean;
    };
    listening: boolean;
    torrents: Record<string, unknown>;
    listen(port: number, hostname?: string, onListening?: () => void): void;
    close(callback?: (error?: Error) => void): void;
  }
}
