// CPU time of this process and every process it started (Chromium's browser, renderer, network service and GPU
// processes under playwright), by thread, read from Linux's /proc: for scripts/profile-web.ts, which asks where a
// download in a page spends the machine's CPU. Linux only. scripts/process-memory.ts finds Chromium's processes
// with the same two functions.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** CPU ticks (user + system, in USER_HZ, 100 a second on Linux) by "process kind | thread name". */
export type CpuSnapshot = Map<string, number>;

const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
export function statFields(path: string): { name: string; fields: string[] } {
  const stat = readFileSync(path, "utf8");
  const close = stat.lastIndexOf(")");
  return { name: stat.slice(stat.indexOf("(") + 1, close), fields: stat.slice(close + 2).split(" ") };
}

/** `root` and every process it started, and they started, ... (pids), from /proc. */
export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(statFields(`/proc/${entry}/stat`).fields[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) {
    for (const [pid, parent] of parentOf) if (parent === all[i]) all.push(pid);
  }
  return all;
}

/** "node" for this process; a Chromium process by its --type (and utility sub-type), e.g. "utility:NetworkService". */
export function kindOf(pid: number): string {
  if (pid === process.pid) return "node";
  // Chromium rewrites its command line into one string: split on spaces as well as NULs.
  const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/\0| /);
  const type = args.find((a) => a.startsWith("--type="))?.slice("--type=".length);
  const sub = args
    .find((a) => a.startsWith("--utility-sub-type="))
    ?.split(".")
    .pop();
  if (type !== undefined) return sub === undefined ? type : `${type}:${sub}`;
  return /chrom/.test(args[0] ?? "") ? "browser" : (args[0]?.split("/").pop() ?? "?");
}

/** The CPU ticks so far of every thread of this process and its descendants, keyed "pid kind | thread". */
export function cpuSnapshot(): CpuSnapshot {
  if (!existsSync("/proc/self/stat")) throw new Error("CPU by process needs Linux's /proc");
  const ticks: CpuSnapshot = new Map();
  for (const pid of descendants(process.pid)) {
    try {
      const kind = `${pid} ${kindOf(pid)}`;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const { name, fields } = statFields(`/proc/${pid}/task/${tid}/stat`);
        const key = `${kind} | ${name}`;
        // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
        ticks.set(key, (ticks.get(key) ?? 0) + Number(fields[11]) + Number(fields[12]));
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** CPU seconds spent between two snapshots: by process ("pid kind") and by thread, largest first. */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { totalSeconds: number; processes: [string, number][]; threads: [string, number][] } {
  const threads: [string, number][] = [];
  for (const [key, ticks] of after) {
    const spent = ticks - (before.get(key) ?? 0);
    if (spent > 0) threads.push([key, spent / TICKS_PER_SECOND]);
  }
  threads.sort((a, b) => b[1] - a[1]);
  const byProcess = new Map<string, number>();
  for (const [key, seconds] of threads) {
    const process = key.split(" | ")[0];
    byProcess.set(process, (byProcess.get(process) ?? 0) + seconds);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    totalSeconds: round(threads.reduce((sum, [, s]) => sum + s, 0)),
    processes: [...byProcess].sort((a, b) => b[1] - a[1]).map(([p, s]) => [p, round(s)]),
    threads: threads.map(([t, s]) => [t, round(s)]),
  };
}
