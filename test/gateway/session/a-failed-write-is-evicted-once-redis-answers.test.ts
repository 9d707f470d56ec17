/**
 * `PendingHotEnds` keeps what did not reach Redis and tries it again on the session tier's timer: ends (end marks)
 * and evictions (the older copy of a record whose write reached PostgreSQL only). A write of a record that fails
 * again while its eviction is under way is not lost with it; one retry runs at a time. Real Redis.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { HotTier } from '../../../gateway/session/hot-tier.ts';
import { PendingHotEnds } from '../../../gateway/session/pending-hot-ends.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

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
