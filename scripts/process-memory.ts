// The memory of Chromium's processes under this one, read from Linux's /proc: for scripts/bench-web-app.ts, which
// samples a tab's renderer while it downloads. RSS counts every page the process has resident, shared ones (the
// Chromium binary, fonts, shared memory with the GPU or network process) in full; PSS divides each shared page by
// the processes that share it, so PSS summed over processes is what they take together. Linux only.
import { readFileSync, readlinkSync } from "node:fs";
import { descendants, kindOf, statFields } from "./process-cpu.js";

/** Resident memory of one process, in KiB; `pssKiB` is undefined where smaps_rollup cannot be read. */
export interface ProcessMemory {
  rssKiB: number;
  pssKiB?: number;
}

/** The pids of this process's descendants of one Chromium kind ("renderer", "gpu-process", ...; see kindOf). */
export function processesOfKind(kind: string): number[] {
  return descendants(process.pid).filter((pid) => {
    try {
      return kindOf(pid) === kind;
    } catch {
      return false; // the process ended meanwhile
    }
  });
}

/** The pids of this process's descendants that run Chromium's binary: the browser and every process it started. */
export function chromiumProcesses(): number[] {
  return descendants(process.pid).filter((pid) => {
    try {
      return /chrom/.test(readlinkSync(`/proc/${pid}/exe`).split("/").pop() ?? "");
    } catch {
      return false; // the process ended meanwhile
    }
  });
}

/** The PSS of Chromium's processes, in KiB, summed by kind (kindOf: "browser", "renderer", "gpu-process", ...). */
export function chromiumPssByKind(): Map<string, number> {
  const byKind = new Map<string, number>();
  for (const pid of chromiumProcesses()) {
    try {
      const kind = kindOf(pid);
      byKind.set(kind, (byKind.get(kind) ?? 0) + (processMemory(pid)?.pssKiB ?? 0));
    } catch {
      // the process ended meanwhile
    }
  }
  return byKind;
}

/** `pid`'s VmRSS (/proc/<pid>/status) and Pss (/proc/<pid>/smaps_rollup); undefined once it has ended. */
export function processMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (rss === null) return undefined; // a zombie has no memory left
  let pss: RegExpExecArray | null = null;
  try {
    pss = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
  } catch {
    // smaps_rollup needs Linux 4.14 and the right to trace the process
  }
  return { rssKiB: Number(rss[1]), ...(pss === null ? {} : { pssKiB: Number(pss[1]) }) };
}

/** `pid`'s CPU ticks so far (user + system, USER_HZ), to tell a busy renderer from an idle one; 0 once ended. */
export function processTicks(pid: number): number {
  try {
    const { fields } = statFields(`/proc/${pid}/stat`);
    return Number(fields[11]) + Number(fields[12]); // utime and stime, as cpuSnapshot reads them
  } catch {
    return 0;
  }
}
