/**
 * A logout ends the session (its row `ended`, its Redis copy deleted). A request that read the session before the
 * logout and saves it afterwards (an SSO from another tab adding an RP, a sliding expiry) must not write it back
 * `active`: PostgreSQL (`session_record_write`, migration 0760) answers the ended row and writes nothing, and the
 * session stays ended in both tiers (reviewer finding, high, fifteenth round). Only the request that ended the
 * session itself opens it again: a login replacing the session's cookie id ends it and saves it in one request.
 * An end Redis did not take is tried again until it does. Two saves at once: `two-saves-of-a-session-at-once-are-
 * merged.test.ts`. Real Redis and PostgreSQL, each request in its own request memo.
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { SessionClosedMeanwhile } from '../../../gateway/session/session-closed-meanwhile.ts';
import { eventually } from '../../helpers/eventually.ts';
import { aSession, session, type Store } from './session-saves.ts';

/**
 * Request A reads the session `uid`; request B, a logout, then ends it (cookie `cookie-1`); then A does `rest`,
 * in its own request memo (`held`: within a held-writes scope, as the token and resumption requests).
 */
async function readBeforeALogout<T>(store: Store, uid: string, rest: () => Promise<T>, held = false): Promise<T> {
  let readDone!: () => void;
  const read = new Promise<void>((resolve) => (readDone = resolve));
  let logoutDone!: () => void;
  const loggedOut = new Promise<void>((resolve) => (logoutDone = resolve));
  const a = runWithRequestMemo(() => {
    const work = async () => {
      await store.get('Session', uid);
      readDone();
      await loggedOut;
      return rest();
    };
    return held ? store.holdWrites(work) : work();
  });
  await read;
  const key = store.keys.key('Session', uid);
  await runWithRequestMemo(() => store.end([key], [store.keys.key('jti', 'cookie-1')]));
  logoutDone();
  return a;
}

test('a save by a request that read the session before another request ended it leaves it ended', async (t) => {
  const { fx, store, uid, key } = await aSession(t);
  // an SSO in another tab read the session before the logout, and saves it with one more RP after it
  const saved = await readBeforeALogout(store, uid, () => store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])));
  t.is(saved.state, 'ended', 'the save is answered with the ended row');

  const after = await runWithRequestMemo(async () => ({
    byUid: await store.get('Session', uid),
    byCookie: await store.findSession('lookup', 'cookie-1'),
    bySid: await store.findSession('sid', 'sid-rp-b'),
  }));
  t.not(after.byUid?.record.state, 'active', 'not active by its uid');
  t.not(after.byCookie?.record.state, 'active', 'not found active by its cookie');
  t.not(after.bySid?.record.state, 'active', 'not found active by the new sid');
  const { rows } = await fx.gateway.services.pool.query<{ state: string }>(
    'select state from session_records where record_key = $1 and valid_to is null',
    [key],
  );
  t.deepEqual(
    rows.map((r) => r.state),
    ['ended'],
  );
});

test('the request that ended a session saves it again under a new cookie id: it is active', async (t) => {
  const { store, uid, key } = await aSession(t);
  // a login replacing the session's cookie id: the old one ended, the session saved again, in one request
  const saved = await runWithRequestMemo(async () => {
    await store.get('Session', uid);
    await store.end([key], [store.keys.key('jti', 'cookie-1')]);
    return store.put(session(uid, 'cookie-2', ['rp-a']));
  });
  t.is(saved.state, 'active');
  const found = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-2'));
  t.is(found?.record.state, 'active');
});

test('an end Redis did not take is tried again until it does: the record is not left there active', async (t) => {
  const { store, key } = await aSession(t);
  t.like(await store.hot.get(key), { state: 'active' }, 'in Redis');
  const hotDelete = store.hot.delete.bind(store.hot);
  store.hot.delete = () => Promise.resolve('unavailable' as const); // Redis does not answer the logout's delete
  try {
    await runWithRequestMemo(() => store.end([key], [store.keys.key('jti', 'cookie-1')]));
  } finally {
    store.hot.delete = hotDelete;
  }
  t.true(await eventually(async () => (await store.hot.get(key)) === null, 10_000), 'removed from Redis by the retry');
  const found = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-1'));
  t.not(found?.record.state, 'active');
});

for (const held of [false, true]) {
  test(`a request that ends a session another request ended already does not open it again${held ? ' (writes held)' : ''}`, async (t) => {
    const { store, uid, key } = await aSession(t);
    // a login on the session (oidc-provider replaces its cookie id: the old one ended, the session saved again),
    // whose read came before another request's logout
    const login = readBeforeALogout(
      store,
      uid,
      async () => {
        await store.end([key], [store.keys.key('jti', 'cookie-1')]);
        return store.put(session(uid, 'cookie-2', ['rp-a']));
      },
      held,
    );
    // a request whose writes are held (the resumption) fails rather than hand out a code on the ended session
    if (held) await t.throwsAsync(login, { instanceOf: SessionClosedMeanwhile });
    else t.not((await login).state, 'active');
    const after = await runWithRequestMemo(async () => ({
      byUid: await store.get('Session', uid),
      byCookie: await store.findSession('lookup', 'cookie-2'),
    }));
    t.not(after.byUid?.record.state, 'active', 'not active by its uid');
    t.not(after.byCookie?.record.state, 'active', 'not found active by the new cookie');
  });
}

test("a logout landing between a login's own end and its save is not undone by that save", async (t) => {
  const { store, uid, key } = await aSession(t);
  const logout = () => runWithRequestMemo(() => store.end([key], [store.keys.key('jti', 'cookie-2')]));
  const saved = await runWithRequestMemo(async () => {
    await store.get('Session', uid);
    await store.end([key], [store.keys.key('jti', 'cookie-1')]); // the login's own end (its cookie id replaced)
    await logout(); // another request's logout: it closes the login's ended row
    return store.put(session(uid, 'cookie-2', ['rp-a']));
  });
  t.is(saved.state, 'ended');
  const found = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-2'));
  t.not(found?.record.state, 'active');
});

test('a session a request opened again and another request then logged out is not opened again by it', async (t) => {
  const { store, uid, key } = await aSession(t);
  const saved = await runWithRequestMemo(async () => {
    await store.end([key], [store.keys.key('jti', 'cookie-1')]);
    t.is((await store.put(session(uid, 'cookie-2', ['rp-a']))).state, 'active', 'the login opened it again');
    // another request's logout ends it (its own end)
    await runWithRequestMemo(() => store.end([key], [store.keys.key('jti', 'cookie-2')]));
    return store.put(session(uid, 'cookie-2', ['rp-a', 'rp-b'])); // this request saves it once more
  });
  t.is(saved.state, 'ended');
});
