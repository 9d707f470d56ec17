/**
 * A real Redis Cluster of three primaries (no replicas), as local processes on free loopback ports: each
 * node in cluster mode, the 16384 slots split in three (CLUSTER ADDSLOTSRANGE), the nodes introduced to
 * each other (CLUSTER MEET), ready when every node reports `cluster_state:ok`.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './free-port.ts';
import { startRedisOnFreePort, type RedisHandle } from './redis.ts';

export interface RedisClusterHandle {
  nodes: Array<{ host: string; port: number }>;
  servers: RedisHandle[];
  stop(): Promise<void>;
}

const RANGES: ReadonlyArray<[number, number]> = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

export async function startRedisCluster(dir: string): Promise<RedisClusterHandle> {
  const servers: RedisHandle[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < RANGES.length; i++) {
      servers.push(
        await startRedisOnFreePort(join(dir, `node${i}`), [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `node${i}`, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const admins = servers.map((s) => new Redis(s.port, '127.0.0.1', { lazyConnect: false }));
    try {
      await Promise.all(admins.map((a, i) => a.call('CLUSTER', 'ADDSLOTSRANGE', RANGES[i]![0], RANGES[i]![1])));
      for (const s of servers.slice(1)) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', s.port);
      await waitFor(
        async () => {
          const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
          return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'));
        },
        'Redis Cluster',
        30_000,
      );
    } finally {
      for (const a of admins) a.disconnect();
    }
    return { nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })), servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
