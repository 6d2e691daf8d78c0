// Plays a torrent's video or audio in the page while it downloads, with webtorrent's own streaming: its service
// worker (webtorrent's dist/sw.min.js, served by the app) answers the media element's HTTP range requests by asking
// the page, where webtorrent's BrowserServer (lib/server.js, made by `client.createServer`) reads the file's pieces
// as they verify. Nothing is copied into memory: a request for a range selects its pieces at a higher priority than
// the rest of the file and marks the next ones critical, so a seek fetches what it needs first, and the paid
// leecher grants those pieces to its seeders at once and pays for them like any other (client/session/leecher.ts,
// grantUrgent). Universal: nothing of Node here. See docs/adr/0017-streaming-in-the-page.md.
import type WebTorrent from "webtorrent";
import type { TorrentFile, TorrentServer } from "webtorrent";

export interface StreamingOptions {
  /** Where the app serves webtorrent's service worker (node_modules/webtorrent/dist/sw.min.js), e.g. "/sw.min.js". */
  serviceWorkerUrl: string;
  /**
   * The worker's scope (default: the worker script's folder). It must cover the page, which the worker has to
   * control to see its media requests, and the stream URLs, `<scope>webtorrent/<infoHash>/<path>`.
   */
  scope?: string;
  /** How long to wait for the worker to activate and take control of the page (default 10 s). */
  timeoutMs?: number;
}

export interface Streaming {
  registration: ServiceWorkerRegistration;
  server: TorrentServer;
  /** Stops answering stream requests (the worker stays registered for the next visit). Idempotent. */
  close(): void;
}

/** Why streaming cannot start, in words a person can act on. */
export class StreamingError extends Error {
  override readonly name = "StreamingError";
}

/**
 * Registers webtorrent's service worker and serves `torrents`' files through it; resolves once the worker is active
 * and controls this page. Fails with a StreamingError when the page cannot have a service worker (not a secure
 * context: http:// other than localhost), is outside the worker's scope, or the worker does not take control.
 * @example const streaming = await startStreaming(torrents, { serviceWorkerUrl: "/sw.min.js" })
 */
export async function startStreaming(torrents: WebTorrent, options: StreamingOptions): Promise<Streaming> {
  const container = globalThis.navigator?.serviceWorker;
  if (container === undefined) {
    throw new StreamingError(
      "this page cannot stream: service workers need a secure context (https://, or http://localhost / 127.0.0.1)",
    );
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  let registration: ServiceWorkerRegistration;
  try {
    registration = await container.register(
      options.serviceWorkerUrl,
      options.scope === undefined ? {} : { scope: options.scope },
    );
  } catch (error) {
    throw new StreamingError(
      `the streaming worker ${options.serviceWorkerUrl} did not register (${(error as Error).message}): serve webtorrent's dist/sw.min.js there`,
      { cause: error },
    );
  }
  if (!location.href.startsWith(registration.scope)) {
    throw new StreamingError(
      `this page (${location.pathname}) is outside the streaming worker's scope ${new URL(registration.scope).pathname}: serve the worker from the app's root`,
    );
  }
  await withTimeout(activated(registration), timeoutMs, "the streaming worker did not activate");
  // webtorrent's worker claims the open pages when it activates; a page it does not control sends it no requests.
  await withTimeout(controlled(container), timeoutMs, "the streaming worker did not take control of this page");
  // Only this page's origin may read a stream (no `Access-Control-Allow-Origin: *`, webtorrent's default). Not
  // `origin: false`, which webtorrent 3.0.21 turns into "*" (lib/server.js: `if (!opts.origin) opts.origin = '*'`).
  const server = torrents.createServer({ controller: registration, origin: location.origin });
  let closed = false;
  return {
    registration,
    server,
    close() {
      if (closed) return;
      closed = true;
      server.close();
    },
  };
}

/**
 * Plays `file` in `media` as it downloads: points the element at the file's stream URL (webtorrent's File#streamTo).
 * Throws a StreamingError when no streaming server runs for the file's client or the browser cannot play the type.
 * @example streamInto(torrent.files[0], document.querySelector("video"))
 */
export function streamInto<M extends HTMLMediaElement>(file: TorrentFile, media: M): M {
  if (media.canPlayType(file.type) === "") {
    throw new StreamingError(`this browser cannot play ${file.name} (${file.type}): save it and open it instead`);
  }
  let url: string;
  try {
    url = file.streamURL;
  } catch {
    throw new StreamingError("no streaming server for this torrent: call startStreaming with its client first");
  }
  media.src = url;
  return media;
}

function activated(registration: ServiceWorkerRegistration): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (registration.active?.state === "activated") resolve();
    };
    for (const worker of [registration.installing, registration.waiting, registration.active]) {
      worker?.addEventListener("statechange", check);
    }
    check();
  });
}

function controlled(container: ServiceWorkerContainer): Promise<void> {
  return new Promise((resolve) => {
    if (container.controller !== null) return resolve();
    container.addEventListener("controllerchange", () => resolve(), { once: true });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StreamingError(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
