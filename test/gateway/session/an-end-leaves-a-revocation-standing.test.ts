/**
 * A revocation is final: an end of a session that was revoked after the ending request read it (a logout, a login
 * replacing its cookie id) leaves the revoked row current (migration 0790). Before, the end closed it with no
 * successor, and a reader of PostgreSQL (an instance that missed the revocation's message, or restarted since)
 * found no session, so the token guard had nothing to refuse a token of the revoked session by.
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { aSession } from './session-saves.ts';

test('an end of a session revoked since it was read leaves it revoked in PostgreSQL', async (t) => {
  const { fx, store, uid, key } = await aSession(t);
  const { revoker } = fx.gateway.services.sessions;
  await runWithRequestMemo(async () => {
    const read = await store.get('Session', uid); // the logout reads the session
    t.is(read?.record.state, 'active');
    await revoker.revokeSession({ uid }, { actor: 'test', reason: 'revoked while a logout ran' });
    await store.end([key]); // then ends it
  });
  const current = await store.durable.get(key);
  t.is(current?.state, 'revoked', 'the revoked row is still the current one');
  // so is what a reader finds once Redis has no copy (its end mark read as a miss, then PostgreSQL)
  await store.hot.delete([key]);
  t.is((await runWithRequestMemo(() => store.record('Session', key)))?.state, 'revoked');
});

test('an end of an active session still ends it', async (t) => {
  const { store, key } = await aSession(t);
  await runWithRequestMemo(() => store.end([key]));
  t.is((await store.durable.get(key))?.state, 'ended');
});
