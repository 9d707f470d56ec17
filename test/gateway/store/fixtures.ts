/** Test fixtures for the PostgreSQL plumbing: a migrated pool on a fresh database, and a port nothing listens on. */
import { createServer } from 'node:net';
import type { Pool } from 'pg';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';

/**
 * A pool on a new database with every migration applied. Unhurried timeouts: a shared, loaded test machine
 * must not turn a slow commit into AUDIT_UNAVAILABLE (the timeouts themselves are tested on purpose elsewhere).
 */
export async function migratedPool(): Promise<Pool> {
  const pool = createPool(await freshDatabase(), { statementTimeoutMs: 30_000, connectionTimeoutMs: 30_000 });
  await migrate(pool);
  return pool;
}

/** A loopback port that was free a moment ago and that nothing listens on now. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** A pool whose PostgreSQL is unreachable (connection refused). */
export async function unreachablePool(): Promise<Pool> {
  return createPool(`postgres://gateway@127.0.0.1:${await closedPort()}/nowhere`, { connectionTimeoutMs: 2_000 });
}
