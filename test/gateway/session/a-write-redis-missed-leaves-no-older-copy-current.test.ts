/**
 * The session store writes PostgreSQL, then Redis. When the Redis write fails (a timeout: Redis slow, not gone),
 * Redis may still hold the record as it was before, and every reader (Redis first) would take that older copy for
 * current until it expired: a login's new cookie id unknown, its old one accepted; an upstream session's link to
 * its gateway session missing, so the IdP's logout ended nothing (fifteenth-round review). That copy is now
 * deleted from Redis as soon as Redis answers (the session tier's one-second retry): the next reader reads
 * PostgreSQL and writes the current row back. Real PostgreSQL, Redis and HSM.
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

test('a record whose Redis write failed is read from PostgreSQL once Redis answers, never as its older copy', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { store } = fx.gateway.services.sessions;
  const id = 'login\0written-twice';
  await store.put({ kind: 'UpstreamSession', id, payload: { step: 'first' }, expiresIn: 600 });

  const put = store.hot.put.bind(store.hot);
  store.hot.put = () => Promise.resolve('unavailable' as const); // this write times out
  try {
    await store.put({ kind: 'UpstreamSession', id, payload: { step: 'second' }, expiresIn: 600 });
  } finally {
    store.hot.put = put;
  }
  await store.retryEnds(); // the session tier's timer, once Redis answers
  const read = await runWithRequestMemo(() => store.get<{ step: string }>('UpstreamSession', id));
  t.is(read?.payload.step, 'second');
  // and Redis holds the current row again (the reader wrote it back), not an end mark that keeps readers away
  const key = store.keys.key('UpstreamSession', id);
  for (let i = 0; i < 50 && (await store.hot.get(key)) === null; i++) await new Promise((r) => setTimeout(r, 20));
  const hot = await store.hot.get(key);
  t.not(hot, null, 'cached again');
  t.not(hot, 'unavailable');
});
