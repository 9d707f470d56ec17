/**
 * The rate limiter's fail-closed line when Redis is up but does not answer within `redisTimeoutMs`: the
 * decision is the local limiter's, never an unchecked admission. (Issue #14 weighed one shared timer for
 * every decision in flight instead of a timer and a Promise.race each; the in-process A/B showed no CPU
 * difference — ioredis arms a command timer of its own anyway — so the limiter was left as it was, and
 * this test guards the path such a change would touch.) A Redis server of its own, paused.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import { bucketKey, type Bucket } from '../../../gateway/ratelimit/bucket.ts';
import { RateLimiter } from '../../../gateway/ratelimit/limiter.ts';
import { startRedisOnFreePort } from '../../harness/services/redis.ts';

const SLOW = 0.01;
const bucket = (): Bucket => ({
  kind: 'ip',
  key: bucketKey('ip', 'token', randomUUID()),
  capacity: 10,
  perSecond: SLOW,
  cost: 1,
});

test('a decision Redis does not answer in time is the local limiter’s', async (t) => {
  // a Redis of its own: the pause below must not slow the other tests' Redis
  const server = await startRedisOnFreePort(join(mkdtempSync(join(tmpdir(), 'gw-rl-late-')), 'redis'));
  const redis = new Redis(server.url);
  const admin = new Redis(server.url);
  t.teardown(async () => {
    redis.disconnect();
    admin.disconnect();
    await server.stop();
  });
  await redis.ping();
  const limiter = new RateLimiter(redis, { instanceShare: 1, redisTimeoutMs: 50 });
  t.is((await limiter.decide([bucket()])).line, 'redis');
  await admin.call('CLIENT', 'PAUSE', '1000', 'ALL'); // every other client's command waits
  const late = await limiter.decide([bucket()]);
  t.is(late.line, 'local');
  t.true(late.admitted); // the local line's own bucket: a fresh one admits
});
