/**
 * CPU time and resident memory of the processes the benchmark started, read from /proc (Linux only):
 * utime + stime of /proc/<pid>/stat (all threads of the process), in clock ticks of 10 ms (USER_HZ 100).
 *
 * PostgreSQL is a tree: the postmaster, its auxiliary processes and one backend per connection. Its CPU is
 * the sum over the live tree, plus the postmaster's cutime + cstime (children it has reaped, e.g. backends
 * of connections that closed during the measurement).
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // getconf CLK_TCK = 100 on Linux

interface Times {
  self: number;
  user: number;
  system: number;
  reaped: number;
}

function times(pid: number): Times | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited
  }
  // fields after the command name (which may contain spaces), counted from field 3 (state)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (n: number) => Number(fields[n - 3]);
  return {
    self: (at(14) + at(15)) * TICK_MS,
    user: at(14) * TICK_MS,
    system: at(15) * TICK_MS,
    reaped: (at(16) + at(17)) * TICK_MS,
  };
}

/** CPU milliseconds (user + system) used so far by `pid`, 0 when it is gone. */
export function cpuMs(pid: number): number {
  return times(pid)?.self ?? 0;
}

/** CPU milliseconds of `pid` in user space and in the kernel (system calls: socket and file writes…). */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const t = times(pid);
  return { user: t?.user ?? 0, system: t?.system ?? 0 };
}

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** CPU milliseconds of `pid` and every live descendant, plus what it has reaped from exited children. */
export function treeCpuMs(pid: number): number {
  const root = times(pid);
  if (!root) return 0;
  let total = root.self + root.reaped;
  const queue = children(pid);
  while (queue.length > 0) {
    const child = queue.pop()!;
    total += times(child)?.self ?? 0;
    queue.push(...children(child));
  }
  return total;
}

/** Resident set size of `pid` in MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The PostgreSQL postmaster of a data directory (first line of postmaster.pid). */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}
