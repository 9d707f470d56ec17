/**
 * `PendingHotEnds` keeps what did not reach Redis and tries it again on the session tier's timer: ends (end marks)
 * and evictions (the older copy of a record whose write reached PostgreSQL only). A write of a record that fails
 * again while its eviction is under way is not lost with it; one retry runs at a time. Each is written down in
 * PostgreSQL until Redis took it (`hot-ends-ledger.ts`): a process that stops with a queue leaves it to the next one.
 * Real Redis and PostgreSQL.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { HotTier } from '../../../gateway/session/hot-tier.ts';
import { PendingHotEnds } from '../../../gateway/session/pending-hot-ends.ts';
import { HotEndsLedger } from '../../../gateway/session/hot-ends-ledger.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../../helpers/services.ts';

function tiers(t: ExecutionContext) {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const hot = new HotTier(redis, 1_000);
  return { hot, pending: new PendingHotEnds(hot, pino({ level: 'silent' })) };
}

test('a write that fails again during its eviction is evicted by the next retry', async (t) => {
  const { hot, pending } = tiers(t);
  const key = randomBytes(32);
  pending.later([key]);
  const evict = hot.evict.bind(hot);
  const asked: string[][] = [];
  hot.evict = async (keys) => {
    asked.push(keys.map((k) => k.toString('hex')));
    const done = await evict(keys);
    if (asked.length === 1) pending.later([key]); // the record's next write failed meanwhile
    return done;
  };
  await pending.retry();
  await pending.retry();
  t.deepEqual(asked, [[key.toString('hex')], [key.toString('hex')]], 'evicted again');
  await pending.retry();
  t.is(asked.length, 2, 'then nothing left');
});

test('one retry at a time: a call meanwhile gets the running one', async (t) => {
  const { hot, pending } = tiers(t);
  pending.later([randomBytes(32), randomBytes(32)]);
  let calls = 0;
  const evict = hot.evict.bind(hot);
  hot.evict = async (keys) => {
    calls += 1;
    return evict(keys);
  };
  const [a, b] = await Promise.all([pending.retry(), pending.retry()]);
  t.is(calls, 1);
  t.is(a, 2);
  t.is(b, 2);
});

test('evictions a process could not make are made by a sweep, and forgotten in PostgreSQL', async (t) => {
  const pool = createPool(await freshDatabase());
  t.teardown(() => pool.end());
  const ledger = new HotEndsLedger(pool);
  const rows = async () =>
    (await pool.query<{ n: number }>('select count(*)::int as n from session_hot_pending')).rows[0]!.n;
  // the first process: Redis away (nothing listens there)
  const away = createRedis({ url: 'redis://127.0.0.1:1', keyPrefix: redisPrefix(), commandTimeoutMs: 200 });
  t.teardown(() => away.disconnect());
  const first = new PendingHotEnds(new HotTier(away, 200), pino({ level: 'silent' }), ledger);
  const [a, b] = [randomBytes(32), randomBytes(32)];
  first.later([a, b]);
  first.later([a]); // a's next write failed too: still one row
  for (let i = 0; i < 50 && (await rows()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(await rows(), 1, 'written down once');
  t.is(await first.retry(), 0, 'Redis away: nothing made, kept');
  t.is(await ledger.sweep(new HotTier(away, 200), 0), 0, 'nor by a sweep while Redis is away');
  t.is(await rows(), 1);
  // the first process is gone; Redis is back: another's sweep takes what it left
  const { hot } = tiers(t);
  const asked: string[] = [];
  const evict = hot.evict.bind(hot);
  hot.evict = async (keys) => {
    asked.push(...keys.map((k) => k.toString('hex')));
    return evict(keys);
  };
  t.is(await ledger.sweep(hot, 60_000), 0, 'a row younger than a minute waits for its own process');
  t.is(await ledger.sweep(hot, 0), 1);
  t.deepEqual(asked.sort(), [a.toString('hex'), b.toString('hex')].sort());
  t.is(await rows(), 0, 'forgotten once made');
});
