/**
 * Commands issued by concurrent requests in the same turn of the event loop reach Redis in one socket
 * write, not one each (issue #14: a loopback write costs the gateway more CPU than the command itself; a
 * login made ~80 of them). Still one answer per command, in order, and errors stay per command.
 */
import test from 'ava';
import { createRedis } from '../../../gateway/store/redis.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

const N = 20;

test(`${N} commands sent in the same tick leave in one socket write`, async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  await redis.ping();
  const stream = redis.stream as unknown as { write: (...args: unknown[]) => boolean };
  const write = stream.write.bind(stream);
  let writes = 0;
  stream.write = (...args: unknown[]) => {
    writes += 1;
    return write(...args);
  };
  const answers = await Promise.all(
    Array.from({ length: N }, (_, i) => redis.set(`k${i}`, String(i)).then(() => redis.get(`k${i}`))),
  );
  t.deepEqual(
    answers,
    Array.from({ length: N }, (_, i) => String(i)),
  );
  t.true(writes <= 4, `${writes} writes for ${2 * N} commands`);
});

test('an error stays with its own command', async (t) => {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  t.teardown(() => redis.quit());
  await redis.set('text', 'x');
  const [ok, wrong, after] = await Promise.allSettled([redis.get('text'), redis.incr('text'), redis.get('text')]);
  t.deepEqual(ok, { status: 'fulfilled', value: 'x' });
  t.is(wrong.status, 'rejected');
  t.deepEqual(after, { status: 'fulfilled', value: 'x' });
});
