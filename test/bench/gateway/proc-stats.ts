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

/**
 * What a Node.js process's threads are, by their names (`/proc/<pid>/task/<tid>/comm`): the JavaScript thread
 * (named after the process), libuv's thread pool (our HSM signatures: `C_SignAsync`; crypto and file system calls),
 * V8's workers (garbage collection's concurrent and parallel phases, optimising compilation), the rest.
 */
export type ThreadGroup = 'main' | 'thread pool' | 'V8 workers' | 'other';

function threadGroup(comm: string, tid: number, pid: number): ThreadGroup {
  if (tid === pid) return 'main';
  if (comm.startsWith('libuv-worker')) return 'thread pool';
  if (comm.startsWith('V8Worker') || comm.startsWith('V8 DefaultWorke')) return 'V8 workers';
  return 'other';
}

/** CPU milliseconds (user + system) of `pid` and its live descendants, by thread group ({@link ThreadGroup}). */
export function threadCpuMs(pid: number): Record<ThreadGroup, number> {
  const total: Record<ThreadGroup, number> = { main: 0, 'thread pool': 0, 'V8 workers': 0, other: 0 };
  const queue = [pid];
  while (queue.length > 0) {
    const process = queue.pop()!;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${process}/task`);
    } catch {
      continue; // exited
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${process}/task/${tid}/stat`, 'utf8');
        const comm = readFileSync(`/proc/${process}/task/${tid}/comm`, 'utf8').trim();
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total[threadGroup(comm, Number(tid), process)] += (Number(fields[11]) + Number(fields[12])) * TICK_MS;
      } catch {
        // the thread exited meanwhile
      }
    }
    queue.push(...children(process));
  }
  return total;
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
