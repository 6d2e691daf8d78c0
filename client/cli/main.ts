// The `piecepay` command line: `tsx client/cli/main.ts <command> [options]` (or the `piecepay` bin, client/cli/bin.mjs).
// Global options may come before or after the command; a command's own options come after it.
// Exit codes: 0 done, 1 failed (`error: ...` and a hint on stderr), 2 a mistake in the command line, 130 interrupted
// by SIGINT (Ctrl-C), 143 by SIGTERM (128 + the signal's number, as shells report it).
import path from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
// The Node entry point: the CLI is a Node program, so its voucher checks run on libsecp256k1.
import { PiecepayError } from "../../sdk/node.js";
import {
  CliError,
  type Command,
  commandHelp,
  GLOBAL_HELP,
  GLOBAL_OPTIONS,
  type GlobalOptions,
  interruptedExitCode,
  UsageError,
} from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { DEFAULT_DATA_DIR } from "./context.js";
import { explainError } from "./errors.js";
import { Output } from "./output.js";

/** Hints for the SDK's error codes a CLI user meets. */
const HINTS: Record<string, string> = {
  WRONG_PASSWORD: "check the password (PIECEPAY_PASSWORD, or what you typed)",
  KEYSTORE_NOT_FOUND: "check the path, or create a keystore with `piecepay keygen --keystore PATH`",
  KEYSTORE_INVALID: "--keystore must be an encrypted JSON keystore (as `piecepay keygen` writes)",
  WEAK_PASSWORD: "choose a password of at least 8 characters",
  NOT_DEPLOYED: "run `piecepay chain` for a local chain with the contracts, or `npm run deploy:localhost`",
  WRONG_CHAIN: "check --rpc: it must serve the chain the deployment and the channels are on",
  RPC_UNAVAILABLE:
    "check --rpc, or start a chain with `piecepay chain`; what was sent is in <data-dir>: run the command again, or `piecepay withdraw`",
  INSUFFICIENT_FUNDS: "the account needs ETH for gas (and the deposit): fund it first",
};

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const flagWidth = Math.max(...GLOBAL_HELP.map(([flag]) => flag.length)) + 2;
  return [
    "piecepay: BitTorrent where seeders get paid per piece, with state-channel vouchers",
    "",
    "Usage: piecepay <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Global options (before or after the command):",
    ...GLOBAL_HELP.map(([flag, text]) => `  ${flag.padEnd(flagWidth)}${text}`),
    "",
    "Run `piecepay <command> --help` for a command's options and examples.",
  ].join("\n");
}

/** Finds the command name: the first argument that is neither a global option nor a global option's value. */
function splitCommand(argv: string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (!arg.startsWith("-")) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    const flag = arg.replace(/^--?/, "").split("=")[0];
    const option = Object.entries(GLOBAL_OPTIONS).find(
      ([name, o]) => name === flag || ("short" in o && o.short === flag),
    );
    if (option === undefined) {
      throw new UsageError(
        `unknown option ${arg.split("=")[0]} before the command`,
        "a command's own options come after it: `piecepay <command> --help` lists them",
      );
    }
    if (option[1].type === "string" && !arg.includes("=")) i++;
  }
  return { rest: argv };
}

function suggest(name: string): string {
  let close = COMMANDS.filter((c) => c.name.startsWith(name));
  if (close.length === 0) close = COMMANDS.filter((c) => c.name.startsWith(name.slice(0, 2)));
  return close.length > 0 ? `did you mean ${close.map((c) => `\`piecepay ${c.name}\``).join(" or ")}? ` : "";
}

async function main(argv: string[], out: { stdout: NodeJS.WritableStream }, signal: AbortSignal): Promise<number> {
  const { name, rest } = splitCommand(argv);
  if (name === undefined || name === "help") {
    const topic = name === "help" ? rest.find((a) => !a.startsWith("-")) : undefined;
    const command = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) throw unknownCommand(topic);
    if (command !== undefined) out.stdout.write(`${commandHelp(command)}\n`);
    else if (name === "help" || rest.includes("--help") || rest.includes("-h")) out.stdout.write(`${usage()}\n`);
    else throw new UsageError("no command given", "run `piecepay --help` for the commands");
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw unknownCommand(name);

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(rest, { ...GLOBAL_OPTIONS, ...command.options }),
      options: { ...GLOBAL_OPTIONS, ...command.options },
      strict: true,
      allowPositionals: command.positionals === true,
    });
  } catch (error) {
    const message = (error as Error).message.split("\n")[0].replace(/\. To specify a positional.*$/, "");
    throw new UsageError(
      message.charAt(0).toLowerCase() + message.slice(1),
      `run \`piecepay ${command.name} --help\` for its options`,
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    out.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  const globals: GlobalOptions = {
    ...(typeof values.rpc === "string" ? { rpc: rpcOption(values.rpc) } : {}),
    ...(typeof values.key === "string" ? { key: values.key } : {}),
    ...(typeof values.keystore === "string" ? { keystore: values.keystore } : {}),
    dataDir: path.resolve((values["data-dir"] as string | undefined) ?? DEFAULT_DATA_DIR),
    ...confirmationsOf(values.confirmations),
    json: values.json === true,
  };
  try {
    await command.run({ globals, values, positionals: parsed.positionals, out: new Output(globals.json), signal });
  } catch (error) {
    if (error instanceof UsageError && error.hint === undefined) {
      throw new UsageError(error.message, `run \`piecepay ${command.name} --help\` for its options`);
    }
    throw error;
  }
  return 0;
}

/** --rpc must be an http(s) URL: anything else is a typing mistake, refused before any command runs. */
function rpcOption(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new UsageError(
      `--rpc ${value} is not an http:// or https:// URL`,
      "pass the JSON-RPC endpoint of the chain, e.g. --rpc http://127.0.0.1:8545",
    );
  }
  return value;
}

/**
 * `--price -1` as `--price=-1`: parseArgs takes a value that starts with "-" for an option ("argument is
 * ambiguous"), so a negative number would never reach the check that says what is wrong with it.
 */
function joinNegativeValues(args: string[], options: ParseArgsOptionsConfig): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  return joined;
}

function unknownCommand(name: string): UsageError {
  return new UsageError(
    `unknown command "${name}"`,
    `${suggest(name)}run \`piecepay --help\` for the commands (${COMMANDS.map((c: Command) => c.name).join(", ")})`,
  );
}

/** Prints `error: <message>` and a hint on stderr (a stack trace only with PIECEPAY_DEBUG=1); returns the exit code. */
function report(error: unknown): number {
  let message: string;
  let hint: string | undefined;
  let code = 1;
  if (error instanceof UsageError) {
    message = error.message;
    hint = error.hint ?? "run `piecepay --help`";
    code = 2;
  } else if (error instanceof CliError) {
    message = error.message;
    hint = error.hint;
    code = error.options.exitCode ?? 1;
  } else if (error instanceof PiecepayError) {
    message = error.shortMessage;
    hint = HINTS[error.code] ?? error.message.split("\n\n")[1];
  } else {
    // Never a library's raw text (a transaction, a JSON-RPC payload): what went wrong, in words.
    const explained = explainError(error);
    const e = error as { code?: string };
    message = explained.message;
    hint = explained.hint ?? ((e.code && HINTS[e.code]) || "PIECEPAY_DEBUG=1 shows the details");
  }
  const lines = [`error: ${message}`];
  if (hint) lines.push(`hint: ${hint.split("\n").join("\n      ")}`);
  if (process.env.PIECEPAY_DEBUG === "1") {
    let cause: unknown = error;
    while (cause instanceof Error) {
      lines.push(cause.stack ?? String(cause));
      cause = cause.cause;
    }
  }
  process.stderr.write(`${redact(lines.join("\n"))}\n`);
  return code;
}

/** Removes the key and the password from anything we print, whatever put them there. */
function redact(text: string): string {
  let out = text;
  const keyFlag = process.argv.findIndex((a) => a === "--key" || a.startsWith("--key="));
  const secrets = [
    process.env.PIECEPAY_PASSWORD,
    process.env.PIECEPAY_KEY,
    keyFlag < 0 ? undefined : (process.argv[keyFlag].split("=")[1] ?? process.argv[keyFlag + 1]),
  ];
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    for (const variant of new Set([secret, secret.replace(/^0x/i, "")])) out = out.split(variant).join("<redacted>");
  }
  return out;
}

// The first SIGINT / SIGTERM asks the command to stop and clean up (the signal's name is the abort's reason, for
// its exit code); a second one exits at once.
const controller = new AbortController();
const onSignal = (name: NodeJS.Signals) => {
  if (controller.signal.aborted) process.exit(interruptedExitCode(name));
  controller.abort(name);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

// A library that throws or rejects outside any await of ours (an 'error' event nobody listens to, a promise left
// behind) would otherwise print its raw stack trace: report it like any other error and exit 1.
const onStray = (error: unknown) => {
  report(error);
  process.exit(1);
};
process.on("uncaughtException", onStray);
process.on("unhandledRejection", onStray);

let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2), process, controller.signal);
} catch (error) {
  exitCode = report(error);
}
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
process.exitCode = exitCode;
// Whatever a library left running (a socket, a timer) must not keep a finished command alive: webtorrent reports
// itself destroyed while its listening socket and a peer connection still close (measured: 2 s after Ctrl-C).
setTimeout(() => process.exit(exitCode), 300).unref();

/** --confirmations N: a whole number of at least 1 (the chain's default when absent). */
function confirmationsOf(value: unknown): { confirmations?: number } {
  if (value === undefined) return {};
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--confirmations must be a whole number of blocks, at least 1 (got ${String(value)})`);
  }
  return { confirmations: n };
}
