/**
 * Redis under Sentinel, as local processes on free loopback ports: one primary, one replica of it, and
 * three sentinels (`redis-server <conf> --sentinel`) watching the primary under the name `name` with a
 * quorum of two and a 1 s down-after period. Ready when the replica's link is up and every sentinel knows
 * the replica and the two other sentinels (so a failover can be authorised).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, PortInUseError, waitFor } from './free-port.ts';
import { logLength, ownServerReady, startRedisOnFreePort, type RedisHandle } from './redis.ts';

export interface SentinelProcess {
  port: number;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface RedisSentinelHandle {
  name: string;
  primary: RedisHandle;
  replica: RedisHandle;
  sentinels: SentinelProcess[];
  /** "host:port" of each sentinel, as the gateway's `redis.sentinels` takes them. */
  addresses: string[];
  /** The port of the primary the sentinels report now. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

async function startSentinel(dir: string, port: number, name: string, primaryPort: number): Promise<SentinelProcess> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `logfile ${join(dir, 'sentinel.log')}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const log = { file: join(dir, 'sentinel.log'), from: logLength(join(dir, 'sentinel.log')) };
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await ownServerReady(child, port, log, 'Redis Sentinel');
  const signal = (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
  };
  return {
    port,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async stop() {
      signal('SIGCONT');
      signal('SIGTERM');
      await exited;
    },
  };
}

/** A sentinel on a free port, chosen again when it was taken before the sentinel could bind it. */
async function startSentinelOnFreePort(dir: string, name: string, primaryPort: number): Promise<SentinelProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startSentinel(dir, await freePort(), name, primaryPort);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

export async function startRedisSentinel(dir: string, name = 'gw'): Promise<RedisSentinelHandle> {
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(stoppers.map((s) => s().catch(() => undefined)));
  };
  try {
    const primary = await startRedisOnFreePort(join(dir, 'primary'));
    stoppers.push(() => primary.stop());
    const replica = await startRedisOnFreePort(join(dir, 'replica'), [
      '--replicaof',
      '127.0.0.1',
      String(primary.port),
    ]);
    stoppers.push(() => replica.stop());
    const sentinels: SentinelProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startSentinelOnFreePort(join(dir, `sentinel${i}`), name, primary.port);
      sentinels.push(s);
      stoppers.push(() => s.stop());
    }
    const admin = new Redis(replica.port, '127.0.0.1');
    const watchers = sentinels.map((s) => new Redis(s.port, '127.0.0.1'));
    try {
      await waitFor(
        async () => ((await admin.info('replication')) as string).includes('master_link_status:up'),
        'Redis replica',
      );
      await waitFor(
        async () => {
          for (const w of watchers) {
            const replicas = (await w.call('SENTINEL', 'REPLICAS', name)) as unknown[];
            const others = (await w.call('SENTINEL', 'SENTINELS', name)) as unknown[];
            if (replicas.length < 1 || others.length < 2) return false;
          }
          return true;
        },
        'Redis sentinels to know the replica and each other',
        60_000,
      );
    } finally {
      admin.disconnect();
      for (const w of watchers) w.disconnect();
    }
    return {
      name,
      primary,
      replica,
      sentinels,
      addresses: sentinels.map((s) => `127.0.0.1:${s.port}`),
      async currentPrimaryPort() {
        for (const s of sentinels) {
          const client = new Redis(s.port, '127.0.0.1', { maxRetriesPerRequest: 0, connectTimeout: 500 });
          try {
            const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
            return Number(port);
          } catch {
            // try the next sentinel
          } finally {
            client.disconnect();
          }
        }
        throw new Error('no sentinel answered');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
