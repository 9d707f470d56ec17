/**
 * Where the audit spool lives when `audit.spoolDir` is not set: `var/audit-spool/<name>` under the working folder,
 * named for the database its records belong to (the database's name and user, read from `database.url`), not for
 * the URL itself. Named for the whole URL (before round 33), a routine change of the URL (a rotated password, the
 * host given as a Unix socket's folder) moved the spool elsewhere, and records waiting in the old folder were never
 * replayed.
 *
 * - `adoptLegacySpool` moves what waits in the folder the URL's own hash named into today's folder, once, at boot;
 * - `otherPendingSpools` lists the other folders beside it where records still wait (a URL of before a change):
 *   the gateway warns, naming them, for an operator to move their files into its folder (they are then replayed).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A spool's files: live, being replayed, or set aside as refused by PostgreSQL (spool.ts). */
const SPOOL_FILE = /^(spool|draining|rejected)-.*\.jsonl$/;
const WAITING_FILE = /^(spool|draining)-.*\.jsonl$/;

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * @example
 * defaultSpoolDir('postgres://gw:secret@db:5432/gateway') // <cwd>/var/audit-spool/<hash of "gw", "gateway">
 */
export function defaultSpoolDir(databaseUrl: string, cwd: string = process.cwd()): string {
  return join(cwd, 'var', 'audit-spool', hashOf(databaseIdentity(databaseUrl)));
}

/** The folder the URL's own hash named (before round 33). */
export function legacySpoolDir(databaseUrl: string, cwd: string = process.cwd()): string {
  return join(cwd, 'var', 'audit-spool', hashOf(databaseUrl));
}

/** The database a URL names, without how it is reached: its user and name (a URL not parsed: the URL itself). */
function databaseIdentity(databaseUrl: string): string {
  const url = URL.parse(databaseUrl);
  if (url === null) return databaseUrl;
  const user = url.searchParams.get('user') ?? decodeURIComponent(url.username);
  const database = url.searchParams.get('dbname') ?? decodeURIComponent(url.pathname.replace(/^\//, ''));
  return `database-identity-v1\n${user}\n${database}`;
}

/** Moves every spool file of `from` into `to` (made if missing); answers how many moved. */
export function adoptLegacySpool(from: string, to: string): number {
  if (from === to || !existsSync(from)) return 0;
  const files = readdirSync(from).filter((name) => SPOOL_FILE.test(name));
  if (files.length === 0) return 0;
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of files) renameSync(join(from, name), join(to, name));
  return files.length;
}

/** The folders beside `dir` in which records still wait to be replayed. */
export function otherPendingSpools(dir: string): string[] {
  const root = dirname(dir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && join(root, entry.name) !== dir)
    .map((entry) => join(root, entry.name))
    .filter((other) => readdirSync(other).some((name) => WAITING_FILE.test(name)));
}
