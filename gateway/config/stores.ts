/**
 * `redis` and `database`: where the gateway keeps its state (issue #15: Sentinel, Cluster, a read replica).
 *
 * `redis` — exactly one topology:
 * - `url` (secret): one Redis server;
 * - `sentinels` (["host:port", …], at least one) + `name` (the primary's name in Sentinel), with optional
 *   `password` (secret: the data nodes') and `sentinelPassword` (secret);
 * - `cluster` (["host:port", …], the seed nodes of a Redis Cluster), with optional `password` (secret).
 * Also `keyPrefix` (default `gw:`; no `{` or `}`: hash tags are the gateway's), `commandTimeoutMs`
 * (default 5000, 50..60000: a command without an answer then fails with `FLOW_STORE_UNAVAILABLE`), and `tls`
 * (config/redis-tls.ts: the CA and an optional client certificate, for every topology).
 *
 * `database` — `url` (secret): the primary; `replicaUrl` (secret, optional): a streaming replica for the
 * reads that may lag (gateway/store/replica-router.ts); `replicaLag`: `heartbeatMs` (default 1000),
 * `maxMs` (default 1000: above it, those reads go to the primary), `recoverMs` (default 100) held for
 * `recoverSeconds` (default 30) before they return to the replica. TLS to PostgreSQL is in the URL
 * (`?sslmode=verify-full&sslrootcert=<CA file>`); a URL whose TLS would not verify the server (as node-postgres reads
 * it, `PGSSLMODE` included: hsm/database-tls.ts) is refused.
 */
import { ConfigError } from '../errors.ts';
import { array, integer, join, object, onlyKeys, secret, string, type Obj } from './check.ts';
import { unverifiedTls } from '../../hsm/database-tls.ts';
import { parseRedisTls } from './redis-tls.ts';
import type { GatewayConfig } from './types.ts';

function hostPorts(obj: Obj, key: string, at: string): Array<{ host: string; port: number }> {
  return array(obj, key, at, { min: 1 }).map((entry, i) => {
    const m = typeof entry === 'string' ? /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry) : null;
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new ConfigError(join(join(at, key), i), 'must be "host:port"');
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

const optionalSecret = (obj: Obj, key: string, at: string, env: NodeJS.ProcessEnv) =>
  obj[key] === undefined ? {} : { [key]: secret(obj, key, at, env) };

export function parseRedis(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  baseDir: string = process.cwd(),
): GatewayConfig['redis'] {
  const at = 'redis';
  const redis = object(raw, at);
  onlyKeys(redis, at, [
    'url',
    'sentinels',
    'name',
    'cluster',
    'password',
    'sentinelPassword',
    'keyPrefix',
    'commandTimeoutMs',
    'tls',
  ]);
  const given = (['url', 'sentinels', 'cluster'] as const).filter((k) => redis[k] !== undefined);
  if (given.length !== 1)
    throw new ConfigError(
      at,
      `give exactly one of url, sentinels (with name), cluster (given: ${given.join(', ') || 'none'})`,
    );
  const keyPrefix = string(redis, 'keyPrefix', at, { default: 'gw:' });
  if (/[{}]/.test(keyPrefix)) throw new ConfigError(join(at, 'keyPrefix'), 'must not contain { or } (hash tags)');
  const common = {
    keyPrefix,
    commandTimeoutMs: integer(redis, 'commandTimeoutMs', at, { default: 5_000, min: 50, max: 60_000 }),
    ...(redis.tls === undefined ? {} : { tls: parseRedisTls(redis.tls, at, baseDir) }),
  };
  if (given[0] !== 'sentinels') {
    for (const key of ['name', 'sentinelPassword'])
      if (redis[key] !== undefined) throw new ConfigError(join(at, key), 'is only for sentinels');
  }
  if (given[0] === 'url') {
    if (redis.password !== undefined) throw new ConfigError(join(at, 'password'), 'goes in the url with url');
    const url = secret(redis, 'url', at, env);
    // ioredis lets the URL's query override its options: `?tls=` would turn TLS off, or swap the CA
    if (URL.parse(url)?.searchParams.has('tls'))
      throw new ConfigError(join(at, 'url'), 'must not carry a tls parameter: TLS settings go in redis.tls');
    // never a plain connection where the operator asked for TLS (the URL is a secret: its value is not shown)
    if (common.tls !== undefined && !/^rediss:\/\//i.test(url))
      throw new ConfigError(join(at, 'tls'), 'needs a rediss:// url (redis.url is not one)');
    return { ...common, url };
  }
  if (given[0] === 'cluster')
    return {
      ...common,
      cluster: { nodes: hostPorts(redis, 'cluster', at), ...optionalSecret(redis, 'password', at, env) },
    };
  if (redis.name === undefined) throw new ConfigError(join(at, 'name'), 'is required with sentinels');
  return {
    ...common,
    sentinel: {
      sentinels: hostPorts(redis, 'sentinels', at),
      name: string(redis, 'name', at),
      ...optionalSecret(redis, 'password', at, env),
      ...optionalSecret(redis, 'sentinelPassword', at, env),
    },
  };
}

export function parseDatabase(raw: unknown, env: NodeJS.ProcessEnv): GatewayConfig['database'] {
  const at = 'database';
  const database = object(raw, at);
  onlyKeys(database, at, ['url', 'replicaUrl', 'replicaLag']);
  const lagAt = join(at, 'replicaLag');
  if (database.replicaLag !== undefined && database.replicaUrl === undefined)
    throw new ConfigError(lagAt, 'needs database.replicaUrl');
  const lag = object(database.replicaLag ?? {}, lagAt);
  onlyKeys(lag, lagAt, ['heartbeatMs', 'maxMs', 'recoverMs', 'recoverSeconds']);
  const maxMs = integer(lag, 'maxMs', lagAt, { default: 1_000, min: 10, max: 600_000 });
  const replicaLag = {
    heartbeatMs: integer(lag, 'heartbeatMs', lagAt, { default: 1_000, min: 10, max: 60_000 }),
    maxMs,
    recoverMs: integer(lag, 'recoverMs', lagAt, { default: 100, min: 1, max: maxMs }),
    recoverSeconds: integer(lag, 'recoverSeconds', lagAt, { default: 30, min: 0, max: 3_600 }),
  };
  return {
    url: verifiesTheServer(secret(database, 'url', at, env), join(at, 'url')),
    ...(database.replicaUrl === undefined
      ? {}
      : { replicaUrl: verifiesTheServer(secret(database, 'replicaUrl', at, env), join(at, 'replicaUrl')), replicaLag }),
  };
}

/** `url`, unless node-postgres would connect with TLS that verifies nothing (hsm/database-tls.ts). */
function verifiesTheServer(url: string, at: string): string {
  const why = unverifiedTls(url);
  if (why !== undefined)
    throw new ConfigError(at, `${why}: use sslmode=verify-full&sslrootcert=<the CA's file> (or no TLS: no sslmode)`);
  return url;
}
