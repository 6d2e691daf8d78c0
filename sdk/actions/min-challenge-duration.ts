import type { PiecepayContext } from "../context/types.js";
import { PiecepayError } from "../errors.js";

export type MinChallengeDurationReturnType = bigint;

/**
 * The shortest challenge duration this context accepts, in seconds: time to notice a challenge (one polling
 * interval plus the confirmation depth) and to get an answer mined (the safety margin). Shorter, and a
 * counterparty's challenge could finalize before the watcher answers.
 * @example minChallengeDuration(context) // 4 + 12 + 60 = 76n with the defaults
 */
export function minChallengeDuration(context: PiecepayContext): MinChallengeDurationReturnType {
  const { pollingIntervalMs, blockTimeSeconds, safetyMarginSeconds } = context.timing;
  const seconds = Math.ceil(pollingIntervalMs / 1000) + context.confirmations * blockTimeSeconds + safetyMarginSeconds;
  return BigInt(Math.max(seconds, 10));
}

/** Refuses a challenge duration shorter than `minChallengeDuration` or longer than a year. */
export function assertChallengeDuration(context: PiecepayContext, duration: bigint): void {
  const min = minChallengeDuration(context);
  if (duration < min || duration > 365n * 24n * 3600n) {
    throw new PiecepayError(
      "CHALLENGE_DURATION_TOO_SHORT",
      `a challenge duration of ${duration} s leaves the watcher too little time (this client needs ${min} s to 365 days)`,
    );
  }
}
