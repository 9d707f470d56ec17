/**
 * On Redis Cluster, a Lua script sent in the same turn of the event loop as commands on other keys reaches
 * the node of *its key*, and neither it nor the commands beside it are refused.
 *
 * ioredis's auto-pipelining groups commands by the node of their first argument; for EVAL / EVALSHA that is
 * the script (or its SHA), not the key. A script whose key lives on another node than its text's slot was
 * put in one pipeline with commands of that other node, and the cluster client refused the whole pipeline
 * ("All keys in the pipeline should belong to the same slots allocation group"): in a loaded login, the
 * session's cookie and sid pointers written beside its record's script were lost (the CI flake of
 * `test/e2e/login-on-redis-cluster.test.ts`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterHandle } from '../../harness/services/redis-cluster.ts';
import { createRedis } from '../../../gateway/store/redis.ts';

let cluster: RedisClusterHandle;
test.before(async () => {
  cluster = await startRedisCluster(mkdtempSync(join(tmpdir(), 'gw-cluster-scripts-')));
});
test.after.always(async () => {
  await cluster?.stop();
});

const SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]) return 1";
/** The node (of three equal ranges, see the harness) that serves a key, as the cluster itself computes it. */
async function nodeOf(name: string): Promise<number> {
  const node = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
  try {
    const slot = (await node.cluster('KEYSLOT', name)) as number;
    return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
  } finally {
    node.disconnect();
  }
}

/** A key name (without the prefix) served by `node`. */
async function keyOn(node: number, prefix: string, tag: string): Promise<string> {
  for (let i = 0; ; i++) if ((await nodeOf(`${prefix}${tag}${i}`)) === node) return `${tag}${i}`;
}

test('a script and commands on other nodes, sent in one tick, all land', async (t) => {
  const prefix = 'gw-test:';
  const redis = createRedis({
    cluster: { nodes: cluster.nodes },
    keyPrefix: prefix,
  });
  t.teardown(() => redis.quit());
  await redis.set(await keyOn(0, prefix, 'warm'), '1');

  // the script's own slot decides where auto-pipelining would group it; its key is on another node
  const scriptNode = await nodeOf(`${prefix}${SCRIPT}`);
  const scriptKey = await keyOn((scriptNode + 1) % 3, prefix, 'record');
  const neighbours = await Promise.all(Array.from({ length: 5 }, (_, i) => keyOn(scriptNode, prefix, `pointer${i}-`)));

  const results = await Promise.allSettled([
    redis.eval(SCRIPT, 1, scriptKey, 'sealed'),
    ...neighbours.map((k) => redis.set(k, 'record', 'EX', 60)),
  ]);
  t.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason))),
    results.map(() => 'ok'),
  );
  t.is(await redis.get(scriptKey), 'sealed');
  for (const k of neighbours) t.is(await redis.get(k), 'record');
});
