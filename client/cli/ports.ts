// Listening sockets in the CLI's words: a busy port is "port N is in use" with what to do, never a stack trace or
// webtorrent's "client already destroyed" (it destroys itself when its server cannot listen).
import type WebTorrent from "webtorrent";
import { CliError } from "./command.js";

/**
 * The CliError for a server that could not listen on `port` (`flag` is the option that chose it).
 * @example server.once("error", (e) => reject(listenError(e, 8000, "--port")))
 */
export function listenError(error: unknown, port: number, flag = "--port", host?: string): CliError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const where = host === undefined ? `port ${port}` : `port ${port} on ${host}`;
  if (code === "EADDRINUSE") {
    return new CliError(`${where} is in use`, `stop whatever holds it, or pass ${flag} with another port`, {
      cause: error,
    });
  }
  if (code === "EACCES") {
    return new CliError(`${where} needs privileges this user lacks`, `pass ${flag} 1024 or above`, { cause: error });
  }
  if (code === "EADDRNOTAVAIL") {
    return new CliError(`${host ?? "the address"} is not an address of this machine`, "check --host", { cause: error });
  }
  return new CliError(`cannot listen on ${where}: ${(error as Error)?.message ?? error}`, undefined, { cause: error });
}

/** Destroys a webtorrent client once, whether or not it already destroyed itself (e.g. after a listen error). */
export function destroyTorrentClient(client: WebTorrent): Promise<void> {
  if (client.destroyed) return Promise.resolve();
  return new Promise((resolve) => client.destroy(() => resolve()));
}

/**
 * The TCP port `client` accepts peers on, once it listens (`port` is what was asked for: 0 for any free port).
 * @throws CliError (listenError) when it cannot listen
 * @example out.note(`peers: 127.0.0.1:${await listeningPort(torrentClient, 0)}`)
 */
export function listeningPort(client: WebTorrent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const address = client.address();
    if (address) return resolve(address.port);
    const listening = () => {
      client.off("error", failed);
      resolve(client.address()?.port ?? client.torrentPort);
    };
    const failed = (error: unknown) => {
      client.off("listening", listening);
      reject(listenError(error, port));
    };
    client.once("listening", listening);
    client.once("error", failed);
  });
}
