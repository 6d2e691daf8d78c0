// The CLI's own two errors: a mistake in the command line, and a failure explained to the user. Apart from
// command.ts (which re-exports them) so that amounts.ts can throw them without importing the command machinery,
// which imports output.ts, which imports amounts.ts: no cycle.

/** A mistake in the command line: printed with a hint, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A failure the CLI explains to its user: printed with a hint, no stack trace, exit code 1 (or `exitCode`). */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly hint?: string,
    readonly options: { cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, { cause: options.cause });
  }
}
