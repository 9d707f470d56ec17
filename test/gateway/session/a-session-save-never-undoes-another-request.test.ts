/**
 * A logout ends the session (its row `ended`, its Redis copy deleted). A request that read the session before the
 * logout and saves it afterwards (an SSO from another tab adding an RP, a sliding expiry) must not write it back
 * `active`: PostgreSQL (`session_record_write`, migration 0760) answers the ended row and writes nothing, and the
 * session stays ended in both tiers (reviewer finding, high, fifteenth round). Only the request that ended the
 * session itself opens it again: a login replacing the session's cookie id ends it and saves it in one request.
 * Two requests saving one session at once (two SSOs to two RPs) keep both their sids (a revocation by either
 * finds the session) and both their RPs in the payload (the later write is merged into the earlier one,
 * migration 0780: back-channel logout reaches both); an end Redis did not take is tried again until it does. Real Redis and PostgreSQL, each request in its own request memo.
 */
import test, { type ExecutionContext } from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { eventually } from '../../helpers/eventually.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

const session = (uid: string, jti: string, rps: string[]) => ({
  kind: 'Session' as const,
  id: uid,
  payload: {
    uid,
    jti,
    accountId: 'acct-1',
    authorizations: Object.fromEntries(rps.map((rp) => [rp, { sid: `sid-${rp}` }])),
  },
  expiresIn: 3600,
  lookupId: jti,
  sids: rps.map((rp) => `sid-${rp}`),
  accountId: 'acct-1',
});

/** A gateway and a session of RP A (cookie `cookie-1`) stored in both tiers. */
async function aSession(t: ExecutionContext) {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const { store } = fx.gateway.services.sessions;
  const uid = `uid-${Date.now()}-${Math.random()}`;
  await store.put(session(uid, 'cookie-1', ['rp-a']));
  return { fx, store, uid, key: store.keys.key('Session', uid) };
}

type Store = GatewayFixture['gateway']['services']['sessions']['store'];

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

/** The RPs of the session's current row in PostgreSQL (its sealed payload, opened), and of its Redis copy if any. */
async function rpsOf(fx: GatewayFixture, uid: string) {
  const { store, cipher } = fx.gateway.services.sessions;
  const key = store.keys.key('Session', uid);
  const rps = async (sealed: string | undefined) =>
    sealed === undefined
      ? undefined
      : Object.keys(
          (JSON.parse((await cipher.open(key, sealed)).toString('utf8')) as { authorizations: object }).authorizations,
        ).sort();
  const hot = await store.hot.get(key);
  return {
    durable: await rps((await store.durable.get(key))?.sealed),
    hot: await rps(hot === 'unavailable' || hot === null ? undefined : hot.sealed),
  };
}

/**
 * Two requests (two tabs' SSOs) each read the session, then each saves what `save` makes of it, at once (`held`:
 * within a held-writes scope, all of them or each as given).
 */
async function twoSavesAtOnce(
  store: Store,
  uid: string,
  saves: Array<() => Promise<unknown>>,
  held: boolean | boolean[],
) {
  let bothRead!: () => void;
  const read = new Promise<void>((resolve) => (bothRead = resolve));
  let reads = 0;
  await Promise.all(
    saves.map((save, i) =>
      runWithRequestMemo(() => {
        const work = async () => {
          await store.get('Session', uid);
          if (++reads === saves.length) bothRead();
          await read;
          return save();
        };
        return (Array.isArray(held) ? held[i] : held) ? store.holdWrites(work) : work();
      }),
    ),
  );
}

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
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-y']));
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x'])); // merged: rp-y is the other request's
        // oidc-provider saves its session again (it never had rp-y): rp-y is not taken for removed by this request
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x', 'rp-z']));
      },
    ],
    false,
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
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-x', 'rp-y'])); // an SSO to RP Y in the other tab
        resolveFirst();
      },
      async () => {
        await firstDone;
        // a logout from RP X only: oidc-provider removes its entry and replaces the cookie id (end, then save)
        await store.end([key], [store.keys.key('jti', 'cookie-1')]);
        await store.put(session(uid, 'cookie-2', ['rp-a']));
      },
    ],
    false,
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
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a']));
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-b']));
      },
    ],
    false,
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-a', 'rp-b']);
});

test("a cookie id another tab's login replaced is not made current again by a merged save", async (t) => {
  const { store, uid, key } = await aSession(t);
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        // a step-up login in one tab: the cookie id replaced (the old one ended, the session saved again)
        await store.end([key], [store.keys.key('jti', 'cookie-1')]);
        await store.put(session(uid, 'cookie-2', ['rp-a']));
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // an SSO in the other tab, read before
      },
    ],
    false,
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
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-b']));
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b', 'rp-c']));
      },
    ],
    false,
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-b', 'rp-c'], 'RP A stays logged out, RP C is added');
});

test("a save made for the person another request's login replaced gives way to that login", async (t) => {
  const { fx, store, uid } = await aSession(t);
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  const other = { ...session(uid, 'cookie-1', ['rp-c']), accountId: 'acct-2' };
  other.payload = { ...other.payload, accountId: 'acct-2' };
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(other); // a new login of another person in the same browser
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])); // an SSO of the first person, read before
      },
    ],
    false,
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
  let resolveFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (resolveFirst = resolve));
  const other = { ...session(uid, 'cookie-1', ['rp-c']), accountId: 'acct-2' };
  other.payload = { ...other.payload, accountId: 'acct-2' };
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        await store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b']));
        resolveFirst();
      },
      async () => {
        await firstDone;
        await store.put(other); // a new login of another person in the same browser
      },
    ],
    false,
  );
  t.deepEqual((await rpsOf(fx, uid)).durable, ['rp-c'], "the first person's RPs are not carried over");
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
    await readBeforeALogout(
      store,
      uid,
      async () => {
        await store.end([key], [store.keys.key('jti', 'cookie-1')]);
        return store.put(session(uid, 'cookie-2', ['rp-a']));
      },
      held,
    );
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
