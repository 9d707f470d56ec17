/**
 * A revocation is final: an end of a session that was revoked after the ending request read it (a logout, a login
 * replacing its cookie id) leaves the revoked row current (migration 0790). Before, the end closed it with no
 * successor, and a reader of PostgreSQL (an instance that missed the revocation's message, or restarted since)
 * found no session, so the token guard had nothing to refuse a token of the revoked session by.
 *
 * Nor does a second end leave a session without a current row (migration 0800): two logouts of one session at once
 * closed the first one's `ended` row with no successor, and a later revocation by person or IdP then matched nothing.
 * The second end's row opens nothing: a login replacing its cookie id (an end, then a write) over a session another
 * request ended is still refused. The sessions already left with no current row get their latest row back when the
 * migration runs.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { aSession, session } from './session-saves.ts';

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

test('two ends of one session leave it ended, and a revocation of the person then finds it', async (t) => {
  const { fx, store, key } = await aSession(t);
  await runWithRequestMemo(() => store.end([key])); // one tab's logout
  await runWithRequestMemo(() => store.end([key])); // the other's, at the same time
  t.is((await store.durable.get(key))?.state, 'ended', 'an ended row is still current');
  const revoked = await fx.gateway.services.sessions.revoker.revokeAllOfAccount('acct-1', {
    actor: 'test',
    reason: 'revoked after two logouts',
  });
  t.is(revoked.sessions, 1, JSON.stringify(revoked));
  t.is((await store.durable.get(key))?.state, 'revoked');
});

test("an end of a session another request ended opens nothing: that request's write is refused", async (t) => {
  const { store, uid, key } = await aSession(t);
  const stored = await runWithRequestMemo(async () => {
    t.is((await store.get('Session', uid))?.record.state, 'active'); // a login reads the session
    await runWithRequestMemo(() => store.end([key])); // a logout in another tab ends it
    await store.end([key]); // the login replaces its cookie id: its end, then its write
    return store.put(session(uid, 'cookie-2', ['rp-a', 'rp-b']));
  });
  t.is(stored.state, 'ended', 'the write answers the ended row');
  t.is((await store.durable.get(key))?.state, 'ended', 'the session stays ended');
});

test('the migration gives a session left with no current row its latest row back', async (t) => {
  const { fx, store, key } = await aSession(t);
  const { pool } = fx.gateway.services;
  await runWithRequestMemo(() => store.end([key]));
  // what two ends did before migration 0800: the ended row closed, no successor
  await pool.query(
    'update session_records set valid_to = clock_timestamp() where record_key = $1 and valid_to is null',
    [key],
  );
  t.is(await store.durable.get(key), null, 'no current row');
  const migration = new URL(
    '../../../gateway/store/migrations/0800_an_end_of_an_ended_session_keeps_a_current_row.sql',
    import.meta.url,
  );
  await pool.query(await readFile(migration, 'utf8'));
  t.is((await store.durable.get(key))?.state, 'ended', 'its ended row is current again');
  await pool.query(await readFile(migration, 'utf8'));
  const { rows } = await pool.query('select 1 from session_records where record_key = $1 and valid_to is null', [key]);
  t.is(rows.length, 1, 'run again, it adds nothing');
});
