// JSON that keeps bigints: a bigint becomes {"$n": "<decimal>"} and comes back as a bigint.

/**
 * Serializes `value`, keeping bigints exact.
 * @example process.stdout.write(`${toJson({ id, amount: 10n ** 18n })}\n`)
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? { $n: v.toString() } : v));
}

/**
 * Parses what `toJson` wrote.
 * @example const { amount } = fromJson(line) as { amount: bigint }
 */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v) =>
    v !== null && typeof v === "object" && Object.keys(v).length === 1 && typeof v.$n === "string" ? BigInt(v.$n) : v,
  );
}
