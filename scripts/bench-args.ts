// The command line of a benchmark script whose options are counts (MiB, KiB, runs...): parsed with node:util,
// --help prints the usage and exits, --json asks for one JSON object, and every count must be a positive integer;
// a script may also name flags of its own (on or off).
import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * `counts` maps each option to its default (undefined: none); returns `json`, each count as a number, and whether
 * each of `flags` was given.
 * @example const { json, counts } = benchArgs(USAGE, { size: "32", runs: "3", "max-window": undefined })
 */
export function benchArgs<K extends string, F extends string = never>(
  usage: string,
  counts: Record<K, string | undefined>,
  flags: readonly F[] = [],
): { json: boolean; counts: Record<K, number | undefined>; flags: Record<F, boolean> } {
  const { values } = parseArgs<{ options: ParseArgsConfig["options"] }>({
    options: {
      json: { type: "boolean", default: false },
      help: { type: "boolean" },
      ...Object.fromEntries(flags.map((name) => [name, { type: "boolean", default: false }])),
      ...Object.fromEntries(
        Object.entries<string | undefined>(counts).map(([name, value]) => [
          name,
          value === undefined ? { type: "string" } : { type: "string", default: value },
        ]),
      ),
    },
  }) as { values: Record<string, string | boolean | undefined> };
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const numbers = {} as Record<K, number | undefined>;
  for (const name of Object.keys(counts) as K[]) {
    const given = values[name];
    if (typeof given !== "string") continue;
    const n = Number(given);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not "${given}"`);
    numbers[name] = n;
  }
  const switched = Object.fromEntries(flags.map((name) => [name, values[name] === true])) as Record<F, boolean>;
  return { json: values.json === true, counts: numbers, flags: switched };
}

/** Prints `report` as one JSON line with --json, else the lines `text` makes of it. */
export function printReport<R>(json: boolean, report: R, text: (report: R) => string[]): void {
  console.log(json ? JSON.stringify(report) : text(report).join("\n"));
}
