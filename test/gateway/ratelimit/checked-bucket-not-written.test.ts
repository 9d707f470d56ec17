/**
 * Issue #14: a bucket a decision only checks (cost 0: the failures buckets, checked on every limited
 * request) is not written back — no key for an address that never failed, its expiry not pushed back —
 * and the limit is the same: charged failures still empty it, checks in between do not refill it faster or
 * slower. Real Redis (the harness).
 */
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { bucketKey, type Bucket } from '../../../gateway/ratelimit/bucket.ts';
import { RateLimiter } from '../../../gateway/ratelimit/limiter.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisUrl } from '../../helpers/services.ts';

// one token per 100 s: nothing refills while a test runs
const SLOW = 0.01;

async function bed(t: ExecutionContext) {
  const redis = createRedis({ url: redisUrl(), keyPrefix: `rl-check-${randomUUID()}:` });
  t.teardown(() => redis.disconnect());
  await redis.ping(); // connected: the decisions below are Redis's, not the local line's
  const limiter = new RateLimiter(redis, { instanceShare: 1, redisTimeoutMs: 2000 });
  const address = randomUUID();
  const taken: Bucket = { kind: 'ip', key: bucketKey('ip', 'token', address), capacity: 100, perSecond: SLOW, cost: 1 };
  const failures: Bucket = { kind: 'failures', key: bucketKey('fail', address), capacity: 2, perSecond: SLOW, cost: 0 };
  return { redis, limiter, taken, failures };
}

test('an admitted decision writes the buckets it takes, not the failures bucket it only checks', async (t) => {
  const { redis, limiter, taken, failures } = await bed(t);
  const first = await limiter.decide([taken, failures]);
  t.deepEqual(first, { admitted: true, retryAfterSeconds: 0, line: 'redis' });
  t.is(await redis.exists(taken.key), 1);
  t.is(await redis.exists(failures.key), 0); // an address that never failed has no failures key
});

test('a checked bucket keeps its state and expiry; charged failures still empty it, then every request is refused', async (t) => {
  const { redis, limiter, taken, failures } = await bed(t);
  await limiter.charge([failures]);
  t.is(await redis.hget(failures.key, 't'), '1');
  const stored = await redis.hgetall(failures.key);
  await redis.pexpire(failures.key, 60_000); // marks the expiry: a write back would set it to cap / rate + 1 s
  t.true((await limiter.decide([taken, failures])).admitted);
  t.deepEqual(await redis.hgetall(failures.key), stored);
  t.true((await redis.pttl(failures.key)) <= 60_000);
  await limiter.charge([failures]); // the second failure: no token left
  const refused = await limiter.decide([taken, failures]);
  t.false(refused.admitted);
  t.is(refused.line, 'redis');
  t.true(refused.retryAfterSeconds >= 1);
  t.is(await redis.hget(taken.key, 't'), '99'); // the refused decision took nothing
});
