/**
 * Everyone's count of one value (the Freeman model's global scope) goes 90 days after its last update, from
 * PostgreSQL and from Redis's copy alike, and its feature's distinct count falls by the values removed. Redis's
 * global hash has no expiry: before, the retention job purged PostgreSQL only, and Redis kept every value ever
 * seen (an IP prefix, a user agent, a device), a hash that grew without bound at national scale.
 * Real PostgreSQL and Redis; more values than one batch of the job.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { forgetGlobalFields, GLOBAL_SCOPE } from '../../gateway/risk/rba-store.ts';
import { enforceRetention } from '../../gateway/risk/retention.ts';
import { createRedis } from '../../gateway/store/redis.ts';
import { createPool } from '../../gateway/store/postgres.ts';
import { migrate } from '../../gateway/store/migrate.ts';
import { prepareDeployment } from '../harness/deployment.ts';
import { RP_REDIRECT } from '../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';
import { stores } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../gateway/risk/retention-cli.ts', import.meta.url));

const DAY = 86_400_000;
const KEY = `rba:{rba}:${GLOBAL_SCOPE}`;

test('the global counts of values unseen for 90 days leave PostgreSQL and Redis, their distinct counts with them', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const now = new Date();
  const old = new Date(now.getTime() - 91 * DAY);
  const young = new Date(now.getTime() - 89 * DAY);
  const oldDevices = Array.from({ length: 2_500 }, (_, i) => `c:device:v${i}`);
  const counts: Array<[field: string, count: number, at: Date]> = [
    ['t', 10, now],
    ['u', 3, now],
    ['c:ua:old', 2, old],
    ['c:ua:new', 8, young],
    ['d:ua', 2, now],
    ['c:net:prefix:old', 1, old], // a feature whose name holds a colon
    ['d:net:prefix', 1, now],
    ['d:device', oldDevices.length + 1, now],
    ['c:device:kept', 1, now],
    ...oldDevices.map((field): [string, number, Date] => [field, 1, old]),
  ];
  await s.pool.query(
    `insert into rba_counts (scope, field, count, updated_at)
       select $1, f, c, a from unnest($2::text[], $3::bigint[], $4::timestamptz[]) as u(f, c, a)`,
    [GLOBAL_SCOPE, counts.map((c) => c[0]), counts.map((c) => c[1]), counts.map((c) => c[2])],
  );
  await s.redis.hset(KEY, Object.fromEntries(counts.map(([field, count]) => [field, String(count)])));

  const removed = await enforceRetention(s.pool, new AuditLog(s.pool), now, s.redis);

  t.is(removed.rba_global_values, oldDevices.length + 2, 'every old value, over three batches');
  const expected = { t: '10', u: '3', 'c:ua:new': '8', 'd:ua': '1', 'd:net:prefix': '0', 'd:device': '1' };
  const durable = await s.pool.query<{ field: string; count: string }>(
    'select field, count::text as count from rba_counts where scope = $1',
    [GLOBAL_SCOPE],
  );
  t.deepEqual(
    Object.fromEntries(durable.rows.map((r) => [r.field, r.count])),
    { ...expected, 'c:device:kept': '1' },
    'PostgreSQL',
  );
  t.deepEqual(await s.redis.hgetall(KEY), { ...expected, 'c:device:kept': '1' }, 'Redis holds what PostgreSQL holds');
});

test('Redis keeps a value counted since PostgreSQL was read, lowers nothing twice, and creates no global hash', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  t.is(await forgetGlobalFields(s.redis, [{ field: 'c:ua:old', count: '1' }]), 0);
  t.is(await s.redis.exists(KEY), 0, 'a global hash Redis lost is loaded from PostgreSQL later, not created empty');
  await s.redis.hset(KEY, { t: '9', 'c:ua:old': '1', 'c:ua:live': '3', 'd:ua': '2' });
  const purged = [
    { field: 'c:ua:old', count: '1' },
    { field: 'c:ua:live', count: '2' }, // a login counted it in Redis since: its write-behind is on the way
  ];
  t.is(await forgetGlobalFields(s.redis, purged), 1);
  t.is(await forgetGlobalFields(s.redis, purged), 0, 'a run repeated after a failed commit');
  t.deepEqual(await s.redis.hgetall(KEY), { t: '9', 'c:ua:live': '3', 'd:ua': '1' });
});

test('a Redis that cannot be trimmed leaves PostgreSQL as it was, for the next run', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const now = new Date();
  await s.pool.query(`insert into rba_counts (scope, field, count, updated_at) values ($1, 'c:ua:old', 1, $2)`, [
    GLOBAL_SCOPE,
    new Date(now.getTime() - 91 * DAY),
  ]);
  await s.redis.set(KEY, 'not a hash'); // the script's HDEL fails: WRONGTYPE
  await t.throwsAsync(enforceRetention(s.pool, new AuditLog(s.pool), now, s.redis), { message: /WRONGTYPE/ });
  const { rows } = await s.pool.query('select field from rba_counts where scope = $1', [GLOBAL_SCOPE]);
  t.deepEqual(rows, [{ field: 'c:ua:old' }], 'the batch was rolled back');
});

test('the daily job given the gateway config trims Redis too; given a database URL alone it warns', async (t) => {
  const pgUrl = await freshDatabase();
  const pool = createPool(pgUrl);
  t.teardown(() => pool.end());
  await migrate(pool);
  const prefix = redisPrefix();
  const redis = createRedis({ url: redisUrl(), keyPrefix: prefix });
  t.teardown(() => redis.quit());
  const deployment = await prepareDeployment({
    dir: mkdtempSync(join(tmpdir(), 'gw-retention-cli-')),
    pgUrl,
    redisUrl: redisUrl(),
    redisKeyPrefix: prefix,
    token: freshToken(),
    rpRedirectUri: RP_REDIRECT,
    logLevel: 'silent',
  });
  t.teardown(() => deployment.stop());
  const old = new Date(Date.now() - 91 * DAY);
  await pool.query(
    `insert into rba_counts (scope, field, count, updated_at) values ($1, 'c:ua:old', 1, $2), ($1, 'd:ua', 1, now())`,
    [GLOBAL_SCOPE, old],
  );
  await redis.hset(KEY, { 'c:ua:old': '1', 'd:ua': '1' });
  const run = promisify(execFile);
  const env = { ...process.env, ...deployment.env };

  const alone = await run(process.execPath, [CLI], { env: { ...env, GW_DATABASE_URL: pgUrl } });
  t.regex(alone.stderr, /without --config, Redis's copy of the global risk counts is not trimmed/);
  t.is((JSON.parse(alone.stdout) as Record<string, number>).rba_global_values, 1);
  t.deepEqual(await redis.hgetall(KEY), { 'c:ua:old': '1', 'd:ua': '1' }, 'a URL alone reaches PostgreSQL only');

  await pool.query(`insert into rba_counts (scope, field, count, updated_at) values ($1, 'c:ua:old', 1, $2)`, [
    GLOBAL_SCOPE,
    old,
  ]);
  const configured = await run(process.execPath, [CLI, '--config', deployment.configFile], { env });
  t.is(configured.stderr, '');
  t.is((JSON.parse(configured.stdout) as Record<string, number>).rba_global_values, 1);
  t.deepEqual(await redis.hgetall(KEY), { 'd:ua': '0' }, 'the configured Redis, under its key prefix');
});
