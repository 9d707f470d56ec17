/**
 * Two requests saving one session at once (two SSOs in two tabs, to two RPs; a logout from one RP beside an SSO
 * to another; a login replacing the cookie id) keep both their sids (a revocation by either finds the session) and
 * both their changes to the payload: PostgreSQL writes a save only over the row it expects (migration 0780), and a
 * save that finds another request's write there is merged into it (`session-merge.ts`, `session-save-merger.ts`),
 * so that back-channel logout reaches every RP. Never across a change of person; a cookie id another tab's login
 * replaced is never made current again. Real Redis and PostgreSQL, each request in its own request memo.
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { aSession, oneAfterTheOther, rpsOf, session, twoSavesAtOnce } from './session-saves.ts';

for (const held of [false, true]) {
  test(`two requests saving a session at once keep both their RPs and sids${held ? ' (writes held)' : ''}`, async (t) => {
    const { fx, store, uid } = await aSession(t);
    const merges = () => fx.gateway.services.metrics.registry.getSingleMetricAsString('gateway_session_merges_total');
    // two SSOs in two tabs, to RP B and RP C: each reads the session, then saves it with its own RP added
    await twoSavesAtOnce(
      store,
      uid,
      ['rp-b', 'rp-c'].map((rp) => () => store.put(session(uid, 'cookie-1', ['rp-a', rp]))),
      held,
    );
    for (const sid of ['sid-rp-a', 'sid-rp-b', 'sid-rp-c']) {
      const found = await runWithRequestMemo(() => store.findSession('sid', sid));
      t.is(found?.record.state, 'active', `found by ${sid}`);
    }
    const { rows } = await fx.gateway.services.pool.query<{ n: number }>(
      'select cardinality(sid_keys) as n from session_records where record_key = $1 and valid_to is null',
      [store.keys.key('Session', uid)],
    );
    t.is(rows[0]?.n, 3);
    // the RPs back-channel logout reads: none dropped by the later write (it was merged into the earlier one)
    t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-b', 'rp-c']);
    // found by its cookie from PostgreSQL (the Redis copy may be either request's until its eviction: not read here)
    const found = await store.durable.findSession('lookup', store.keys.key('jti', 'cookie-1'));
    t.is(found?.recordKey.toString('hex'), store.keys.key('Session', uid).toString('hex'), 'found by its cookie');
    t.regex(await merges(), /gateway_session_merges_total [1-9]/);
  });
}

test('a request saving a session twice in one held scope, another save between: every RP kept', async (t) => {
  const { fx, store, uid } = await aSession(t);
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // an SSO to RP B in the other tab
        resolveFirst();
      },
      async () => {
        // within one held scope (a login's resumption): saved once, then again, before the scope writes them
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x']));
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x', 'rp-y']));
      },
    ],
    [false, true], // the other tab's save is stored before the second save of the held one
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-b', 'rp-x', 'rp-y']);
});

test('a request saving again after its save was merged keeps what the other request added', async (t) => {
  const { fx, store, uid } = await aSession(t);
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-y']));
    },
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x'])); // merged: rp-y is the other request's
      // oidc-provider saves its session again (it never had rp-y): rp-y is not taken for removed by this request
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x', 'rp-z']));
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-x', 'rp-y', 'rp-z']);
});

test('a save made over a session read from PostgreSQL (Redis missed it) is checked and merged too', async (t) => {
  const { fx, store, uid, key } = await aSession(t);
  await store.hot.delete([key], [store.keys.key('jti', 'cookie-1')]); // Redis lost its copy and pointer
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  let reads = 0;
  let bothRead!: () => void;
  const read = new Promise<void>((resolve) => (bothRead = resolve));
  const tab = (rp: string, wait: boolean) =>
    runWithRequestMemo(async () => {
      const found = await store.findSession<{ authorizations: object }>('lookup', 'cookie-1'); // PostgreSQL answers
      t.truthy(found, 'found by its cookie in PostgreSQL');
      if (++reads === 2) bothRead();
      await read;
      if (wait) await firstDone;
      await store.put(session(uid, 'cookie-1', ['rp-a', rp]));
      if (!wait) resolveFirst();
    });
  await Promise.all([tab('rp-b', false), tab('rp-c', true)]);
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-b', 'rp-c']);
});

test("a login replacing the cookie id after another request's save keeps that save's RP", async (t) => {
  const { fx, store, uid, key } = await aSession(t);
  await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x']));
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x', 'rp-y'])); // an SSO to RP Y in the other tab
    },
    async () => {
      // a logout from RP X only: oidc-provider removes its entry and replaces the cookie id (end, then save)
      await store.end([key], [store.keys.key('jti', 'cookie-1')]);
      await store.put(session(uid, 'cookie-2', ['rp-a']));
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-y'], 'RP X logged out of, RP Y kept');
  const byNew = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-2'));
  t.is(byNew?.record.state, 'active', 'found by its new cookie id');
  const byOld = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-1'));
  t.not(byOld?.record.state, 'active', 'not by the old one');
});

test('a save merged twice keeps a removal made in between by the other request', async (t) => {
  const { fx, store, uid } = await aSession(t);
  let step1!: () => void;
  const firstSaved = new Promise<void>((resolve) => (step1 = resolve));
  let step2!: () => void;
  const merged = new Promise<void>((resolve) => (step2 = resolve));
  let step3!: () => void;
  const removed = new Promise<void>((resolve) => (step3 = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // adds RP B
        step1();
        await merged;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-c'])); // logs out of RP B (its C from the merge)
        step3();
      },
      async () => {
        await firstSaved;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-c'])); // adds RP C: merged with B
        step2();
        await removed;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-c', 'rp-d'])); // adds RP D: merged again
      },
    ],
    false,
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-c', 'rp-d'], 'RP B stays logged out of');
});

test('two first logins of one person in two tabs keep both RPs', async (t) => {
  const { fx, store, uid } = await aSession(t);
  // a session before any login (oidc-provider keeps one for the interaction): no person yet
  await store.put({
    kind: 'Session',
    id: uid,
    payload: { uid, jti: 'cookie-1', authorizations: {} },
    expiresIn: 3600,
    lookupId: 'cookie-1',
  });
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a']));
    },
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-b']));
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-b']);
});

test("a cookie id another tab's login replaced is not made current again by a merged save", async (t) => {
  const { store, uid, key } = await aSession(t);
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      // a step-up login in one tab: the cookie id replaced (the old one ended, the session saved again)
      await store.end([key], [store.keys.key('jti', 'cookie-1')]);
      await store.put(session(uid, 'cookie-2', ['rp-a']));
    },
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // an SSO in the other tab, read before
    },
  );
  const byNew = await runWithRequestMemo(() =>
    store.findSession<{ authorizations: Record<string, unknown> }>('lookup', 'cookie-2'),
  );
  t.is(byNew?.record.state, 'active', 'found by the new cookie id');
  t.deepEqual(Object.keys(byNew?.payload.authorizations ?? {}).sort(), ['rp-a', 'rp-b']);
  const byOld = await runWithRequestMemo(() => store.findSession('lookup', 'cookie-1'));
  t.not(byOld?.record.state, 'active', 'the replaced cookie id stays dead (session fixation)');
});

test("an RP one request logged out of stays out when another request's save lands after it", async (t) => {
  const { fx, store, uid } = await aSession(t);
  await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b']));
  // one tab logs out of RP A only (its entry removed); the other, an SSO to RP C, read the session before that
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-b']));
    },
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b', 'rp-c']));
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-b', 'rp-c'], 'RP A stays logged out, RP C is added');
});

test("a save made for the person another request's login replaced gives way to that login", async (t) => {
  const { fx, store, uid } = await aSession(t);
  const other = { ...session(uid, 'cookie-1', ['rp-c']), accountId: 'acct-2' };
  other.payload = { ...other.payload, accountId: 'acct-2' };
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(other); // a new login of another person in the same browser
    },
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // an SSO of the first person, read before
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-c'], "the first person's RP is not added to the second's");
  const { rows } = await fx.gateway.services.pool.query<{ account_key: Buffer }>(
    'select account_key from session_records where record_key = $1 and valid_to is null',
    [store.keys.key('Session', uid)],
  );
  t.deepEqual(rows[0]?.account_key, store.keys.key('account', 'acct-2'));
});

test('a save of another person over the session is not merged: it stands as written', async (t) => {
  const { fx, store, uid } = await aSession(t);
  const other = { ...session(uid, 'cookie-1', ['rp-c']), accountId: 'acct-2' };
  other.payload = { ...other.payload, accountId: 'acct-2' };
  await oneAfterTheOther(
    store,
    uid,
    async () => {
      await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b']));
    },
    async () => {
      await store.put(other); // a new login of another person in the same browser
    },
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-c'], "the first person's RPs are not carried over");
});
