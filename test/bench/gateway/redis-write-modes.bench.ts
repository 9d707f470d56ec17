/**
 * What a Redis command costs the gateway's process, and Redis, by how the client sends it (issue #14, sixteenth
 * round): ioredis's auto-pipelining (a `Pipeline` per turn of the event loop), plain (a socket write per
 * command), and one write per turn by corking the socket (`gateway/store/redis-one-write-per-turn.ts`, what
 * the gateway uses on one server or Sentinel). Three patterns: one command at a time; three issued in one turn;
 * eight concurrent callers each awaiting its command before the next. Modes alternate, each twice; the figures
 * are CPU µs per command of this process (`process.cpuUsage`) and of the Redis server (`/proc/<pid>/stat`).
 *
 *   node test/harness/with-stack.ts -- node test/bench/gateway/redis-write-modes.bench.ts
 *
 * Environment: N (commands per pattern, default 20000). Needs the Redis server's pid (found from its port).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { oneWritePerTurn } from '../../../gateway/store/redis-one-write-per-turn.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const N = Number(process.env.N ?? 20_000);
const url = new URL(redisUrl());
const pid = Number(
  execFileSync('sh', ['-c', `ss -ltnpH 'sport = :${url.port}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`])
    .toString()
    .trim(),
);
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
/** The Redis server's CPU so far, µs (utime + stime). */
const serverCpu = () => {
  if (!(pid > 0)) return Number.NaN; // not found: the Redis column reads NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticks;
};

type Mode = 'auto-pipelined' | 'plain' | 'one write per turn';

async function measure(count: number, work: () => Promise<unknown>) {
  const server = serverCpu();
  const own = process.cpuUsage();
  await work();
  const used = process.cpuUsage(own);
  return { client: (used.user + used.system) / count, server: (serverCpu() - server) / count };
}

async function run(mode: Mode) {
  const redis = new Redis(redisUrl(), {
    keyPrefix: redisPrefix(),
    commandTimeout: 5_000,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: mode === 'auto-pipelined',
  });
  if (mode === 'one write per turn') oneWritePerTurn(redis);
  await redis.set('ab:k', 'v'.repeat(200));
  for (let i = 0; i < 2_000; i++) await redis.get('ab:k');
  const alone = await measure(N, async () => {
    for (let i = 0; i < N; i++) await redis.get('ab:k');
  });
  const threes = await measure(N, async () => {
    for (let i = 0; i < N / 3; i++) await Promise.all([redis.get('ab:k'), redis.get('ab:k'), redis.get('ab:k')]);
  });
  const concurrent = await measure(N, () =>
    Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < N / 8; i++) await redis.get('ab:k');
      }),
    ),
  );
  redis.disconnect();
  const cell = (m: { client: number; server: number }) => `${m.client.toFixed(1)} / ${m.server.toFixed(1)}`;
  console.log(`| ${mode} | ${cell(alone)} | ${cell(threes)} | ${cell(concurrent)} |`);
}

console.log(`redis write modes, ${N} commands per pattern; CPU µs per command, this process / Redis`);
console.log('| mode | one at a time | three per turn | 8 concurrent callers |');
console.log('|---|---|---|---|');
for (let round = 0; round < 2; round++)
  for (const mode of ['auto-pipelined', 'plain', 'one write per turn'] as const) await run(mode);
console.log('command: node test/harness/with-stack.ts -- node test/bench/gateway/redis-write-modes.bench.ts');
