/**
 * The PostgreSQL pool of the key-ceremony CLIs (`cli.ts`, `cli-lifecycle.ts`, `cli-hierarchy.ts`): the key records, the
 * DEKs and `key_events` travel over it, so a `GW_DATABASE_URL` whose TLS would take any certificate is refused before a
 * connection opens, as the gateway's own pools refuse it (`database-tls.ts`).
 */
import pg from 'pg';
import { unverifiedTls } from './database-tls.ts';
import { HsmError } from './errors.ts';

/**
 * A pool of at most `max` connections to `url` (`GW_DATABASE_URL`), named `gateway-key-cli` in `pg_stat_activity`.
 * Throws `HSM_CONFIG_INVALID` naming the variable, never the URL (it may hold a password), when node-postgres would not
 * verify the server.
 */
export function openCliPool(url: string, max: number): pg.Pool {
  refuseUnverifiedDatabaseUrl(url);
  return new pg.Pool({ connectionString: url, max, application_name: 'gateway-key-cli' });
}

/**
 * Throws `HSM_CONFIG_INVALID` when `url` would connect with TLS that verifies nothing. The CLI asks it before any
 * command, so that `init` or `kek init` never makes a key it then cannot record.
 */
export function refuseUnverifiedDatabaseUrl(url: string): void {
  const unverified = unverifiedTls(url);
  if (unverified !== undefined) throw new HsmError('HSM_CONFIG_INVALID', `GW_DATABASE_URL is refused: ${unverified}`);
}
