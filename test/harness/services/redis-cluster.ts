/**
 * A real Redis Cluster of three primaries (no replicas), as local processes on free loopback ports: each
 * node in cluster mode, the 16384 slots split in three (CLUSTER ADDSLOTSRANGE), the nodes introduced to
 * each other (CLUSTER MEET), ready when every node reports `cluster_state:ok`.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './free-port.ts';
import { startRedisOnFreePort, type RedisHandle } from './redis.ts';

export interface RedisClusterHandle {
  /** The nodes as clients reach them (their TLS ports in a cluster started with TLS). */
  nodes: Array<{ host: string; port: number }>;
  servers: RedisHandle[];
  stop(): Promise<void>;
}

const RANGES: ReadonlyArray<[number, number]> = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

/**
 * `tls`: every node also listens on a TLS port with that certificate and speaks TLS on the cluster bus
 * (`tls-cluster yes`, where each node presents the client certificate to the others); `nodes` are then the TLS
 * ports, the ones the cluster announces to clients.
 */
export async function startRedisCluster(
  dir: string,
  tls?: { certFile: string; keyFile: string; caFile: string; clientCertFile: string; clientKeyFile: string },
): Promise<RedisClusterHandle> {
  const servers: RedisHandle[] = [];
  const tlsPorts: number[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < RANGES.length; i++) {
      const tlsPort = tls ? await freePort() : undefined;
      const tlsArgs =
        tls && tlsPort !== undefined
          ? [
              ['--tls-port', String(tlsPort)],
              ['--tls-cert-file', tls.certFile],
              ['--tls-key-file', tls.keyFile],
              ['--tls-ca-cert-file', tls.caFile],
              ['--tls-auth-clients', 'no'],
              ['--tls-cluster', 'yes'],
              // the cluster bus is mutual TLS: a node's outgoing connections present a client certificate
              ['--tls-client-cert-file', tls.clientCertFile],
              ['--tls-client-key-file', tls.clientKeyFile],
              ['--tls-replication', 'yes'],
            ].flat()
          : [];
      servers.push(
        await startRedisOnFreePort(join(dir, `node${i}`), [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `node${i}`, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
          ...tlsArgs,
        ]),
      );
      if (tlsPort !== undefined) tlsPorts.push(tlsPort);
    }
    // the ports the nodes know each other (and clients) by: the TLS ones with `tls-cluster yes`
    const announced = tls ? tlsPorts : servers.map((s) => s.port);
    const admins = servers.map((s) => new Redis(s.port, '127.0.0.1', { lazyConnect: false }));
    try {
      await Promise.all(admins.map((a, i) => a.call('CLUSTER', 'ADDSLOTSRANGE', RANGES[i]![0], RANGES[i]![1])));
      for (const port of announced.slice(1)) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', port);
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
    return { nodes: announced.map((port) => ({ host: '127.0.0.1', port })), servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
