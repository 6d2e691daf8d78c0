// What a `piecepay` subcommand is: its options (node:util parseArgs configs), its help text, and `run`. The global
// options live here too, so that every command's `--help` lists them the same way.
import type { ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "./cli-errors.js";
import type { Output } from "./output.js";

// Re-exported: every command imports them from here with the Command type.
export { CliError, UsageError } from "./cli-errors.js";

/** Options every command takes, before or after the command name. */
export const GLOBAL_OPTIONS = {
  rpc: { type: "string" },
  key: { type: "string" },
  keystore: { type: "string" },
  "data-dir": { type: "string" },
  confirmations: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

export const GLOBAL_HELP: [string, string][] = [
  [
    "--rpc URL",
    "http(s) JSON-RPC endpoint of the chain (default: http://127.0.0.1:8545 where a chain is needed); an outage is ridden out: each request times out after 10 s (PIECEPAY_RPC_TIMEOUT=S) and is retried with backoff for up to 120 s (PIECEPAY_RPC_PATIENCE=S), saying what it waits for",
  ],
  ["--key HEX", "our account's private key (or PIECEPAY_KEY); visible to other local users in `ps`: prefer --keystore"],
  ["--keystore PATH", "our account in an encrypted JSON keystore; password from PIECEPAY_PASSWORD, else a prompt"],
  ["--data-dir DIR", "where channels/ (a store per account) and deployments/ live (default ./.piecepay)"],
  [
    "--confirmations N",
    "blocks a deposit, close or payout must be buried under before it counts (default: 1 on a local chain, 5 on Sepolia, Holesky and Hoodi, 12 on mainnet and any other chain)",
  ],
  ["--json", "machine-readable output: one JSON object per line on stdout"],
  ["-h, --help", "this text"],
];

/** The global options after parsing. */
export interface GlobalOptions {
  rpc?: string;
  key?: string;
  keystore?: string;
  /** Absolute path. */
  dataDir: string;
  /** --confirmations: a whole number of at least 1; undefined for the chain's default. */
  confirmations?: number;
  json: boolean;
}

/** Parsed command options: what parseArgs returns for the command's own `options`. */
export type CommandValues = Record<string, string | boolean | undefined>;

/** What a command's `run` gets. */
export interface RunContext {
  globals: GlobalOptions;
  values: CommandValues;
  positionals: string[];
  out: Output;
  /** Aborted on the first SIGINT / SIGTERM: foreground commands stop and clean up. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `piecepay --help`. */
  summary: string;
  /** The usage line after `piecepay `, e.g. "chain [--port N] [--chain-id N]". */
  usage: string;
  /** A paragraph or two for `piecepay <name> --help`. */
  description: string;
  options: ParseArgsOptionsConfig;
  /** Flag and explanation, one row per entry of `options`. */
  optionHelp: [string, string][];
  examples: string[];
  /** Whether the command takes positional arguments (e.g. a torrent file). */
  positionals?: boolean;
  run(ctx: RunContext): Promise<void>;
}

/**
 * The exit code of a command stopped by a signal: 130 for SIGINT (Ctrl-C), 143 for SIGTERM, as a shell reports a
 * process killed by it (128 + the signal's number).
 * @example interruptedExitCode(signal.reason) // 130 after Ctrl-C
 */
export function interruptedExitCode(reason: unknown): number {
  return reason === "SIGTERM" ? 143 : 130;
}

/** Parses a whole number option within [min, max], or throws a UsageError naming the flag. */
export function intOption(values: CommandValues, name: string, min: number, max: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}

/** The help text of one command. */
export function commandHelp(command: Command): string {
  const rows = (list: [string, string][]) => {
    const width = Math.max(...list.map(([flag]) => flag.length)) + 2;
    return list.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`).join("\n");
  };
  return [
    `piecepay ${command.name}: ${command.summary}`,
    "",
    `Usage: piecepay ${command.usage}`,
    "",
    command.description,
    "",
    ...(command.optionHelp.length > 0 ? ["Options:", rows(command.optionHelp), ""] : []),
    "Global options:",
    rows(GLOBAL_HELP),
    "",
    "Examples:",
    ...command.examples.map((example) => `  ${example}`),
  ].join("\n");
}
