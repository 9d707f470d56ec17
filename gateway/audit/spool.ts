/**
 * The local audit spool: where audit records go while PostgreSQL is unreachable, so that an acknowledged
 * record is never lost.
 *
 * - one append-only JSON-lines file per process (`spool-<ms>-<pid>-<rand>.jsonl`); every write is
 *   `fsync`ed before the caller is told the record is written;
 * - replay rotates the live file to `draining-…` (new records keep going to a fresh live file, after it),
 *   inserts its lines in order, then deletes it: order is kept within a process;
 * - files left by a process that died (its pid no longer runs, or the file is older than this process: a container
 *   restarted gives the gateway the same pid again) are adopted and replayed first, oldest first; a crash during
 *   replay is harmless because the insert is idempotent (record id);
 * - a line that PostgreSQL refuses as data (not as an outage) is moved to `rejected-….jsonl`, never dropped.
 */
import type { DigestFields } from './canonical.ts';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
  appendFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** A record as spooled: everything the insert needs (the digested fields, `canonical.ts`), time as an ISO string, details as JSON text. */
export type SpooledRecord = Omit<DigestFields, 'at' | 'details'> & { at: string; details: string; digest: string };

const FILE = /^(spool|draining)-(\d{13})-(\d+)-[0-9a-f]+\.jsonl$/;
/** When this process started (ms since the epoch): a file named with its pid but older is another process's. */
const STARTED_AT_MS = Math.floor(Date.now() - process.uptime() * 1000);

export class AuditSpool {
  readonly dir: string;
  #file: string;
  #fd: number;
  #lines = 0;
  #draining = false;
  /** Files of other (dead) processes or left over from an interrupted replay, as of the last look. */
  #leftovers: number;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#file = this.#newName('spool');
    this.#fd = openSync(join(dir, this.#file), 'a', 0o600);
    this.#leftovers = this.#orphans().length;
  }

  #newName(kind: 'spool' | 'draining'): string {
    return `${kind}-${String(Date.now()).padStart(13, '0')}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
  }

  /** Whether anything waits to be replayed (this process's file, a replay in progress, or orphans). */
  hasPending(): boolean {
    return this.#lines > 0 || this.#draining || this.#leftovers > 0;
  }

  /** Appends one record and fsyncs; throws when the disk refuses (the caller fails closed). */
  write(record: SpooledRecord): void {
    // never a write through a descriptor closed here: its number may be another file's or socket's by now
    if (this.#fd < 0) throw new Error('the audit spool is closed');
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.#fd);
    this.#lines += 1;
  }

  /** The live file opened again after a failed rotation; a fresh live file if it cannot be (its lines stay on disk). */
  #reopen(): number {
    try {
      return openSync(join(this.dir, this.#file), 'a', 0o600);
    } catch {
      this.#file = this.#newName('spool');
      return openSync(join(this.dir, this.#file), 'a', 0o600);
    }
  }

  /** Files of dead processes, oldest first. */
  #orphans(includeOwnDraining = !this.#draining): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => {
        const m = FILE.exec(name);
        if (!m || name === this.#file) return false;
        const pid = Number(m[3]);
        if (pid === process.pid) {
          // made before this process started: an earlier process given the same pid (a container restarted, the
          // gateway pid 1 again), its records to replay — not this process's own file
          if (Number(m[2]) < STARTED_AT_MS) return true;
          return m[1] === 'draining' && includeOwnDraining;
        }
        return !alive(pid);
      })
      .sort((a, b) => FILE.exec(a)![2]!.localeCompare(FILE.exec(b)![2]!));
  }

  /**
   * Replays every pending record through `insert`, in order. Stops at the first outage (the insert throws
   * something other than a data error) and leaves the rest for the next round. Returns how many were replayed.
   */
  async replay(
    insert: (record: SpooledRecord) => Promise<void>,
    isDataError: (error: unknown) => boolean,
  ): Promise<number> {
    if (this.#draining) return 0;
    this.#draining = true;
    let replayed = 0;
    try {
      const files = this.#orphans(true);
      if (this.#lines > 0) {
        const fd = this.#fd;
        this.#fd = -1;
        if (fd >= 0) closeSync(fd);
        const draining = this.#file.replace(/^spool-/, 'draining-');
        try {
          renameSync(join(this.dir, this.#file), join(this.dir, draining));
        } catch (error) {
          // the live file stays live: reopened (or, failing that, a fresh one), never a write through the closed one
          this.#fd = this.#reopen();
          throw error;
        }
        this.#file = this.#newName('spool');
        this.#fd = openSync(join(this.dir, this.#file), 'a', 0o600);
        this.#lines = 0;
        files.push(draining);
      }
      for (const name of files) {
        const path = join(this.dir, name);
        const lines = readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line.length > 0);
        for (let i = 0; i < lines.length; i += 1) {
          let record: SpooledRecord;
          try {
            record = JSON.parse(lines[i]!) as SpooledRecord;
          } catch {
            // a torn last line (crash mid-write, never acknowledged) or garbage: kept aside, not replayed
            appendFileSync(join(this.dir, `rejected-${name}`), `${lines[i]}\n`);
            continue;
          }
          try {
            await insert(record);
            replayed += 1;
          } catch (error) {
            if (!isDataError(error)) {
              // keep what is left, in order, under a draining name this process owns
              const rest = lines.slice(i).join('\n') + '\n';
              const keep =
                name.startsWith('draining-') && FILE.exec(name)![3] === String(process.pid)
                  ? name
                  : this.#newName('draining');
              writeAndSync(join(this.dir, `${keep}.tmp`), rest);
              renameSync(join(this.dir, `${keep}.tmp`), join(this.dir, keep));
              if (keep !== name) rmSync(path, { force: true });
              return replayed;
            }
            appendFileSync(join(this.dir, `rejected-${name}`), `${lines[i]}\n`);
          }
        }
        rmSync(path, { force: true });
      }
      return replayed;
    } finally {
      this.#draining = false;
      this.#leftovers = this.#orphans().length;
    }
  }

  /** Closes the live file (records in it stay on disk for the next start). */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    if (this.#lines === 0) rmSync(join(this.dir, this.#file), { force: true });
  }
}

/** Whether the process `pid` still runs (a spool file of a live process is its own, never adopted nor moved). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAndSync(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
