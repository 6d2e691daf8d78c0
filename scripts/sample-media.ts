// Writes a sample video (WebM, with Debian's ffmpeg) or, for a .wav name, a WAV tone that needs nothing installed:
// media to stream in the page (client/cli/sample-media.ts says what they are).
// Usage: tsx scripts/sample-media.ts OUT.webm|OUT.wav [--seconds N] [--bitrate KBITS]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { makeSampleAudio, makeSampleVideo } from "../client/cli/sample-media.js";

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { seconds: { type: "string", default: "30" }, bitrate: { type: "string", default: "600" } },
  });
  const [out] = positionals;
  if (out === undefined) {
    console.error("Usage: tsx scripts/sample-media.ts OUT.webm|OUT.wav [--seconds N] [--bitrate KBITS]");
    process.exit(2);
  }
  const seconds = Number(values.seconds);
  if (out.endsWith(".wav")) writeFileSync(out, makeSampleAudio(seconds));
  else makeSampleVideo(out, { seconds, bitrate: Number(values.bitrate) });
  console.log(out);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
