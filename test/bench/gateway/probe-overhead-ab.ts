/**
 * What the benchmark's probe (gateway-probe.ts) costs the process it is loaded into, per level: in this one
 * process, blocks of a login's worth of traffic — its Redis round trips (single commands and pipelines), its
 * PostgreSQL queries and its HTTP requests, in the proportions of the gateway-only benchmark's full login —
 * run with the probe `off`, `cheap` and `detail`, alternated, and a second `off` (A/A control). The figure is
 * the median CPU of a block (process.cpuUsage, client and server both here, identical in every mode), so
 * the difference between two levels is the probe's own work.
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/probe-overhead-ab.ts
 *
 * Environment: BLOCKS (per level, default 40). BENCH_ORIGINS=1 adds the stack trace per command to `detail`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { resetProbe, probeCounts, type ProbeLevel } from './gateway-probe.ts';
import { freshDatabase, redisPrefix, redisUrl } from '../../helpers/services.ts';

const BLOCKS = Number(process.env.BLOCKS ?? 40);
/** Per full login in the benchmark (main, round 7): 72 Redis round trips for 81 commands, 21 queries, 7 requests. */
const SINGLE = 63;
const PIPELINES = 9;
const QUERIES = 21;
const REQUESTS = 7;

const redis = new Redis(redisUrl(), { keyPrefix: redisPrefix() });
const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
const server = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/interaction/AbCdEfGhIjKlMnOpQr/complete`;

async function login(i: number): Promise<void> {
  for (let k = 0; k < SINGLE; k++) {
    if (k % 2 === 0) await redis.set(`oidc:Interaction:probe-ab-${i}-${k}`, 'x', 'EX', 60);
    else await redis.get(`flow:{s6}:login:probe-ab-${i}-${k - 1}`);
  }
  for (let k = 0; k < PIPELINES; k++) await redis.pipeline().get(`s2:probe-${k}`).hgetall(`s2:probe-${k}`).exec();
  for (let k = 0; k < QUERIES; k++)
    await pool.query(
      'select record_key, kind, lookup_key from (select 1 as record_key, 2 as kind, 3 as lookup_key) t where $1::int > 0',
      [k + 1],
    );
  for (let k = 0; k < REQUESTS; k++) await (await fetch(url)).text();
}

const LEVELS: ReadonlyArray<[string, ProbeLevel]> = [
  ['off', 'off'],
  ['cheap', 'cheap'],
  ['detail', 'detail'],
  ['off again (A/A)', 'off'],
];
const samples = new Map<string, number[]>(LEVELS.map(([name]) => [name, []]));
for (let i = 0; i < 5; i++) await login(i); // warm-up
let n = 0;
for (let block = 0; block < BLOCKS; block++) {
  for (const [name, level] of block % 2 === 0 ? LEVELS : [...LEVELS].reverse()) {
    resetProbe(level, true);
    const start = process.cpuUsage();
    await login(n++);
    const used = process.cpuUsage(start);
    samples.get(name)!.push((used.user + used.system) / 1000);
    if (level === 'cheap' && probeCounts().redisCommandCount !== SINGLE + 2 * PIPELINES)
      throw new Error(`the probe counted ${probeCounts().redisCommandCount} commands`);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const off = median(samples.get('off')!);
console.log(
  `probe overhead, in-process A/B on Node ${process.versions.node}: ${BLOCKS} blocks per level, each one login's traffic (${SINGLE} Redis commands + ${PIPELINES} pipelines of 2, ${QUERIES} queries, ${REQUESTS} HTTP requests); BENCH_ORIGINS=${process.env.BENCH_ORIGINS ?? 'unset'}`,
);
console.log('$ node test/harness/with-stack.ts -- node test/bench/gateway/probe-overhead-ab.ts');
for (const [name] of LEVELS) {
  const m = median(samples.get(name)!);
  console.log(
    `  ${name.padEnd(16)} median CPU per block ${m.toFixed(3)} ms (${(m - off >= 0 ? '+' : '') + (m - off).toFixed(3)} ms vs off)`,
  );
}
redis.disconnect();
await pool.end();
server.close();
process.exit(0); // the probe's inspector session keeps the loop alive
