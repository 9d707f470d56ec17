/**
 * Issue #14: inside `holdStatePuts`, an adapter's `put`s are held and written when the caller sends them (the
 * gateway: with the login's AUTHENTICATING commit), once however often it asks; a scope never sent writes
 * nothing; any other operation inside the scope writes what is held first, so an adapter reads what it wrote.
 * Real Redis.
 */
import test from 'ava';
import { createRedis } from '../../../gateway/store/redis.ts';
import { holdStatePuts, RedisStateStore } from '../../../gateway/store/redis-state-store.ts';
import { redisPrefix, redisUrl } from '../../helpers/services.ts';

function store() {
  const redis = createRedis({ url: redisUrl(), keyPrefix: redisPrefix() });
  return { redis, state: new RedisStateStore(redis) };
}

test('held puts are written only when sent, and once', async (t) => {
  const { redis, state } = store();
  t.teardown(() => redis.quit());
  const { value, send } = await holdStatePuts(async () => {
    await state.put('saml:pending:_held', 'v1', 60);
    return 'started';
  });
  t.is(value, 'started');
  t.is(await state.get('saml:pending:_held'), null, 'nothing written before send');
  await Promise.all([send(), send()]);
  t.is(await state.get('saml:pending:_held'), 'v1');
  t.true((await redis.ttl('adapter:saml:pending:_held')) > 0, 'with its expiry');
});

test('a scope never sent writes nothing', async (t) => {
  const { redis, state } = store();
  t.teardown(() => redis.quit());
  await t.throwsAsync(
    holdStatePuts(async () => {
      await state.put('saml:pending:_dropped', 'v', 60);
      throw new Error('the request ended before its commit');
    }),
  );
  await holdStatePuts(async () => state.put('saml:pending:_unsent', 'v', 60));
  t.is(await state.get('saml:pending:_dropped'), null);
  t.is(await state.get('saml:pending:_unsent'), null);
});

test('a read inside the scope writes what is held first: the adapter reads what it wrote', async (t) => {
  const { redis, state } = store();
  t.teardown(() => redis.quit());
  const { value } = await holdStatePuts(async () => {
    await state.put('saml:pending:_read', 'mine', 60);
    return state.take('saml:pending:_read');
  });
  t.is(value, 'mine');
});
