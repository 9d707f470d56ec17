/**
 * Where the audit spool lives when `audit.spoolDir` is not set: `var/audit-spool/<hash of database.url>` under the
 * working folder. The name follows the whole URL: a changed URL (a rotated password, the host given as a Unix
 * socket's folder) is another folder. Records left waiting in a folder of before are not lost, but no process
 * replays them from there: `waitingElsewhere` finds them, and the gateway warns at boot naming the folders
 * (`AUDIT_SPOOL_ELSEWHERE`), for an operator to move those files into the spool folder of the same database (they
 * are then replayed in order). Setting `audit.spoolDir` keeps one folder whatever the URL.
 *
 * Only files of processes no longer running count, and only those holding records: a gateway running beside this
 * one (another database, or an instance not yet upgraded) has an empty live file of its own, which is none of this.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { alive } from './spool.ts';

/** A spool file with records to replay: `spool-<ms>-<pid>-…` or `draining-<ms>-<pid>-…` (spool.ts). */
const WAITING_FILE = /^(spool|draining)-\d{13}-(\d+)-[0-9a-f]+\.jsonl$/;

/**
 * @example
 * defaultSpoolDir('postgres://gw:secret@db:5432/gateway') // <cwd>/var/audit-spool/<16 hex>
 */
export function defaultSpoolDir(databaseUrl: string, cwd: string = process.cwd()): string {
  return join(cwd, 'var', 'audit-spool', createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16));
}

/**
 * The folders beside `dir` holding records that no running process will replay (files of dead processes, not
 * empty); a folder that cannot be read is skipped.
 */
export function waitingElsewhere(dir: string): string[] {
  const root = dirname(dir);
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isDirectory() && join(root, entry.name) !== dir)
    .map((entry) => join(root, entry.name))
    .filter((other) => {
      try {
        return readdirSync(other).some((name) => {
          const m = WAITING_FILE.exec(name);
          return m !== null && !alive(Number(m[2])) && statSync(join(other, name)).size > 0;
        });
      } catch {
        return false;
      }
    });
}
