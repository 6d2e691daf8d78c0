// How the CLI prints. Results go to stdout: a table or lines for people, or with --json one JSON object per line
// (bigints as decimal strings) and nothing else. Notes and progress go to stderr, so `--json | jq` stays clean.
import { formatEther, formatUnits, ZeroAddress } from "ethers";
import { type AmountUnit, ETH } from "./amounts.js";

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

/**
 * For a stream written many times a turn (the hub's log): call it before each write, and the writes of one turn of
 * the event loop go out in one system call, the stream corked until the loop's next check phase.
 * @example const batch = writesPerTurn(process.stdout); batch(); process.stdout.write(line)
 */
export function writesPerTurn(stream: NodeJS.WritableStream & { cork?(): void; uncork?(): void }): () => void {
  let corked = false;
  return () => {
    if (corked || stream.cork === undefined || stream.uncork === undefined) return;
    corked = true;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork?.();
    });
  };
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

/**
 * An amount, exact: in `unit` (ETH, or a token's symbol and decimals) when it is known; for an asset known only by
 * its address, ETH in ether and a token in its smallest unit.
 * @example formatAmount(10n ** 15n) // "0.001 ETH"
 */
export function formatAmount(amount: bigint, asset: string | AmountUnit = ZeroAddress): string {
  if (typeof asset !== "string") return `${trimZero(formatUnits(amount, asset.decimals))} ${asset.symbol}`;
  return asset.toLowerCase() === ZeroAddress ? `${formatEther(amount)} ETH` : `${amount} (token ${short(asset)})`;
}

/**
 * An amount rounded to 4 significant digits for a progress line (where the exact figure would not fit): "0.1235
 * ETH", "12.35 ETH", "12346 ETH"; "<0.000001 ETH" below that.
 */
export function roundAmount(amount: bigint, unit: AmountUnit = ETH): string {
  if (amount === 0n) return `0 ${unit.symbol}`;
  const value = Number(formatUnits(amount, unit.decimals));
  if (value < 1e-6) return `<0.000001 ${unit.symbol}`;
  const text = value >= 1e4 ? value.toFixed(0) : trimZero(value.toPrecision(4).replace(/e.*$/, ""));
  return `${text} ${unit.symbol}`;
}

function trimZero(decimal: string): string {
  return decimal.includes(".") ? decimal.replace(/\.?0+$/, "") : decimal;
}

/** The asset's short name: ETH or the token's shortened address. */
export function assetName(asset: string): string {
  return asset.toLowerCase() === ZeroAddress ? "ETH" : short(asset);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 -> "1.5 KiB", 523.457 -> "523 B": whole bytes, one decimal above (a speed is a float). */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 1023.96 KiB would print as "1024.0 KiB": say 1.0 MiB instead.
  if (value.toFixed(1) === "1024.0" && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${value.toFixed(1)} ${UNITS[unit]}`;
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
  /**
   * The vouchers we signed (a leecher) or received (a seeder) so far, in the smallest unit of `unit` (default ETH):
   * shown as "vouchers", since what was paid is known only from the chain once a channel is settled.
   */
  paid?: bigint;
  /** The vouchers we received; with `paid` too (a downloader that sells), both are shown: "vouchers paid X earned Y". */
  earned?: bigint;
  unit?: AmountUnit;
}

/**
 * One line on a terminal's stderr, redrawn in place at most ten times a second: bar, bytes, speed, peers,
 * vouchers. Draws nothing when stderr is not a terminal (CI logs, pipes), so callers need not check.
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
    this.stream.write(`\r${progressLine(this.label, stats, width - 1)}\x1b[K`);
    this.#drawn = true;
  }

  /** Draws `stats` one last time (if given) and ends the line. */
  done(stats?: ProgressStats): void {
    if (stats) this.update(stats, true);
    if (this.#drawn) this.stream.write("\n");
    this.#drawn = false;
  }
}

/**
 * The text of a progress line, at most `width` characters (exported for tests). What does not fit is left out whole,
 * least useful first (peers, the bar's drawing, the speed, the bytes), never cut mid-word: "vouchers 0.1235 ETH" stays
 * whole at 80 columns. Amounts are rounded to 4 significant digits.
 */
export function progressLine(label: string, stats: ProgressStats, width = Number.POSITIVE_INFINITY): string {
  // [text, priority]: the lowest priority goes first when the line is too long.
  const parts: [string, number][] = [[label, 9]];
  if (stats.total !== undefined && stats.total > 0 && stats.bytes !== undefined) {
    const ratio = Math.min(1, stats.bytes / stats.total);
    const filled = Math.round(ratio * 20);
    parts.push([`[${"#".repeat(filled)}${"-".repeat(20 - filled)}]`, 1]);
    parts.push([`${(ratio * 100).toFixed(0).padStart(3)}%`, 8]);
    parts.push([`${formatBytes(stats.bytes)}/${formatBytes(stats.total)}`, 3]);
  } else if (stats.bytes !== undefined) {
    parts.push([formatBytes(stats.bytes), 3]);
  }
  if (stats.speed !== undefined) parts.push([`${formatBytes(stats.speed)}/s`, 2]);
  if (stats.peers !== undefined) parts.push([`${stats.peers} peer${stats.peers === 1 ? "" : "s"}`, 0]);
  // A downloader that sells shows both ways, in one part so that neither is dropped without the other.
  if (stats.paid !== undefined && stats.earned !== undefined) {
    parts.push([
      `vouchers paid ${roundAmount(stats.paid, stats.unit)} earned ${roundAmount(stats.earned, stats.unit)}`,
      7,
    ]);
  } else if (stats.paid !== undefined) parts.push([`vouchers ${roundAmount(stats.paid, stats.unit)}`, 7]);
  else if (stats.earned !== undefined) parts.push([`vouchers ${roundAmount(stats.earned, stats.unit)}`, 7]);
  // The percentage follows the bar after one space (its own padding aligns it), anything else after two.
  const join = (list: [string, number][]) =>
    list
      .map(([text], i) => (i === 0 ? text : list[i - 1][0].startsWith("[") ? ` ${text}` : `  ${text.trimStart()}`))
      .join("");
  let kept = parts;
  for (let priority = 0; join(kept).length > width && priority < 9; priority++) {
    kept = kept.filter(([, p]) => p > priority);
  }
  return join(kept);
}
