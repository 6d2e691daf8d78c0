// How the CLI prints. Results go to stdout: a table or lines for people, or with --json one JSON object per line
// (bigints as decimal strings) and nothing else. Notes and progress go to stderr, so `--json | jq` stays clean.
import { formatEther, ZeroAddress } from "ethers";

/** Writes a command's results and notes, honouring --json. */
export class Output {
  constructor(
    readonly json: boolean,
    readonly stdout: NodeJS.WritableStream = process.stdout,
    readonly stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  ) {}

  /** One result: a JSON line with --json, else `text` (when given) on stdout. */
  result(record: Record<string, unknown>, text?: string): void {
    if (this.json) this.stdout.write(`${jsonLine(record)}\n`);
    else if (text !== undefined) this.stdout.write(`${text}\n`);
  }

  /** Text for people on stdout; nothing with --json (give the same facts through `result`). */
  line(text = ""): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A table for people on stdout; nothing with --json. */
  table(columns: string[], rows: string[][]): void {
    if (!this.json) this.stdout.write(`${formatTable(columns, rows)}\n`);
  }

  /** A status note on stderr (both modes): what the command is doing or waiting for. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** A progress line on stderr, drawn only when stderr is a terminal. */
  progress(label: string): Progress {
    return new Progress(label, this.stderr);
  }
}

/** JSON with bigints as decimal strings. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** Columns padded to their widest cell, two spaces apart. */
export function formatTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [format(columns), ...rows.map(format)].join("\n");
}

/** 0x1234…abcd */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** An amount of `asset`: ETH in ether, a token in its smallest unit (the CLI does not know its decimals). */
export function formatAmount(amount: bigint, asset: string = ZeroAddress): string {
  return asset.toLowerCase() === ZeroAddress ? `${formatEther(amount)} ETH` : `${amount} (token ${short(asset)})`;
}

/** The asset's short name: ETH or the token's shortened address. */
export function assetName(asset: string): string {
  return asset.toLowerCase() === ZeroAddress ? "ETH" : short(asset);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 -> "1.5 KiB" */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** What a transfer's progress line shows; every field is optional. */
export interface ProgressStats {
  /** Bytes moved so far (downloaded or uploaded). */
  bytes?: number;
  /** Bytes in all (draws a bar and a percentage). */
  total?: number;
  /** Bytes per second. */
  speed?: number;
  peers?: number;
  /** What we paid (a leecher) or earned (a seeder), in wei of `asset`. */
  paid?: bigint;
  earned?: bigint;
  asset?: string;
}

/**
 * One line on a terminal's stderr, redrawn in place at most ten times a second: bar, bytes, speed, peers,
 * paid/earned. Draws nothing when stderr is not a terminal (CI logs, pipes), so callers need not check.
 * @example const bar = out.progress("get"); bar.update({ bytes, total, speed, peers, paid }); bar.done()
 */
export class Progress {
  #last = 0;
  #drawn = false;

  constructor(
    readonly label: string,
    readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(stats: ProgressStats, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const width = this.stream.columns ?? 80;
    this.stream.write(`\r${progressLine(this.label, stats).slice(0, width - 1)}\x1b[K`);
    this.#drawn = true;
  }

  /** Draws `stats` one last time (if given) and ends the line. */
  done(stats?: ProgressStats): void {
    if (stats) this.update(stats, true);
    if (this.#drawn) this.stream.write("\n");
    this.#drawn = false;
  }
}

/** The text of a progress line (exported for tests). */
export function progressLine(label: string, stats: ProgressStats): string {
  const parts = [label];
  if (stats.total !== undefined && stats.total > 0 && stats.bytes !== undefined) {
    const ratio = Math.min(1, stats.bytes / stats.total);
    const filled = Math.round(ratio * 20);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(20 - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`);
    parts.push(`${formatBytes(stats.bytes)}/${formatBytes(stats.total)}`);
  } else if (stats.bytes !== undefined) {
    parts.push(formatBytes(stats.bytes));
  }
  if (stats.speed !== undefined) parts.push(`${formatBytes(stats.speed)}/s`);
  if (stats.peers !== undefined) parts.push(`${stats.peers} peer${stats.peers === 1 ? "" : "s"}`);
  if (stats.paid !== undefined) parts.push(`paid ${formatAmount(stats.paid, stats.asset)}`);
  if (stats.earned !== undefined) parts.push(`earned ${formatAmount(stats.earned, stats.asset)}`);
  return parts.join("  ");
}
