// The wire guard's limits that a user may need to change (client/wire/GUARD.md), as flags of `seed` and `get`.
import { DEFAULT_WIRE_LIMITS, type WireLimits } from "../wire/limits.js";
import { type CommandValues, intOption } from "./command.js";

export const PEER_LIMIT_OPTIONS = {
  "max-peers": { type: "string" },
  "max-peers-per-ip": { type: "string" },
} as const;

export const PEER_LIMIT_HELP: [string, string][] = [
  ["--max-peers N", `peer connections at once, over all torrents (default ${DEFAULT_WIRE_LIMITS.maxConnections})`],
  [
    "--max-peers-per-ip N",
    `peer connections at once from one IP address (default ${DEFAULT_WIRE_LIMITS.maxConnectionsPerIp})`,
  ],
];

/** The limits the flags set; the others keep their defaults. */
export function peerLimits(values: CommandValues): Partial<WireLimits> {
  const limits: Partial<WireLimits> = {};
  if (values["max-peers"] !== undefined) limits.maxConnections = intOption(values, "max-peers", 1, 100_000);
  if (values["max-peers-per-ip"] !== undefined) {
    limits.maxConnectionsPerIp = intOption(values, "max-peers-per-ip", 1, 100_000);
  }
  return limits;
}
