/**
 * The PostgreSQL connection pool: one per process, shared by every durable store of the gateway.
 *
 * - every connection says who it is (`application_name`, visible in `pg_stat_activity`);
 * - no statement runs forever: a server-side `statement_timeout`, a client-side `query_timeout` just above it
 *   (a partitioned network must not hang a login), a bound on waiting for a connection;
 * - an error on a connection, idle or checked out, is reported, never a process crash;
 * - no connection with TLS that takes any certificate (hsm/database-tls.ts): refused before any is opened.
 */
import pg from 'pg';
import type { Pool } from 'pg';
import { isDatabaseUnavailable } from './database-unavailable.ts';
import { unverifiedTls } from '../../hsm/database-tls.ts';

export interface PoolOptions {
  /** Shown in `pg_stat_activity`. Default `gateway`. */
  applicationName?: string;
  /** Connections per process. Default 10: the gateway runs one process per core, PostgreSQL's default limit is 100. */
  max?: number;
  /** Server-side limit on any one statement, ms. Default 5000. Migrations lift it for themselves. */
  statementTimeoutMs?: number;
  /** Limit on opening a connection or waiting for a free one, ms. Default 5000. */
  connectionTimeoutMs?: number;
  /** A connection unused this long is closed, ms. Default 30000. */
  idleTimeoutMs?: number;
  /**
   * A transaction left open and idle this long is ended by the server, its locks released, ms. Default 60000: a
   * process paused or cut off between its audit insert and its COMMIT held the audit chain's head row, and every
   * instance's audit writes waited on it, until the server noticed the connection gone (hours of keepalive).
   */
  idleInTransactionTimeoutMs?: number;
  /** Told about errors on idle connections (the pool drops such a connection by itself). Default: ignored. */
  onError?: (error: Error) => void;
}

/** Defaults of {@link createPool}, in one place. */
export const POOL_DEFAULTS = {
  applicationName: 'gateway',
  max: 10,
  statementTimeoutMs: 5_000,
  connectionTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
} as const;

/**
 * A PostgreSQL that cannot be reached now (restart, failover) is a shed request, not a fault: its errors are
 * marked `statusCode: 503`, which oidc-provider answers as is (else its own 500), and the gateway's error
 * handler maps them to `DATABASE_UNAVAILABLE` (database-unavailable.ts). Callback forms pass through.
 */
function shedWhenUnavailable<F extends (...args: never[]) => unknown>(call: F): F {
  return ((...args: never[]) => {
    const result = call(...args);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (isDatabaseUnavailable(error)) Object.assign(error as object, { statusCode: 503 });
      throw error;
    });
  }) as F;
}

/**
 * Creates the process's PostgreSQL pool. Connections open lazily, on the first query.
 *
 * @example
 * const pool = createPool(process.env.GW_DATABASE_URL!);
 * await pingPostgres(pool);
 * await migrate(pool);
 */
export function createPool(url: string, options: PoolOptions = {}): Pool {
  // every pool of the gateway and its CLIs: none connects with TLS that takes any certificate
  const unverified = unverifiedTls(url);
  if (unverified !== undefined) throw new Error(`the database URL is refused: ${unverified}`);
  const statementTimeout = options.statementTimeoutMs ?? POOL_DEFAULTS.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString: url,
    application_name: options.applicationName ?? POOL_DEFAULTS.applicationName,
    max: options.max ?? POOL_DEFAULTS.max,
    statement_timeout: statementTimeout,
    // The client gives up shortly after the server would have: covers a network that stops answering.
    query_timeout: statementTimeout + 1_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? POOL_DEFAULTS.connectionTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? POOL_DEFAULTS.idleInTransactionTimeoutMs,
    keepAlive: true,
  });
  const onError = options.onError ?? (() => undefined);
  pool.on('error', onError);
  // pg emits 'error' on a client whose connection ends unexpectedly (a PostgreSQL restart) while it is checked
  // out — holding an advisory lock, in a transaction, waiting on the HSM between two queries. The pool listens
  // only to idle clients; unheard, that event was an uncaught exception that ended the whole process. The
  // query in flight fails on its own and the pool drops the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', onError);
    client.query = shedWhenUnavailable(client.query.bind(client)) as typeof client.query;
  });
  pool.query = shedWhenUnavailable(pool.query.bind(pool)) as typeof pool.query;
  pool.connect = shedWhenUnavailable(pool.connect.bind(pool)) as typeof pool.connect;
  return pool;
}

/**
 * Checks that PostgreSQL answers a query through this pool. Resolves when it does; throws the driver's
 * error when it does not (use it in readiness probes: a resolved promise means ready).
 *
 * @example
 * try { await pingPostgres(pool); ready = true } catch { ready = false }
 */
export async function pingPostgres(pool: Pool): Promise<void> {
  await pool.query('select 1');
}
