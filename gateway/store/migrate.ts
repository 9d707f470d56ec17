/**
 * The schema migration runner: applies `migrations/NNNN_name.sql` in lexical order, once each.
 *
 * - each file runs in its own transaction together with its row in `schema_migrations`: a migration is
 *   applied completely and recorded, or not at all;
 * - a session advisory lock serialises runners: several gateway processes starting together apply each
 *   migration exactly once, the others wait and then find nothing to do;
 * - running it again is a no-op (idempotent); a file whose name does not follow `NNNN_name.sql` stops the
 *   run (the gateway fails at boot, not on a request).
 *
 * CLI: `GW_DATABASE_URL=postgres://... node gateway/store/migrate.ts`
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { GATEWAY_ERRORS } from '../error-registry.ts';
import { GatewayError } from '../errors.ts';
import { createPool } from './postgres.ts';
import { grantRuntime } from './runtime-role.ts';

/** The folder of migration files. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Key of the advisory lock (any fixed 64-bit number private to this runner): "gw-migr" in ASCII. */
const LOCK_KEY = String(0x67772d6d696772n);
const NAME = /^(\d{4}_[a-z0-9_]+)\.sql$/;
/** A migration may take long (an index on a big table); the pool's statement limit does not apply to it. */
const MIGRATION_QUERY_TIMEOUT_MS = 30 * 60_000;

export type MigrationErrorCode = 'MIGRATION_BAD_NAME' | 'MIGRATION_FAILED' | 'MIGRATION_LOCK_TIMEOUT';

/** A migration run that could not complete; `version` names the migration concerned when there is one. */
export class MigrationError extends GatewayError {
  declare readonly code: MigrationErrorCode;
  readonly version: string | undefined;
  constructor(code: MigrationErrorCode, message: string, options: { version?: string; cause?: unknown } = {}) {
    super(code, GATEWAY_ERRORS[code].status, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'MigrationError';
    this.version = options.version;
  }
}

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_audit_log`: the row in `schema_migrations`. */
  version: string;
  sql: string;
}

/** Reads the migration files of a folder, sorted. Any `.sql` file with a malformed name throws. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = NAME.exec(file);
      if (!match) throw new MigrationError('MIGRATION_BAD_NAME', `migration file ${file} is not named NNNN_name.sql`);
      return { version: match[1]!, sql: readFileSync(`${dir}/${file}`, 'utf8') };
    });
}

export interface MigrateOptions {
  /** Folder of `.sql` files. Default {@link MIGRATIONS_DIR}. */
  dir?: string;
  /** How long to wait for another runner to finish, ms. Default 120000. */
  lockWaitMs?: number;
}

/**
 * Brings the database schema up to date. Returns the versions this call applied (empty when there was
 * nothing to do, for instance because another process applied them).
 *
 * @example
 * const applied = await migrate(pool, (line) => logger.info(line));
 */
export async function migrate(
  pool: Pool,
  log: (line: string) => void = () => undefined,
  options: MigrateOptions = {},
): Promise<string[]> {
  const migrations = loadMigrations(options.dir);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await lock(client, options.lockWaitMs ?? 120_000);
    try {
      // created by its first run only: a runtime role apart from the owner has no right to create tables, and
      // PostgreSQL checks that right before it sees the table exists
      const { rows: exists } = await client.query<{ table: string | null }>(
        "select to_regclass('schema_migrations')::text as table",
      );
      if (exists[0]?.table === null)
        await client.query(
          'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())',
        );
      const { rows } = await client.query<{ version: string }>('select version from schema_migrations');
      const done = new Set(rows.map((row) => row.version));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await apply(client, migration);
        log(`migrate: applied ${migration.version}`);
        applied.push(migration.version);
      }
      if (applied.length === 0) log('migrate: schema up to date');
      return applied;
    } finally {
      await client.query('select pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
    }
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    // A connection that failed mid-way may still hold a transaction or the lock: close it rather than reuse it.
    client.release(broken);
  }
}

async function lock(client: PoolClient, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  // Polling pg_try_advisory_lock keeps every statement short, so the pool's statement timeout never fires.
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::bigint) as ok', [LOCK_KEY]);
    if (rows[0]?.ok) return;
    if (Date.now() > until) throw new MigrationError('MIGRATION_LOCK_TIMEOUT', 'another migration run holds the lock');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function apply(client: PoolClient, migration: Migration): Promise<void> {
  try {
    await client.query('begin');
    await client.query('set local statement_timeout = 0');
    // pg honours a per-query `query_timeout` (its types do not declare it).
    const query: QueryConfig & { query_timeout: number } = {
      text: migration.sql,
      query_timeout: MIGRATION_QUERY_TIMEOUT_MS,
    };
    await client.query(query);
    await client.query('insert into schema_migrations (version) values ($1)', [migration.version]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw new MigrationError('MIGRATION_FAILED', `migration ${migration.version} failed`, {
      version: migration.version,
      cause: error,
    });
  }
}

if (import.meta.main) {
  const url = process.env.GW_DATABASE_URL;
  const args = process.argv.slice(2);
  const grantTo = args[0] === '--grant-runtime' ? args[1] : undefined;
  if (!url || (args.length > 0 && (grantTo === undefined || args.length !== 2))) {
    console.error(
      'usage: GW_DATABASE_URL=postgres://<owner>@... node gateway/store/migrate.ts [--grant-runtime <role>]',
    );
    process.exit(2);
  }
  const pool = createPool(url, { max: 1 });
  try {
    await migrate(pool, (line) => console.log(line));
    if (grantTo !== undefined) {
      await grantRuntime(pool, grantTo);
      console.log(`migrate: ${grantTo} granted what the gateway needs; it cannot change the audit trail`);
    }
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined;
    console.error(`${(error as Error).message}${cause ? `: ${cause.message}` : ''}`);
    process.exitCode = 1;
  } finally {
    await pool.end();
  }
}
