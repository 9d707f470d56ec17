/**
 * Issue #15, failure table (PostgreSQL restart under load): a request that meets PostgreSQL restarting —
 * its server refusing connections, or shutting down under a checked-out connection — is shed with 503
 * `DATABASE_UNAVAILABLE` and Retry-After, never a 500; a fault of the statement itself stays a 500.
 * A real PostgreSQL server of this test's own is stopped under the handler.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import pino from 'pino';
import { errorHandler } from '../../../gateway/http/error-handler.ts';
import { isDatabaseUnavailable } from '../../../gateway/store/database-unavailable.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { startPostgresOnFreePort } from '../../harness/services/postgres.ts';

test('PostgreSQL going away under a request is a 503 DATABASE_UNAVAILABLE with Retry-After; a bad statement stays a 500', async (t) => {
  const server = await startPostgresOnFreePort(mkdtempSync(join(tmpdir(), 'gw-db-503-')));
  t.teardown(() => server.stop().catch(() => undefined));
  const pool = createPool(server.url, { connectionTimeoutMs: 2_000 });
  t.teardown(() => pool.end());

  const app = new Koa();
  app.use(errorHandler(pino({ level: 'silent' })));
  app.use(async (ctx) => {
    if (ctx.path === '/held') {
      // a connection checked out before the shutdown, used after it
      const client = await pool.connect();
      try {
        await client.query('select 1');
        await server.stop();
        await client.query('select 1');
      } finally {
        client.release(true);
      }
    }
    if (ctx.path === '/bad') await pool.query('select * from no_such_table');
    ctx.body = (await pool.query<{ n: number }>('select 1 as n')).rows[0];
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa settles each request itself
  const http: Server = createServer(app.callback());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => http.close());
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const json = { accept: 'application/json' };

  t.is((await fetch(`${base}/`, { headers: json })).status, 200, 'up');
  t.is((await fetch(`${base}/bad`, { headers: json })).status, 500, 'a bad statement is our fault');

  const held = await fetch(`${base}/held`, { headers: json });
  t.is(held.status, 503, 'shutdown under a checked-out connection');
  t.is(held.headers.get('retry-after'), '5');

  const refused = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
  t.is(refused.status, 503, 'connection refused while it is down');
  t.is(refused.headers.get('retry-after'), '5');
});

test('the classifier: connection errors of node-postgres yes; statement errors and other sockets no', (t) => {
  const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  socket.stack = 'Error: connect ECONNREFUSED\n    at /app/node_modules/pg-pool/index.js:45:11';
  t.true(isDatabaseUnavailable(socket));
  const otherSocket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  otherSocket.stack = 'Error: connect ECONNREFUSED\n    at /app/node_modules/ioredis/built/redis/index.js:1:1';
  t.false(isDatabaseUnavailable(otherSocket), 'a Redis socket error is not the database');
  t.true(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')));
  t.false(isDatabaseUnavailable(new Error('relation "x" does not exist')));
  t.false(isDatabaseUnavailable('ECONNREFUSED'));
});
