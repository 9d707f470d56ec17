/**
 * Issue #14 (the gateway's ioredis CPU): on one Redis server (or Sentinel), a command issued while the
 * connection is idle is written straight into the corked socket instead of through ioredis's
 * auto-pipeline (a pipeline object, a deferred write, two more promise hops: ~20 µs of CPU a command, for
 * nothing to batch with). What must not change: commands issued in one turn still leave in one socket
 * write; commands issued while answers are awaited are still auto-pipelined; the order of commands on the
 * connection is kept, whichever way each went. Real Redis.
 */
import test from 'ava';
import PipelineModule from 'ioredis/built/Pipeline.js';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';
import { countSocketWrites } from '../../helpers/socket-writes.ts';

let pipelines = 0;
const Pipeline = PipelineModule.default;
const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function countedExec(this: InstanceType<typeof Pipeline>, ...args: Parameters<typeof exec>) {
  pipelines += 1;
  return exec.apply(this, args);
};

test.serial('a command on an idle connection is written without a pipeline, in one socket write', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  await redis.ping();
  const writes = countSocketWrites(redis.stream);
  const before = pipelines;
  for (let i = 0; i < 10; i += 1) t.is(await redis.set(`lone${i}`, 'v', 'EX', 60), 'OK');
  t.is(pipelines - before, 0, 'no auto-pipeline for a lone command');
  t.is(writes(), 10);
  const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => redis.get(`lone${i}`)));
  t.deepEqual(
    burst,
    Array.from({ length: 10 }, () => 'v'),
  );
  t.is(writes(), 11, 'ten commands of one turn: one socket write');
});

test.serial('commands issued while answers are awaited are still auto-pipelined', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  await redis.ping();
  const first = redis.set('busy', '0');
  await new Promise((resolve) => setImmediate(resolve)); // written, its answer not read yet
  const before = pipelines;
  const more = Promise.all(Array.from({ length: 5 }, () => redis.incr('busy')));
  await first;
  t.deepEqual(await more, [1, 2, 3, 4, 5]);
  t.is(pipelines - before, 1, 'the five waited for the first answer and left together');
});

test.serial('the order of commands on the connection is kept, however each was sent', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  await redis.ping();
  const issued: Array<Promise<number>> = [];
  // lone commands, bursts, commands issued while others are in flight (not a MULTI: ioredis never
  // auto-pipelines it, and on main as here it overtakes auto-pipelined commands still waiting for their turn)
  for (let round = 0; round < 50; round += 1) {
    issued.push(redis.incr('counter'));
    if (round % 3 === 0) await issued.at(-1);
    for (let i = 0; i < round % 4; i += 1) issued.push(redis.incr('counter'));
    if (round % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const values = await Promise.all(issued);
  t.deepEqual(
    values,
    values.map((_, i) => i + 1),
  );
});

test('the ioredis internals it relies on are there (an upgrade that moves them fails here)', (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  const getter = Object.getOwnPropertyDescriptor(redis.options, 'enableAutoPipelining')?.get;
  t.is(typeof getter, 'function');
});
