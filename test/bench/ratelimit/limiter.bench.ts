/**
 * The rate limiter (gateway/ratelimit/): its cost per decision (one EVALSHA taking four buckets, as a
 * limited request does: global, client, address, failures) and its accuracy: offered twice the configured
 * rate for a few seconds, how many it admits against what the configuration allows (burst + rate × time).
 * The local limiter (Redis unreachable) is measured the same way. Needs GW_TEST_REDIS_URL (the harness).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { bucketKey, type Bucket } from '../../../gateway/ratelimit/bucket.ts';
import { RateLimiter } from '../../../gateway/ratelimit/limiter.ts';
import { LocalLimiter } from '../../../gateway/ratelimit/local-limiter.ts';
import { createRedis } from '../../../gateway/store/redis.ts';

const quick = process.env.BENCH_QUICK === '1';
const url = process.env.GW_TEST_REDIS_URL;
if (url === undefined) throw new Error('GW_TEST_REDIS_URL is not set: run under test/harness/with-stack.ts');
const redis: Redis = createRedis({ url, keyPrefix: `bench-rl-${randomUUID()}:` });
await redis.ping();
const limiter = new RateLimiter(redis, { instanceShare: 1, redisTimeoutMs: 1000 });

function requestBuckets(i: number, big: boolean): Bucket[] {
  const size = big ? 1e9 : 1;
  return [
    { kind: 'global', key: bucketKey('global'), capacity: size, perSecond: size, cost: 1 },
    { kind: 'client', key: bucketKey('client', 'rp'), capacity: size, perSecond: size, cost: 1 },
    {
      kind: 'ip',
      key: bucketKey('ip', 'authorize', `10.0.${(i >> 8) & 255}.${i & 255}`),
      capacity: size,
      perSecond: size,
      cost: 1,
    },
    {
      kind: 'failures',
      key: bucketKey('fail', `10.0.${(i >> 8) & 255}.${i & 255}`),
      capacity: size,
      perSecond: size,
      cost: 0,
    },
  ];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

// 1. cost: sequential latency, then throughput and CPU with 64 decisions in flight
const n = quick ? 2000 : 10000;
const latencies: number[] = [];
for (let i = 0; i < n; i += 1) {
  const start = performance.now();
  await limiter.decide(requestBuckets(i, true));
  latencies.push(performance.now() - start);
}
latencies.sort((a, b) => a - b);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < n) await limiter.decide(requestBuckets(next++, true));
  }),
);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(
  `cost: ${n} decisions of 4 buckets; sequential p50 ${percentile(latencies, 0.5).toFixed(3)} ms, p99 ${percentile(latencies, 0.99).toFixed(3)} ms; 64 in flight: ${Math.round(n / elapsed)} decisions/s, gateway CPU ${((cpu.user + cpu.system) / n).toFixed(1)} µs per decision`,
);

// 2. accuracy at 2× the configured rate (open loop: a batch about every 10 ms)
async function offer(
  decide: (b: Bucket[]) => Promise<boolean> | boolean,
  rate: number,
  seconds: number,
): Promise<{ offered: number; admitted: number }> {
  const bucket: Bucket = {
    kind: 'client',
    key: bucketKey('client', `acc-${randomUUID()}`),
    capacity: rate,
    perSecond: rate,
    cost: 1,
  };
  let offered = 0;
  let admitted = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    // as many as 2 × rate × the time elapsed so far (timers drift: the clock decides, not the tick count)
    const batch = Math.floor((2 * rate * (performance.now() - start)) / 1000) - offered;
    offered += batch;
    const answers = await Promise.all(Array.from({ length: batch }, () => decide([bucket])));
    admitted += answers.filter(Boolean).length;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const actualSeconds = (performance.now() - start) / 1000;
  console.log(
    `  configured ${rate}/s (burst ${rate}), offered ${Math.round(offered / actualSeconds)}/s for ${actualSeconds.toFixed(1)} s: admitted ${admitted}, allowed ${Math.round(rate + rate * actualSeconds)} (burst + rate × time): ${((admitted / (rate + rate * actualSeconds)) * 100).toFixed(1)} %; admitted rate after the burst ${Math.round((admitted - rate) / actualSeconds)}/s`,
  );
  return { offered, admitted };
}

const seconds = quick ? 3 : 10;
for (const rate of [200, 1000]) {
  console.log(`accuracy, Redis (one EVALSHA per decision):`);
  await offer(async (b) => (await limiter.decide(b)).admitted, rate, seconds);
  const local = new LocalLimiter(1);
  console.log(`accuracy, local limiter (Redis unreachable; +10 % by design):`);
  await offer((b) => local.decide(b).admitted, rate, seconds);
}
redis.disconnect();
