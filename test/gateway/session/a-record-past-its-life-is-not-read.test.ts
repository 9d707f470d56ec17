/**
 * A record's life ends at its `expiresAt`; Redis holds it for whole seconds (its TTL rounded up), so up to a
 * second longer. Read from Redis in that second, it was taken for current: an authorization code or a session a
 * little past its end still worked. The store now answers it as PostgreSQL would: not found. Real PostgreSQL,
 * Redis and HSM.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

test('a record read after its life ended, while Redis still holds it, is not found', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { store } = fx.gateway.services.sessions;
  const id = 'login\0short-lived';
  // 1.2 s of life: Redis keeps it 2 s
  await store.put({ kind: 'UpstreamSession', id, payload: { n: 1 }, expiresIn: 1.2 });
  t.truthy(await runWithRequestMemo(() => store.get('UpstreamSession', id)), 'read while alive');
  await sleep(1_500);
  t.not(await store.hot.get(store.keys.key('UpstreamSession', id)), null, 'Redis still holds it');
  t.is(await runWithRequestMemo(() => store.get('UpstreamSession', id)), null);
});
