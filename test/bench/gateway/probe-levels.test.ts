/**
 * The benchmark probe's levels (issue #14): at `cheap` — the level of every phase whose CPU the benchmark
 * reports — a query or a command only moves integer counters (no statement key, no key shape, no table);
 * `detail` keys them; `off` counts nothing. Real Redis and PostgreSQL (the harness).
 */
import test from 'ava';
import pg from 'pg';
import { Redis } from 'ioredis';
import { probeCounts, resetProbe, type ProbeLevel } from './gateway-probe.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../../helpers/services.ts';

async function traffic(level: ProbeLevel, redis: Redis, pool: pg.Pool) {
  resetProbe(level);
  await redis.set('oidc:Session:Zx3_kP0qLm9vB2nR7sT1', 'x', 'EX', 60);
  await redis.get('oidc:Session:Zx3_kP0qLm9vB2nR7sT1');
  await redis.pipeline().get('a').get('b').exec();
  await pool.query('select 1 as one');
  return structuredClone(probeCounts());
}

test('cheap counts totals, round trips and socket writes only; detail keys them too; off counts nothing', async (t) => {
  const redis = new Redis(redisUrl(), { keyPrefix: redisPrefix() });
  const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 1 });
  t.teardown(async () => {
    redis.disconnect();
    await pool.end();
  });
  await redis.ping();

  const cheap = await traffic('cheap', redis, pool);
  t.is(cheap.level, 'cheap');
  t.is(cheap.redisCommandCount, 4);
  t.is(cheap.redisRoundTrips, 3); // two commands on their own, one pipeline
  t.true(cheap.redisSocketWrites >= 3);
  t.is(cheap.pgQueryCount, 1);
  t.deepEqual(cheap.redisCommands, {});
  t.deepEqual(cheap.redisByKey, {});
  t.deepEqual(cheap.redisByRoundTrip, {});
  t.deepEqual(cheap.pgQueries, {});

  const detail = await traffic('detail', redis, pool);
  t.is(detail.redisCommandCount, 4);
  t.is(detail.redisRoundTrips, 3);
  // the test's own key prefix stays in the shape (the benchmark tells the probe its prefix)
  t.true(Object.keys(detail.redisByKey).some((k) => k.startsWith('GET ') && k.endsWith('oidc:Session:*')));
  t.deepEqual(detail.redisCommands, { SET: 1, GET: 3 });
  // per round trip, what it carried: the pipeline's two GETs are one round trip
  const carried = Object.entries(detail.redisByRoundTrip);
  t.is(
    carried.reduce((n, [, c]) => n + c, 0),
    3,
  );
  t.true(
    carried.some(([k, c]) => c === 1 && /^GET \S+a \+ GET \S+b$/.test(k)),
    JSON.stringify(carried),
  );
  t.deepEqual(detail.pgQueries, { 'select 1 as one': 1 });

  const off = await traffic('off', redis, pool);
  t.is(off.redisCommandCount + off.redisRoundTrips + off.redisSocketWrites + off.pgQueryCount, 0);

  t.throws(() => resetProbe('verbose' as ProbeLevel), { instanceOf: TypeError });
});
