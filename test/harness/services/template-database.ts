/**
 * The template database of a test run: created and migrated once by the harness, then copied for each
 * test file (`CREATE DATABASE … TEMPLATE`), so that no test file pays for running every migration again.
 * Tests of the migration runner itself take an empty database instead (`emptyDatabase()`).
 */
import { createPool } from '../../../gateway/store/postgres.ts';
import { migrate } from '../../../gateway/store/migrate.ts';
import { createDatabase } from './postgres.ts';

/** The template's name; one per PostgreSQL server started by the harness. */
export const TEMPLATE_DATABASE = 'gw_template';

/**
 * Creates the template database on the server behind `adminUrl`, applies every migration to it and closes
 * every connection to it (PostgreSQL copies a template only while nobody is connected to it).
 *
 * @example
 * const template = await migratedTemplate(stack.postgres.url, console.error);
 */
export async function migratedTemplate(adminUrl: string, log: (line: string) => void): Promise<string> {
  const url = await createDatabase(adminUrl, TEMPLATE_DATABASE);
  const pool = createPool(url);
  try {
    const applied = await migrate(pool);
    log(`stack: template database ${TEMPLATE_DATABASE} (${applied.length} migrations applied once)`);
  } finally {
    await pool.end();
  }
  return TEMPLATE_DATABASE;
}

/**
 * A migrated database `gw` on a PostgreSQL server a test started for itself (one it stops or restarts: the
 * run's shared server has the template instead); answers its URL.
 *
 * @example
 * const pgUrl = await migratedDatabase(server.url);
 */
export async function migratedDatabase(adminUrl: string): Promise<string> {
  const url = await createDatabase(adminUrl, 'gw');
  const pool = createPool(url);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return url;
}
