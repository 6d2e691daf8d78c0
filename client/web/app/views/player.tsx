// Plays a torrent's video or audio while it downloads, through webtorrent's service-worker streaming
// (client/web/streaming.ts): a seek fetches the pieces it needs first, paid like any other.
import { useEffect, useRef, useState } from "preact/hooks";
import type { TorrentFile } from "webtorrent";
import { streamInto } from "../../streaming.js";
import { explain } from "../errors.js";
import type { WebPeer } from "../web-peer.js";

const AUDIO = /\.(mp3|m4a|ogg|oga|opus|wav|flac|aac)$/i;

export function Player(props: { peer: WebPeer; infoHash: string; path: string; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const isAudio = AUDIO.test(props.path);

  useEffect(() => {
    let stopped = false;
    (async () => {
      await props.peer.streaming();
      const file = props.peer.torrent(props.infoHash)?.files.find((f: { path: string }) => f.path === props.path);
      const element = isAudio ? audio.current : video.current;
      if (stopped || file === undefined || element === null) return;
      streamInto(file as unknown as TorrentFile, element);
      await element.play();
    })().catch((e: unknown) => {
      if (!stopped) setError(explain(e));
    });
    return () => {
      stopped = true;
    };
  }, [props.infoHash, props.path]);

  return (
    <div class="player" data-testid="player">
      {isAudio ? (
        // biome-ignore lint/a11y/useMediaCaption: a shared file has no captions to offer
        <audio ref={audio} controls data-testid="media" />
      ) : (
        <video ref={video} controls muted playsInline data-testid="media" />
      )}
      {error && <p class="error-text">{error}</p>}
      <button type="button" class="link" onClick={props.onClose}>
        close the player
      </button>
    </div>
  );
}
