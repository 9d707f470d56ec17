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
 * - a line that PostgreSQL refuses as data (not as an outage), or that is not a spooled record's shape, is moved to
 *   `rejected-….jsonl`, never dropped, and counted (`rejectedLines`: the gateway logs it);
 * - while older files wait (an outage interrupted their replay), the live file is not rotated: an outage of any length
 *   leaves the live file and one draining file per process, never one file per replay round; a file's rest, kept
 *   after an outage, keeps its file's time, so it is still replayed before this process's later records;
 * - a record is acknowledged only once all of its line is written and fsync'd: a short write (a full disk, a file
 *   size limit) is written on, or cut off again and refused, never left torn for the next record to join;
 * - the folder is this process's user's alone (created 0700; one open to other users, another user's, or a link stops
 *   the boot), and only files of this user are adopted: a file someone else put there is set aside.
 */
import type { DigestFields } from './canonical.ts';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  appendFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** A record as spooled: everything the insert needs (the digested fields, `canonical.ts`), time as an ISO string, details as JSON text. */
export type SpooledRecord = Omit<DigestFields, 'at' | 'details'> & { at: string; details: string; digest: string };

const FILE = /^(spool|draining)-(\d{13})-(\d+)-([0-9a-f]+)\.jsonl$/;
/** Files of this process named in order within one millisecond: a counter before the random part. */
let named = 0;
/** When this process started (ms since the epoch): a file named with its pid but older is another process's. */
const STARTED_AT_MS = Math.floor(Date.now() - process.uptime() * 1000);

export class AuditSpool {
  readonly dir: string;
  #file: string;
  #fd: number;
  #lines = 0;
  #draining = false;
  #closed = false;
  /** Live files of this process set aside but not renamed (the disk refused): replayed as leftovers all the same. */
  readonly #stuck = new Set<string>();
  /** Files of other (dead) processes or left over from an interrupted replay, as of the last look. */
  #leftovers: number;

  /** Lines set aside since this process started (not a record's shape, or refused by PostgreSQL as data). */
  rejectedLines = 0;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ownFolder(dir);
    this.#file = this.#newName('spool');
    this.#fd = openSync(join(dir, this.#file), 'a', 0o600);
    this.#leftovers = this.#orphans().length;
  }

  /** A new file name: `ms` (now, or the time of the file whose rest it keeps), this pid, the counter, a random part. */
  #newName(kind: 'spool' | 'draining', ms = String(Date.now()).padStart(13, '0')): string {
    named += 1;
    return `${kind}-${ms}-${process.pid}-${named.toString(16).padStart(8, '0')}${randomBytes(4).toString('hex')}.jsonl`;
  }

  /**
   * Looks again for files of dead processes (a readdir): a process that dies after this one started leaves its
   * records to whoever looks, and the replayer runs only while something is pending (audit-log.ts, every minute).
   */
  lookForOrphans(): void {
    if (!this.#draining && !this.#closed) this.#leftovers = this.#orphans().length;
  }

  /** Whether anything waits to be replayed (this process's file, a replay in progress, or orphans). */
  hasPending(): boolean {
    return this.#lines > 0 || this.#draining || this.#leftovers > 0;
  }

  /** Appends one record and fsyncs; throws when the disk refuses (the caller fails closed). */
  write(record: SpooledRecord): void {
    // never a write through a descriptor closed here: its number may be another file's or socket's by now
    if (this.#closed) throw new Error('the audit spool is closed');
    if (this.#fd < 0) this.#fd = openSync(join(this.dir, this.#file), 'a', 0o600); // after a torn line: a fresh file
    const fd = this.#fd;
    const end = fstatSync(fd).size;
    try {
      writeAll(fd, `${JSON.stringify(record)}\n`);
      fsyncSync(fd);
    } catch (error) {
      // what was written of the line is cut off again: the next record never joins a torn one
      try {
        ftruncateSync(fd, end);
      } catch {
        // it stays: the file is set aside for replay and the next record goes to a fresh file. A torn last line is
        // rejected there; a whole one whose fsync failed is replayed (a record its caller was refused: written anyway,
        // never lost the other way round)
        this.#setAsideTorn();
      }
      throw error;
    }
    this.#lines += 1;
  }

  /**
   * The live file ends on a line it could not cut off: renamed `draining-` with its own time (replayed in order, the
   * torn line set aside) and a fresh live file opened, or none now (the next write opens it, or refuses).
   */
  #setAsideTorn(): void {
    const fd = this.#fd;
    this.#fd = -1;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      renameSync(join(this.dir, this.#file), join(this.dir, this.#newName('draining', FILE.exec(this.#file)![2])));
    } catch {
      // left under its name (a read-only disk): replayed under it all the same, before later records
      this.#stuck.add(this.#file);
    }
    this.#leftovers += 1;
    this.#lines = 0;
    this.#file = this.#newName('spool');
    try {
      this.#fd = openSync(join(this.dir, this.#file), 'a', 0o600);
    } catch {
      // opened by the next write
    }
  }

  /** The live file opened again after a failed rotation; a fresh live file if it cannot be (its lines stay on disk). */
  #reopen(): number {
    try {
      return openSync(join(this.dir, this.#file), 'a', 0o600);
    } catch {
      if (this.#lines > 0) this.#stuck.add(this.#file); // its lines are replayed under its name
      this.#lines = 0;
      this.#file = this.#newName('spool');
      return openSync(join(this.dir, this.#file), 'a', 0o600);
    }
  }

  /** Files of dead processes, oldest first (by their time, then their order within it). */
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
        if (this.#stuck.has(name)) return true;
        if (pid === process.pid) {
          // made before this process started: an earlier process given the same pid (a container restarted, the
          // gateway pid 1 again), its records to replay — not this process's own file
          if (Number(m[2]) < STARTED_AT_MS) return true;
          return m[1] === 'draining' && includeOwnDraining;
        }
        return !alive(pid);
      })
      .map((name) => ({ name, m: FILE.exec(name)! }))
      .sort((a, b) => a.m[2]!.localeCompare(b.m[2]!) || a.m[4]!.localeCompare(b.m[4]!))
      .map(({ name }) => name);
  }

  /** A line set aside, never replayed nor dropped. */
  #reject(name: string, line: string): void {
    appendFileSync(join(this.dir, `rejected-${name}`), `${line}\n`, { mode: 0o600 });
    this.rejectedLines += 1;
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
      // the live file is rotated only once every older file is replayed (below): an outage leaves it as it is
      for (const name of files)
        if (!(await this.#replayFile(name, insert, isDataError, (n) => (replayed += n)))) return replayed;
      // a file set aside while these were replayed (a torn write) holds records older than the live file's: the next
      // round takes it first
      if (this.#orphans(true).some((name) => !files.includes(name))) return replayed;
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
        await this.#replayFile(draining, insert, isDataError, (n) => (replayed += n));
      }
      return replayed;
    } finally {
      this.#draining = false;
      this.#leftovers = this.#orphans().length;
    }
  }

  /** Replays one file's lines in order; false when an outage stopped it (its rest kept, in order, for the next round). */
  async #replayFile(
    name: string,
    insert: (record: SpooledRecord) => Promise<void>,
    isDataError: (error: unknown) => boolean,
    count: (n: number) => void,
  ): Promise<boolean> {
    const path = join(this.dir, name);
    if (!ownedByMe(path)) {
      // put there by another user: neither chained nor deleted, set aside under a name replay never reads
      renameSync(path, join(this.dir, `foreign-${name}`));
      this.rejectedLines += 1;
      return true;
    }
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    for (let i = 0; i < lines.length; i += 1) {
      const record = spooledRecord(lines[i]!);
      if (record === undefined) {
        // a torn last line (crash mid-write, never acknowledged), garbage or another shape: kept aside, not replayed
        this.#reject(name, lines[i]!);
        continue;
      }
      try {
        await insert(record);
        count(1);
      } catch (error) {
        if (!isDataError(error)) {
          // keep what is left, in order, under a draining name this process owns, with the file's own time
          const m = FILE.exec(name)!;
          const keep = m[1] === 'draining' && m[3] === String(process.pid) ? name : this.#newName('draining', m[2]);
          writeAndSync(join(this.dir, `${keep}.tmp`), lines.slice(i).join('\n') + '\n');
          renameSync(join(this.dir, `${keep}.tmp`), join(this.dir, keep));
          if (keep !== name) {
            rmSync(path, { force: true });
            this.#stuck.delete(name);
          }
          return false;
        }
        this.#reject(name, lines[i]!);
      }
    }
    rmSync(path, { force: true });
    this.#stuck.delete(name);
    return true;
  }

  /** Closes the live file (records in it stay on disk for the next start). */
  close(): void {
    this.#closed = true;
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
    writeAll(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `text` (a write may take only part of it: a full disk, a file size limit), or throws. */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < bytes.length) {
    const n = writeSync(fd, bytes, written, bytes.length - written);
    if (n <= 0) throw new Error(`a write took ${written} of ${bytes.length} bytes`);
    written += n;
  }
}

/** The user this process runs as (undefined where there is none: Windows). */
const me = process.getuid?.();

/**
 * The spool folder made this user's alone: tightened to 0700 when looser; another user's folder, or a link, stops the
 * boot (whoever could write there could put records in the chain, signed by the next checkpoint).
 */
function ownFolder(dir: string): void {
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`the audit spool folder ${dir} is not a folder (a link?)`);
  if (me !== undefined && stat.uid !== me)
    throw new Error(`the audit spool folder ${dir} belongs to user ${stat.uid}, not to this process's (${me})`);
  if ((stat.mode & 0o077) !== 0)
    throw new Error(
      `the audit spool folder ${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}): chmod 700 it`,
    );
}

function ownedByMe(path: string): boolean {
  return me === undefined || statSync(path).uid === me;
}

const OPTIONAL_TEXT = (v: unknown) => v === null || typeof v === 'string';

/** A spool line read back, or undefined when it is not a record this spool writes (never inserted: set aside). */
function spooledRecord(line: string): SpooledRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  const shaped =
    typeof r.recordId === 'string' &&
    typeof r.at === 'string' &&
    !Number.isNaN(Date.parse(r.at)) &&
    typeof r.sessionId === 'string' &&
    OPTIONAL_TEXT(r.from) &&
    typeof r.to === 'string' &&
    typeof r.component === 'string' &&
    OPTIONAL_TEXT(r.errorCode) &&
    OPTIONAL_TEXT(r.requestId) &&
    typeof r.details === 'string' &&
    typeof r.digest === 'string' &&
    Buffer.from(r.digest, 'base64').length === 32;
  return shaped ? (r as unknown as SpooledRecord) : undefined;
}
