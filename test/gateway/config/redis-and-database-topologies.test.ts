/**
 * The stores' configuration (issue #15): one Redis topology out of url, sentinels + name, cluster; a
 * PostgreSQL read replica with its lag thresholds; Redis over TLS with the operator's CA and client certificate.
 * Every mistake fails at boot naming the field.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parseDatabase, parseRedis } from '../../../gateway/config/stores.ts';
import { ConfigError } from '../../../gateway/errors.ts';
import { makeClientCertificate, makePki } from '../../helpers/https-document-server.ts';

const env = { R: 'redis://127.0.0.1:6379', P: 'pw', DB: 'postgres://p', RO: 'postgres://r' };

function failsAt(t: ExecutionContext, run: () => unknown, path: string): void {
  const error = t.throws(run, { instanceOf: ConfigError });
  t.is(error?.path, path);
}

test('redis: sentinels + name, cluster nodes and url are read into one topology', (t) => {
  t.deepEqual(parseRedis({ sentinels: ['127.0.0.1:26379', 'sentinel.local:26380'], name: 'gw' }, env), {
    keyPrefix: 'gw:',
    commandTimeoutMs: 5000,
    sentinel: {
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: 'sentinel.local', port: 26380 },
      ],
      name: 'gw',
    },
  });
  t.deepEqual(parseRedis({ cluster: ['127.0.0.1:7000'], password: { env: 'P' }, commandTimeoutMs: 500 }, env), {
    keyPrefix: 'gw:',
    commandTimeoutMs: 500,
    cluster: { nodes: [{ host: '127.0.0.1', port: 7000 }], password: 'pw' },
  });
  t.is(parseRedis({ url: { env: 'R' } }, env).url, 'redis://127.0.0.1:6379');
});

test('redis: mistakes name the field', (t) => {
  failsAt(t, () => parseRedis({ keyPrefix: 'gw:' }, env), 'redis');
  failsAt(t, () => parseRedis({ url: { env: 'R' }, cluster: ['a:1'] }, env), 'redis');
  failsAt(t, () => parseRedis({ sentinels: ['127.0.0.1:26379'] }, env), 'redis.name');
  failsAt(t, () => parseRedis({ sentinels: ['127.0.0.1'], name: 'gw' }, env), 'redis.sentinels[0]');
  failsAt(t, () => parseRedis({ cluster: ['a:1', 'b:99999'] }, env), 'redis.cluster[1]');
  failsAt(t, () => parseRedis({ cluster: ['a:1'], name: 'gw' }, env), 'redis.name');
  failsAt(t, () => parseRedis({ url: { env: 'R' }, keyPrefix: 'gw{x}:' }, env), 'redis.keyPrefix');
  failsAt(t, () => parseRedis({ url: { env: 'R' }, sentinel: [] }, env), 'redis.sentinel');
  failsAt(t, () => parseRedis({ url: { env: 'R' }, commandTimeoutMs: 0 }, env), 'redis.commandTimeoutMs');
});

test('database: a replica with its lag thresholds; mistakes name the field', (t) => {
  t.deepEqual(parseDatabase({ url: { env: 'DB' } }, env), { url: 'postgres://p' });
  t.deepEqual(
    parseDatabase({ url: { env: 'DB' }, replicaUrl: { env: 'RO' }, replicaLag: { recoverSeconds: 1 } }, env),
    {
      url: 'postgres://p',
      replicaUrl: 'postgres://r',
      replicaLag: { heartbeatMs: 1000, maxMs: 1000, recoverMs: 100, recoverSeconds: 1 },
    },
  );
  failsAt(t, () => parseDatabase({ url: { env: 'DB' }, replicaLag: {} }, env), 'database.replicaLag');
  failsAt(
    t,
    () =>
      parseDatabase({ url: { env: 'DB' }, replicaUrl: { env: 'RO' }, replicaLag: { maxMs: 100, recoverMs: 200 } }, env),
    'database.replicaLag.recoverMs',
  );
  failsAt(
    t,
    () => parseDatabase({ url: { env: 'DB' }, replicaUrl: 'postgres://in-clear' }, env),
    'database.replicaUrl',
  );
  failsAt(t, () => parseDatabase({ url: { env: 'DB' }, replica: {} }, env), 'database.replica');
});

test('database: a URL whose TLS would not verify the server is refused, naming the field and not the URL', (t) => {
  const ca = makePki(mkdtempSync(join(tmpdir(), 'gw-db-tls-'))).caFile;
  const url = (query: string) => ({ DB: `postgres://gw:s3cret@db.example:5432/gw${query}` });
  for (const query of [
    '?sslmode=no-verify',
    '?ssl=no-verify',
    // node-postgres takes the last of a repeated parameter
    '?sslmode=verify-full&sslmode=no-verify',
    '?uselibpqcompat=true&sslmode=prefer',
    '?uselibpqcompat=true&sslmode=require',
    // a CA file that cannot be read: no connection could verify anything
    '?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem',
  ]) {
    const error = t.throws(() => parseDatabase({ url: { env: 'DB' } }, url(query)), { instanceOf: ConfigError }, query);
    t.is(error?.path, 'database.url', query);
    t.notRegex(error?.message ?? '', /s3cret|db\.example/, 'the URL is a secret');
  }
  const replica = { url: { env: 'DB' }, replicaUrl: { env: 'REPLICA' } };
  failsAt(
    t,
    () => parseDatabase(replica, { DB: 'postgres://db/gw', REPLICA: 'postgres://r/gw?sslmode=no-verify' }),
    'database.replicaUrl',
  );
  // what verifies the server, and plain text asked for on purpose (a Unix socket, a loopback), are taken
  for (const query of [
    '',
    '?sslmode=disable',
    `?sslmode=verify-full&sslrootcert=${ca}`,
    '?sslmode=require',
    '?ssl=true',
    `?uselibpqcompat=true&sslmode=verify-ca&sslrootcert=${ca}`,
  ])
    t.is(parseDatabase({ url: { env: 'DB' } }, url(query)).url, url(query).DB, query);
});

test.serial('database: PGSSLMODE=no-verify in the environment is refused when the URL says nothing of TLS', (t) => {
  const before = process.env.PGSSLMODE;
  process.env.PGSSLMODE = 'no-verify';
  try {
    failsAt(t, () => parseDatabase({ url: { env: 'DB' } }, { DB: 'postgres://db/gw' }), 'database.url');
    const plain = 'postgres://db/gw?sslmode=disable';
    t.is(parseDatabase({ url: { env: 'DB' } }, { DB: plain }).url, plain);
  } finally {
    if (before === undefined) delete process.env.PGSSLMODE;
    else process.env.PGSSLMODE = before;
  }
});

test('redis.tls: the CA and a client certificate read from files beside the config, for every topology', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-tls-config-'));
  makePki(dir);
  const client = makeClientCertificate(dir);
  const tls = { caFile: 'ca.pem', certFile: client.certFile, keyFile: client.keyFile };
  const read = parseRedis({ url: { env: 'RS' }, tls }, { ...env, RS: 'rediss://redis.internal:6380' }, dir);
  t.regex(read.tls?.ca ?? '', /^-----BEGIN CERTIFICATE-----/);
  t.regex(read.tls?.cert ?? '', /^-----BEGIN CERTIFICATE-----/);
  t.regex(read.tls?.key ?? '', /PRIVATE KEY-----/);
  t.truthy(parseRedis({ sentinels: ['127.0.0.1:26379'], name: 'gw', tls: { caFile: 'ca.pem' } }, env, dir).tls);
  t.truthy(parseRedis({ cluster: ['127.0.0.1:7000'], tls: { caFile: 'ca.pem' } }, env, dir).tls);

  t.is(
    parseRedis({ cluster: ['a:1'], tls: { caFile: 'ca.pem', servername: 'redis.internal' } }, env, dir).tls?.servername,
    'redis.internal',
  );
  // a query ioredis would let override the options (`?tls=` turns TLS off) is refused, with or without redis.tls
  failsAt(
    t,
    () => parseRedis({ url: { env: 'RQ' } }, { ...env, RQ: 'rediss://redis.internal:6380/?tls=' }),
    'redis.url',
  );

  // never a plain connection where TLS was asked for; files that cannot be read or do not match
  failsAt(t, () => parseRedis({ url: { env: 'R' }, tls: { caFile: 'ca.pem' } }, env, dir), 'redis.tls');
  failsAt(t, () => parseRedis({ cluster: ['a:1'], tls: { caFile: 'missing.pem' } }, env, dir), 'redis.tls.caFile');
  failsAt(t, () => parseRedis({ cluster: ['a:1'], tls: { certFile: client.certFile } }, env, dir), 'redis.tls');
  failsAt(
    t,
    () => parseRedis({ cluster: ['a:1'], tls: { certFile: client.certFile, keyFile: 'server.key' } }, env, dir),
    'redis.tls',
  );
  failsAt(t, () => parseRedis({ cluster: ['a:1'], tls: { ca: 'inline' } }, env, dir), 'redis.tls.ca');
});
