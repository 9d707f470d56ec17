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
  /** Its TLS port, in a topology started with TLS. */
  tlsPort?: number;
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
  /** The same, of their TLS ports (a topology started with TLS; empty otherwise). */
  tlsAddresses: string[];
  /** The port of the primary the sentinels report now. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

/** TLS for the whole topology: every server and sentinel also listens with this certificate, replicates over it. */
export interface SentinelTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** The TLS directives of one server or sentinel (no client certificates asked for), as `name value` pairs. */
function tlsDirectives(tls: SentinelTls, tlsPort: number): string[][] {
  return [
    ['tls-port', String(tlsPort)],
    ['tls-cert-file', tls.certFile],
    ['tls-key-file', tls.keyFile],
    ['tls-ca-cert-file', tls.caFile],
    ['tls-auth-clients', 'no'],
    ['tls-replication', 'yes'],
  ];
}

async function startSentinel(
  dir: string,
  port: number,
  name: string,
  primaryPort: number,
  tls?: { files: SentinelTls; port: number },
): Promise<SentinelProcess> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      ...(tls ? tlsDirectives(tls.files, tls.port).map((d) => d.join(' ')) : []),
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
    ...(tls ? { tlsPort: tls.port } : {}),
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
async function startSentinelOnFreePort(
  dir: string,
  name: string,
  primaryPort: number,
  tls?: SentinelTls,
): Promise<SentinelProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const withTls = tls ? { files: tls, port: await freePort() } : undefined;
      return await startSentinel(dir, await freePort(), name, primaryPort, withTls);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

/**
 * `tls`: every server and sentinel also listens on a TLS port with that certificate, replicas replicate and sentinels
 * watch over TLS; `tlsAddresses` are then the sentinels' TLS "host:port".
 */
export async function startRedisSentinel(dir: string, name = 'gw', tls?: SentinelTls): Promise<RedisSentinelHandle> {
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(stoppers.map((s) => s().catch(() => undefined)));
  };
  try {
    // with TLS, each server's TLS port (chosen here) is the one replicated from and watched
    const serverTls = async () => {
      if (!tls) return { port: undefined, args: [] as string[] };
      const port = await freePort();
      return { port, args: tlsDirectives(tls, port).flatMap(([k, v]) => [`--${k}`, v!]) };
    };
    const primaryTls = await serverTls();
    const primary = await startRedisOnFreePort(join(dir, 'primary'), primaryTls.args);
    stoppers.push(() => primary.stop());
    const watchedPort = primaryTls.port ?? primary.port;
    const replicaTls = await serverTls();
    const replica = await startRedisOnFreePort(join(dir, 'replica'), [
      ...replicaTls.args,
      '--replicaof',
      '127.0.0.1',
      String(watchedPort),
    ]);
    stoppers.push(() => replica.stop());
    const sentinels: SentinelProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await startSentinelOnFreePort(join(dir, `sentinel${i}`), name, watchedPort, tls);
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
      tlsAddresses: sentinels.filter((s) => s.tlsPort !== undefined).map((s) => `127.0.0.1:${s.tlsPort}`),
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
