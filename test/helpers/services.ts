/**
 * What a test file uses to reach the real services the harness started: its own PostgreSQL database,
 * its own Redis key prefix, its own SoftHSM2 token.
 */
import { randomBytes } from 'node:crypto';
import { createDatabase } from '../harness/services/postgres.ts';
import { initToken, type TokenHandle } from '../harness/services/softhsm.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run tests through the harness (make test, or node test/harness/with-stack.ts -- npx ava)`,
    );
  }
  return value;
}

export function redisUrl(): string {
  return required('GW_TEST_REDIS_URL');
}

/**
 * The stores over their Unix sockets: `pg(url)` a database URL of the harness's server through its socket, and the
 * Redis URL of its socket (a deployment with PostgreSQL and Redis on the gateway's host).
 */
export function overUnixSockets(): { pg: (url: string) => string; redis: string } {
  const sockets = required('GW_TEST_PG_SOCKETS');
  return {
    pg: (url) => {
      const through = new URL(url);
      through.searchParams.set('host', sockets);
      return through.toString();
    },
    redis:
      process.env.GW_TEST_REDIS_SOCKET_URL ??
      (() => {
        throw new Error(
          "GW_TEST_REDIS_SOCKET_URL is not set: the harness's Redis has no Unix socket (its folder's path was too long for one)",
        );
      })(),
  };
}

/** A unique key prefix so that test files sharing one Redis never collide. */
export function redisPrefix(): string {
  return `t${randomBytes(4).toString('hex')}:`;
}

/** A new database of this test file's own, with the gateway's schema (a copy of the harness's template). */
export async function freshDatabase(): Promise<string> {
  return createDatabase(
    required('GW_TEST_PG_URL'),
    `t_${randomBytes(6).toString('hex')}`,
    required('GW_TEST_PG_TEMPLATE'),
  );
}

/** A new database without any schema: for tests of the migration runner itself. */
export async function emptyDatabase(): Promise<string> {
  return createDatabase(required('GW_TEST_PG_URL'), `t_${randomBytes(6).toString('hex')}`);
}

/** A new SoftHSM2 token with random PINs. */
export function freshToken(): TokenHandle {
  const conf = required('SOFTHSM2_CONF');
  return initToken({ conf, library: required('GW_TEST_PKCS11_LIBRARY') });
}
