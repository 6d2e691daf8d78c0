// `piecepay tracker`: a local BitTorrent tracker (bittorrent-tracker's server) over HTTP and WebSocket, so that
// seeders and leechers on one machine or a LAN find each other without DHT. No UDP.
import Server from "bittorrent-tracker/server";
import { type Command, intOption } from "../command.js";
import { short } from "../output.js";
import { listenError } from "../ports.js";

export const tracker: Command = {
  name: "tracker",
  summary: "run a local BitTorrent tracker (HTTP + WebSocket), until Ctrl-C",
  usage: "tracker [--port N] [--host ADDR] [--interval SECONDS]",
  description: [
    "Runs a BitTorrent tracker: HTTP announces at http://HOST:PORT/announce (for Node peers) and WebSocket",
    "announces at ws://HOST:PORT (for WebRTC peers, e.g. browsers), statistics at http://HOST:PORT/stats.",
    "Give the announce URLs to `piecepay seed` and `piecepay get`. Stays in the foreground; Ctrl-C stops it.",
    'With --json it prints one line, {"event":"ready","announce":[...]}, then one line per peer that starts or',
    "stops.",
    "Peers announce again every --interval seconds, WebSocket peers every fifth of it: each new WebSocket announce",
    "carries fresh WebRTC offers, so a connection lost while it was being made is tried again then.",
  ].join("\n"),
  options: {
    port: { type: "string", default: "8000" },
    host: { type: "string", default: "127.0.0.1" },
    interval: { type: "string", default: "600" },
  },
  optionHelp: [
    ["--port N", "the port for HTTP and WebSocket (default 8000)"],
    ["--host ADDR", "the address to listen on (default 127.0.0.1; 0.0.0.0 to serve the LAN)"],
    ["--interval SECONDS", "how often peers announce again (default 600; WebSocket peers every fifth of it)"],
  ],
  examples: ["piecepay tracker", "piecepay tracker --port 8001 --host 0.0.0.0", "piecepay tracker --interval 60"],

  async run({ values, out, signal }) {
    const port = intOption(values, "port", 1, 65_535);
    const host = values.host as string;
    const interval = intOption(values, "interval", 5, 86_400);
    const server = new Server({ udp: false, http: true, ws: true, stats: true, interval: interval * 1000 });
    try {
      await new Promise<void>((resolve, reject) => {
        // `on`, not `once`: a busy port is reported twice (by the HTTP server and by the WebSocket server on it),
        // and a second report with no listener would crash the process with a stack trace.
        server.on("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await close(server);
      throw listenError(error, port, "--port", host);
    }
    // A peer's malformed announce is its problem, not ours: note it and carry on.
    server.on("warning", (error: Error) => out.note(`tracker warning: ${error.message}`));
    server.on("error", (error: Error) => out.note(`tracker error: ${error.message}`));
    const peerEvent = (event: string) => (address: string, params: { info_hash?: string }) => {
      const infoHash = params.info_hash ?? "";
      out.result({ event, peer: address, infoHash }, `${event}: ${address} on ${short(infoHash)}`);
    };
    server.on("start", peerEvent("start"));
    server.on("stop", peerEvent("stop"));

    const name = host === "0.0.0.0" ? "127.0.0.1" : host;
    const announce = [`http://${name}:${port}/announce`, `ws://${name}:${port}`];
    const stats = `http://${name}:${port}/stats`;
    out.result({ event: "ready", announce, stats });
    out.line(`piecepay tracker on ${host}:${port}`);
    out.line(`  announce  ${announce.join("  ")}`);
    out.line(`  stats     ${stats}`);
    out.line("Ctrl-C stops it.");

    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await close(server);
    out.note("stopped the tracker");
  },
};

/** Closes the server and its open connections (a connected peer would otherwise keep it open). */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.http?.closeAllConnections();
  });
}
