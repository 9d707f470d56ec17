/**
 * Issue #14 (round trips): the device stage's read of the RBA counts is one Redis round trip and one command
 * when Redis holds the scopes (their existence and the fields asked, in one script: one hash tag, one Cluster
 * slot; it was a pipeline of an EXISTS and an HMGET per scope, four commands), and answers the same counts as before; a scope Redis lost is still loaded from PostgreSQL and read again.
 * Real Redis and PostgreSQL; round trips counted on ioredis (a command sent alone, or one pipeline).
 */
import test from 'ava';
import { redisTraffic } from '../helpers/redis-traffic.ts';
import { deviceFeatures } from '../../gateway/risk/device-stage.ts';
import { GLOBAL_SCOPE, RbaStore } from '../../gateway/risk/rba-store.ts';
import { durableTotal, signals, stores } from './fixtures.ts';

test.serial('reading the counts of scopes Redis holds is one round trip, with the same answer', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const login = signals({ accountId: 'rt-held' });
  const x = deviceFeatures(login, 'k');
  for (let i = 0; i < 3; i += 1) await store.learn('acct:rt-held', x);
  await store.read(['acct:rt-warm', GLOBAL_SCOPE], x); // the script loaded once per server (EVALSHA, then EVAL on NOSCRIPT)
  await s.redis.ping();
  const before = { ...redisTraffic };
  const { counts, users } = await store.read(['acct:rt-held', GLOBAL_SCOPE], x);
  t.is(redisTraffic.roundTrips - before.roundTrips, 1);
  t.is(redisTraffic.commands - before.commands, 1, 'one command for both scopes');
  t.is(counts[0]!.total, 3);
  t.true(counts[1]!.total >= 3);
  t.true(users >= 1);
  const [feature, value] = Object.entries(x)[0]!;
  t.is(counts[0]!.count(feature, value), 3);
});

test.serial('a scope Redis lost is loaded from PostgreSQL and read again', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const login = signals({ accountId: 'rt-lost' });
  const x = deviceFeatures(login, 'k');
  for (let i = 0; i < 2; i += 1) await store.learn('acct:rt-lost', x);
  await durableTotal(s.pool, 'acct:rt-lost', 2); // write-behind
  await s.redis.del('rba:{rba}:acct:rt-lost');
  const { counts } = await store.read(['acct:rt-lost', GLOBAL_SCOPE], x);
  t.is(counts[0]!.total, 2);
  t.is(await s.redis.exists('rba:{rba}:acct:rt-lost'), 1, 'warmed again');
});

test.serial('counting a login of a person Redis holds is one round trip', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const store = new RbaStore(s.redis, s.pool);
  const x = deviceFeatures(signals({ accountId: 'rt-learn' }), 'k');
  await store.learn('acct:rt-learn', x);
  await s.redis.ping();
  const before = redisTraffic.roundTrips;
  await store.learn('acct:rt-learn', x);
  t.is(redisTraffic.roundTrips - before, 1);
  const { counts } = await store.read(['acct:rt-learn'], x);
  t.is(counts[0]!.total, 2);
});

test.serial(
  'counting a login of a person Redis lost keeps the durable counts (loaded first, then counted)',
  async (t) => {
    const s = await stores();
    t.teardown(() => s.close());
    const store = new RbaStore(s.redis, s.pool);
    const x = deviceFeatures(signals({ accountId: 'rt-cold' }), 'k');
    for (let i = 0; i < 3; i += 1) await store.learn('acct:rt-cold', x);
    await durableTotal(s.pool, 'acct:rt-cold', 3); // write-behind
    await s.redis.del('rba:{rba}:acct:rt-cold');
    await store.learn('acct:rt-cold', x);
    const { counts } = await store.read(['acct:rt-cold'], x);
    t.is(counts[0]!.total, 4);
    const [feature, value] = Object.entries(x)[0]!;
    t.is(counts[0]!.count(feature, value), 4);
    t.is(counts[0]!.distinct(feature), 1, 'a value seen before is not counted as new');
  },
);
