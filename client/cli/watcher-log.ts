// The watcher's log lines as the seed command prints them: the event and its channel, and an error in words. The
// SDK's watcher logs `String(error)`, which for an ethers error carries the raw transaction and JSON-RPC payload.
import { explainText } from "./errors.js";
import { short } from "./output.js";

/**
 * One line for a watcher event, e.g. `watcher: defend-failed 0x1234…abcd: the RPC did not answer`.
 * @example new ChannelWatcher(client, { log: (e, f) => out.note(watcherLine(e, f)) })
 */
export function watcherLine(event: string, fields: Record<string, unknown>): string {
  const parts = [`watcher: ${event}`];
  const rest: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === "channelId" && typeof value === "string") parts.push(short(value));
    else if (key === "error") continue;
    else rest.push(`${key}=${typeof value === "bigint" ? value.toString() : explainText(String(value))}`);
  }
  const line = [...parts, ...rest].join(" ");
  return fields.error === undefined ? line : `${line}: ${explainText(String(fields.error))}`;
}
