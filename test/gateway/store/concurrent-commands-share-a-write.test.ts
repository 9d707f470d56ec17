/**
 * Commands issued by concurrent requests in the same turn of the event loop reach Redis in one socket
 * write, not one each (issue #14: a loopback write costs the gateway more CPU than the command itself; a
 * login made ~80 of them), now without ioredis's auto-pipelining (`redis-one-write-per-turn.ts`, cheaper per
 * command). Still one answer per command, in order, and errors stay per command. The writes counted are those
 * of the socket to the kernel (`redis-socket-batches.ts`), of every client of this process: the tests run one at
 * a time. Real Redis.
 */
import test, { type ExecutionContext } from 'ava';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createRedis } from '../../../gateway/store/redis.ts';
import { onRedisBatch } from '../../helpers/redis-socket-batches.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const N = 20;

/** The batches (commands per socket write) of `client` while `work` runs. */
async function batchesOf<T>(work: () => Promise<T>): Promise<{ result: T; batches: string[][] }> {
  const batches: string[][] = [];
  const stop = onRedisBatch((batch) => batches.push(batch.map((c) => c.name)));
  try {
    return { result: await work(), batches };
  } finally {
    stop();
  }
}

function client(t: ExecutionContext) {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  return redis;
}

test.serial(`${N} commands sent in the same turn leave in one socket write`, async (t) => {
  const redis = client(t);
  await redis.ping();
  const { result, batches } = await batchesOf(() =>
    Promise.all(Array.from({ length: N }, (_, i) => redis.set(`k${i}`, String(i)))),
  );
  t.deepEqual(result, Array(N).fill('OK'));
  t.is(batches.length, 1, JSON.stringify(batches));
  t.is(batches[0]!.length, N);
});

test.serial('each turn leaves in its own write; the answers follow their commands', async (t) => {
  const redis = client(t);
  await redis.ping();
  const { result, batches } = await batchesOf(() =>
    Promise.all(Array.from({ length: N }, (_, i) => redis.set(`k${i}`, String(i)).then(() => redis.get(`k${i}`)))),
  );
  t.deepEqual(
    result,
    Array.from({ length: N }, (_, i) => String(i)),
  );
  t.true(batches.length <= 4, `${batches.length} writes for ${2 * N} commands`);
});

test.serial('a pipeline and a MULTI issued in a turn leave with its other commands', async (t) => {
  const redis = client(t);
  await redis.ping();
  const { result, batches } = await batchesOf(async () => {
    const single = redis.set('p:single', '1');
    const piped = redis.pipeline().set('p:a', 'a').get('p:a').exec();
    const multi = redis.multi().incr('p:n').incr('p:n').exec();
    return Promise.all([single, piped, multi]);
  });
  t.is(result[0], 'OK');
  t.deepEqual(result[1], [
    [null, 'OK'],
    [null, 'a'],
  ]);
  t.is(result[2]![1]![1]! as number, (result[2]![0]![1]! as number) + 1);
  t.is(batches.length, 1, JSON.stringify(batches));
});

test.serial('an error stays with its own command', async (t) => {
  const redis = client(t);
  await redis.set('text', 'x');
  const [ok, wrong, after] = await Promise.allSettled([redis.get('text'), redis.incr('text'), redis.get('text')]);
  t.deepEqual(ok, { status: 'fulfilled', value: 'x' });
  t.is(wrong.status, 'rejected');
  t.deepEqual(after, { status: 'fulfilled', value: 'x' });
});

test.serial('a command issued in a later turn is not held back for the next one', async (t) => {
  const redis = client(t);
  await redis.ping();
  await nextTurn();
  const { result, batches } = await batchesOf(async () => {
    const first = await redis.set('t:1', '1');
    await nextTurn();
    return [first, await redis.get('t:1')];
  });
  t.deepEqual(result, ['OK', '1']);
  t.is(batches.length, 2);
});
