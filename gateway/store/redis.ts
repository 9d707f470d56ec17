/**
 * The Redis connection: one ioredis client per process, with a key prefix per deployment, on one of three
 * topologies (issue #15):
 *
 * - `url`: one Redis server;
 * - `sentinel`: a primary found through Redis Sentinel (`sentinels` + the monitored `name`); on a failover
 *   the client asks the sentinels again and reconnects to the promoted replica, without a restart;
 * - `cluster`: Redis Cluster (the seed `nodes`). Every multi-key command, MULTI and Lua script of the gateway
 *   names keys of one slot (hash tags `{…}`); `../../gateway/README.md` lists them.
 *
 * Commands fail fast with `FLOW_STORE_UNAVAILABLE` while Redis is unreachable (`redis-fail-fast.ts`).
 *
 * One write per turn: the commands issued during one turn of the event loop (by concurrent requests) leave in
 * one socket write (issue #14: each loopback write costs the gateway more CPU than the command itself). On one
 * server or through Sentinel this is `redis-one-write-per-turn.ts` (a cork of the socket per turn), cheaper than
 * ioredis's auto-pipelining, which Redis Cluster keeps (a node per slot). Every command still has its own answer
 * and error, in order. Commands ioredis never auto-pipelines (SUBSCRIBE, MULTI, INFO…) are sent as before.
 */
import { Cluster, Redis } from 'ioredis';
import { failFast } from './redis-fail-fast.ts';
import { oneWritePerTurn } from './redis-one-write-per-turn.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisOptions {
  /** One Redis server (`redis://host:port/db`, credentials in the URL). Exactly one of url, sentinel, cluster. */
  url?: string;
  /** A primary managed by Redis Sentinel. */
  sentinel?: { sentinels: HostPort[]; name: string; password?: string; sentinelPassword?: string };
  /** A Redis Cluster, by some of its nodes. */
  cluster?: { nodes: HostPort[]; password?: string };
  /** Every key the gateway writes starts with this (one Redis may serve several deployments or tests). */
  keyPrefix: string;
  /** A command without an answer after this long fails (`FLOW_STORE_UNAVAILABLE`), ms. Default 5000. */
  commandTimeoutMs?: number;
  /** TLS to every connection (the CA, a client certificate): the server, the sentinels and their primary, each node. */
  tls?: { ca?: string; cert?: string; key?: string; servername?: string };
  /** Connection errors (ioredis reconnects by itself); without a listener they would be printed raw. */
  onError?: (error: Error) => void;
  /** Told of each command that failed because Redis could not answer (a metric). */
  onUnavailable?: (command: string) => void;
}

/** Commands whose first argument is a script or its SHA, not a key (see the Cluster options below). */
const SCRIPT_COMMANDS = ['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'] as const;

/** Defaults of {@link createRedis}. */
export const REDIS_DEFAULTS = { commandTimeoutMs: 5_000 } as const;

/**
 * The process's Redis client. A Cluster client is returned under the `Redis` type: the gateway uses only
 * commands both share (single-slot commands, MULTI/pipelines of one slot, EVAL, SUBSCRIBE on `duplicate()`,
 * `status`, `quit`), and `test/e2e/login-on-redis-cluster.test.ts` runs a whole login on a real cluster.
 *
 * @example
 * const redis = createRedis({ sentinel: { sentinels: [{ host: '10.0.0.5', port: 26379 }], name: 'gw' }, keyPrefix: 'gw:' });
 */
export function createRedis(options: RedisOptions): Redis {
  const chosen = [options.url, options.sentinel, options.cluster].filter((x) => x !== undefined).length;
  if (chosen !== 1) throw new TypeError('createRedis: give exactly one of url, sentinel, cluster');
  const common = {
    keyPrefix: options.keyPrefix,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    // one server or Sentinel: a turn's commands leave in one write without it (redis-one-write-per-turn.ts)
    enableAutoPipelining: false,
    commandTimeout: options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
  };
  let redis: Redis;
  if (options.cluster) {
    const { nodes, password } = options.cluster;
    const cluster = new Cluster(nodes, {
      enableAutoPipelining: true,
      // auto-pipelining groups a command by the node of its first argument: for a script that is its text
      // or SHA, not its key. Grouped with commands of that other node, the whole pipeline was refused
      // ("same slots allocation group") — the commands beside the script too. Scripts leave on their own.
      autoPipeliningIgnoredCommands: [...SCRIPT_COMMANDS],
      // with TLS, a seed node's name is connected to as given (not its address): its certificate names it
      ...(options.tls === undefined
        ? {}
        : { dnsLookup: (address: string, done: (error: null, address: string) => void) => done(null, address) }),
      enableOfflineQueue: true,
      keyPrefix: options.keyPrefix,
      redisOptions: {
        ...common,
        keyPrefix: '',
        ...(password === undefined ? {} : { password }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      },
    });
    redis = failFast(cluster, options.onUnavailable) as unknown as Redis;
  } else if (options.sentinel) {
    const { sentinels, name, password, sentinelPassword } = options.sentinel;
    redis = failFast(
      new Redis({
        ...common,
        sentinels,
        name,
        // not ioredis's failoverDetector: its sentinel subscribers have no error listener and outlive quit();
        // a dead primary closes the socket, and the client asks the sentinels again
        ...(password === undefined ? {} : { password }),
        ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
        // the sentinels and the primary they name, both over TLS
        ...(options.tls === undefined
          ? {}
          : { tls: options.tls, sentinelTLS: options.tls, enableTLSForSentinelMode: true }),
      }),
      options.onUnavailable,
    );
  } else {
    // a rediss:// URL turns TLS on; `tls` gives it the CA (and a client certificate)
    redis = failFast(
      new Redis(options.url!, {
        ...common,
        lazyConnect: false,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      }),
      options.onUnavailable,
    );
  }
  if (!options.cluster) oneWritePerTurn(redis);
  let lastReport = 0;
  redis.on('error', (error: Error) => {
    // one report per 10 s while the connection is down, not one per retry
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    options.onError?.(error);
  });
  return redis;
}

/**
 * Closes a client without hanging on a dead server: QUIT when it is connected (at most `waitMs`), then the socket
 * is closed either way. A plain `quit()` on a client whose server is gone waits for a reconnection that may never
 * come (a subscriber keeps an offline queue): the process would not exit.
 */
export async function closeRedis(client: Pick<Redis, 'status' | 'quit' | 'disconnect'>, waitMs = 1_000): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}
