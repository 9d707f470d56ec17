/**
 * The decision cache (real Redis): a decision is served from the cache only while the person's fraud-score
 * version is unchanged; an updated score, a late verdict or a review decision voids it, so a stale
 * "allow" is never served.
 */
import test from 'ava';
import { DecisionCache } from '../../../gateway/policy/decision-cache.ts';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisTraffic } from '../../helpers/redis-traffic.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const allow = { kind: 'allow' as const, requiredAcr: 'eidas2' as const, reasons: [] };

test('a cached decision is served until the score updates, then never again', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const key = DecisionCache.keyOf({ client: 'rp', account: 'a1', score: 0.1 });
  t.true(await cache.scoreUpdated('a1', 0.1), 'a first score is an update');
  t.is(await cache.get('a1', key), null);
  await cache.set('a1', key, await cache.version('a1'), allow);
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
  await cache.set('a1', mine, await cache.version('a1'), allow);
  await cache.set('a2', theirs, await cache.version('a2'), allow);
  await cache.invalidate('a1');
  t.is(await cache.get('a1', mine), null);
  t.deepEqual(await cache.get('a2', theirs), allow);
});

test('entries expire after their TTL (30 s by default)', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis);
  const key = DecisionCache.keyOf({ k: 1 });
  await cache.set('a0', key, 0, allow);
  const ttl = await redis.ttl(DecisionCache.redisKey('a0', key));
  t.true(ttl > 0 && ttl <= 30);
});

test('a lookup answers the decision and the score version read with it; a decision stored under an older version is not served', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const key = DecisionCache.keyOf({ a: 'a3' });
  const miss = await cache.lookup('a3', key);
  t.deepEqual(miss, { decision: null, version: await cache.version('a3') });
  await cache.set('a3', key, miss.version, allow);
  t.deepEqual(await cache.lookup('a3', key), { decision: allow, version: miss.version });
  await cache.invalidate('a3');
  t.deepEqual(await cache.lookup('a3', key), { decision: null, version: miss.version + 1 });
});

test.serial('a lookup is one Redis command, and so is a new score (issue #14: two each before)', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const cache = new DecisionCache(redis, 30);
  const key = DecisionCache.keyOf({ a: 'a4' });
  await cache.lookup('a4-warm', key); // the scripts loaded once per server (EVALSHA, then EVAL on NOSCRIPT)
  await cache.scoreUpdated('a4-warm', 0.5);
  const commands = async (work: () => Promise<unknown>) => {
    const before = redisTraffic.commands;
    await work();
    return redisTraffic.commands - before;
  };
  t.is(await commands(() => cache.lookup('a4', key)), 1);
  t.is(await commands(() => cache.scoreUpdated('a4', 0.2)), 1, 'a changed score: compared and the version bumped');
  t.is(await commands(() => cache.scoreUpdated('a4', 0.2)), 1, 'the same score: compared only');
  t.is(await cache.version('a4'), 1);
});

test.serial(
  "a decision computed on a miss is cached with the login's score, in the same command, only while it is not stale",
  async (t) => {
    const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
    t.teardown(() => redis.quit());
    const cache = new DecisionCache(redis, 30);
    const key = DecisionCache.keyOf({ a: 'a5' });
    await cache.scoreUpdated('a5', 0.3); // the person's first score
    const { decision, version } = await cache.lookup('a5', key);
    t.is(decision, null);
    const before = redisTraffic.commands;
    t.false(await cache.scoreUpdated('a5', 0.3, { accountId: 'a5', key, version, decision: allow }));
    t.is(redisTraffic.commands - before, 1, 'the score recorded and the decision cached: one command');
    t.deepEqual(await cache.get('a5', key), allow);
    // a changed score: the version bumps and the decision computed under the old one is not cached
    const other = DecisionCache.keyOf({ a: 'a5', other: true });
    const miss = await cache.lookup('a5', other);
    t.true(
      await cache.scoreUpdated('a5', 0.8, { accountId: 'a5', key: other, version: miss.version, decision: allow }),
    );
    t.is(await redis.exists(DecisionCache.redisKey('a5', other)), 0);
    // computed under a version another login bumped meanwhile: not cached either
    const third = DecisionCache.keyOf({ a: 'a5', third: true });
    const stale = await cache.lookup('a5', third);
    await cache.invalidate('a5');
    t.false(
      await cache.scoreUpdated('a5', 0.8, { accountId: 'a5', key: third, version: stale.version, decision: allow }),
    );
    t.is(await cache.get('a5', third), null);
  },
);
