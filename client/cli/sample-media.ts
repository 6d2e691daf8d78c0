// Sample media to stream, made on this machine (nothing downloaded): a test-pattern video with a tone, encoded by
// Debian's ffmpeg, for the streaming browser test and the web demo; and, for a machine without ffmpeg, a WAV tone
// written in plain TypeScript. The video is WebM (VP8 + Opus): Debian's Chromium plays it (H.264 is not
// guaranteed in every Chromium build), VP8 in realtime mode encodes 30 s in about 1.5 s on one core, and WebM's
// index (Cues) is moved to the front (`-cues_to_front`) with a keyframe every 2 s, so that a player can seek
// without first fetching the end of the file. See docs/adr/0017-streaming-in-the-page.md. From the command line:
// scripts/sample-media.ts.
import { spawnSync } from "node:child_process";

export interface SampleVideoOptions {
  /** Length in seconds (default 30). */
  seconds?: number;
  /** Video bitrate in kbit/s, held constant so that the file's size is about seconds x bitrate (default 600). */
  bitrate?: number;
  /** The ffmpeg to run (default `ffmpeg` on the PATH). */
  ffmpeg?: string;
}

/** What the sample video is: its duration, where keyframes are, and its MIME type for `<video>`. */
export interface SampleVideo {
  path: string;
  seconds: number;
  keyframeSeconds: number;
  mimeType: string;
}

const KEYFRAME_SECONDS = 2;
const FRAME_RATE = 15;

/** Whether `ffmpeg` runs here. */
export function hasFfmpeg(ffmpeg = "ffmpeg"): boolean {
  return spawnSync(ffmpeg, ["-version"], { stdio: "ignore" }).status === 0;
}

/**
 * Writes a WebM video (VP8 test pattern 320x240 at 15 frames/s, Opus 440 Hz tone) to `path`: about
 * seconds x (bitrate + 32) / 8 kB, e.g. 2.4 MB for 30 s at 600 kbit/s. Throws a clear error when ffmpeg is
 * missing or fails.
 * @example const video = makeSampleVideo("/tmp/sample.webm", { seconds: 30, bitrate: 600 })
 */
export function makeSampleVideo(path: string, options: SampleVideoOptions = {}): SampleVideo {
  const seconds = options.seconds ?? 30;
  const bitrate = options.bitrate ?? 600;
  const ffmpeg = options.ffmpeg ?? "ffmpeg";
  if (!(seconds > 0 && seconds <= 3600)) throw new Error(`seconds must be in (0, 3600], got ${seconds}`);
  if (!(bitrate >= 50 && bitrate <= 20_000)) throw new Error(`bitrate must be 50 to 20000 kbit/s, got ${bitrate}`);
  if (!hasFfmpeg(ffmpeg)) {
    throw new Error(
      `no ffmpeg found (${ffmpeg}): install Debian's package (sudo apt-get install ffmpeg; .ci/run does it), or use makeSampleAudio, which needs nothing`,
    );
  }
  const rate = `${bitrate}k`;
  const args = [
    ["-hide_banner", "-loglevel", "error", "-y"],
    ["-f", "lavfi", "-i", `testsrc2=size=320x240:rate=${FRAME_RATE}`],
    ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
    ["-t", String(seconds)],
    // Realtime VP8 at a constant bitrate: fast to encode, and a size that follows from the length.
    ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "16"],
    ["-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", rate],
    ["-g", String(KEYFRAME_SECONDS * FRAME_RATE)],
    ["-c:a", "libopus", "-b:a", "32k"],
    // The index at the front: a seek needs no trip to the end of the file first.
    ["-cues_to_front", "1"],
    [path],
  ].flat();
  const run = spawnSync(ffmpeg, args, { encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`ffmpeg failed (exit ${run.status ?? run.signal}): ${run.stderr.trim() || run.error?.message}`);
  }
  return { path, seconds, keyframeSeconds: KEYFRAME_SECONDS, mimeType: "video/webm" };
}

/**
 * A WAV file (16-bit PCM, mono, 44.1 kHz) of a 440 Hz tone, written without any tool: 88 kB per second. Every
 * browser plays it, and seeking in it needs no index (a byte offset follows from the time).
 * @example const bytes = makeSampleAudio(10); writeFileSync("tone.wav", bytes)
 */
export function makeSampleAudio(seconds = 30, sampleRate = 44_100): Uint8Array {
  if (!(seconds > 0 && seconds <= 3600)) throw new Error(`seconds must be in (0, 3600], got ${seconds}`);
  const samples = Math.round(seconds * sampleRate);
  const bytes = new Uint8Array(44 + samples * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };
  // RIFF header, "fmt " chunk (PCM, 1 channel, 16 bits), "data" chunk.
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, samples * 2, true);
  for (let i = 0; i < samples; i++) {
    view.setInt16(44 + i * 2, Math.round(Math.sin((2 * Math.PI * 440 * i) / sampleRate) * 0x3fff), true);
  }
  return bytes;
}
