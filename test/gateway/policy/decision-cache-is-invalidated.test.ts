/**
 * The decision cache (real Redis): a decision is served from the cache only while the person's fraud-score
 * version is unchanged; an updated score, a late verdict or a review decision voids it, so a stale
 * "allow" is never served.
 */
import test from 'ava';
import { DecisionCache } from '../../../gateway/policy/decision-cache.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const allow = { kind: 'allow' as const, requiredAcr: 'eidas2' as const, reasons: [] };

test('a cached decision is served until the score updates, then never again', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const key = DecisionCache.keyOf({ client: 'rp', account: 'a1', score: 0.1 });
  t.true(await cache.scoreUpdated('a1', 0.1), 'a first score is an update');
  t.is(await cache.get('a1', key), null);
  await cache.set(key, await cache.version('a1'), allow);
  t.deepEqual(await cache.get('a1', key), allow);
  t.false(await cache.scoreUpdated('a1', 0.1), 'the same score again is not an update');
  t.deepEqual(await cache.get('a1', key), allow);
  t.true(await cache.scoreUpdated('a1', 0.9));
  t.is(await cache.get('a1', key), null, 'stale allow not served after the score changed');
});

test('an explicit invalidation (late verdict, review) voids every cached decision of that person only', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const mine = DecisionCache.keyOf({ a: 'a1' });
  const theirs = DecisionCache.keyOf({ a: 'a2' });
  await cache.set(mine, await cache.version('a1'), allow);
  await cache.set(theirs, await cache.version('a2'), allow);
  await cache.invalidate('a1');
  t.is(await cache.get('a1', mine), null);
  t.deepEqual(await cache.get('a2', theirs), allow);
});

test('entries expire after their TTL (30 s by default)', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis);
  const key = DecisionCache.keyOf({ k: 1 });
  await cache.set(key, 0, allow);
  const ttl = await redis.ttl(`pdp:${key}`);
  t.true(ttl > 0 && ttl <= 30);
});

test('a lookup answers the decision and the score version read with it; a decision stored under an older version is not served', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const key = DecisionCache.keyOf({ a: 'a3' });
  const miss = await cache.lookup('a3', key);
  t.deepEqual(miss, { decision: null, version: await cache.version('a3') });
  await cache.set(key, miss.version, allow);
  t.deepEqual(await cache.lookup('a3', key), { decision: allow, version: miss.version });
  await cache.invalidate('a3');
  t.deepEqual(await cache.lookup('a3', key), { decision: null, version: miss.version + 1 });
});
