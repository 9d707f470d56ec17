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
import calculateSlot from 'cluster-key-slot';
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
/** The node (of three equal ranges) that serves a slot. */
const nodeOf = (name: string) => Math.min(2, Math.floor(calculateSlot(name) / 5461.34));

/** A key name (with the prefix) served by `node`. */
function keyOn(node: number, prefix: string, tag: string): string {
  for (let i = 0; ; i++) if (nodeOf(`${prefix}${tag}${i}`) === node) return `${tag}${i}`;
}

test('a script and commands on other nodes, sent in one tick, all land', async (t) => {
  const prefix = 'gw-test:';
  const redis = createRedis({
    cluster: { nodes: cluster.nodes },
    keyPrefix: prefix,
  });
  t.teardown(() => redis.quit());
  await redis.set(keyOn(0, prefix, 'warm'), '1');

  // the script's own slot decides where auto-pipelining would group it; its key is on another node
  const scriptNode = nodeOf(`${prefix}${SCRIPT}`);
  const scriptKey = keyOn((scriptNode + 1) % 3, prefix, 'record');
  const neighbours = Array.from({ length: 5 }, (_, i) => keyOn(scriptNode, prefix, `pointer${i}-`));

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
