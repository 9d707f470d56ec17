/**
 * A session's version moves on when a save names another person than its current row (migration 0830): the tokens
 * issued before are stale, and a Redis copy of a save made before that change is older. Two people's logins on two
 * tabs of one browser at once: their saves meet and are merged, the person who changed the session's person kept
 * (`session-merge.ts`). The replaced person's own write could reach Redis after the merged one, at the same version,
 * and Redis took it: until the merge's eviction (seconds), the session was served as that person's, and their tokens
 * passed the token guard (it reads PostgreSQL only when Redis names another person than the token's). Now Redis
 * keeps the merged copy. A person's own saves, and a first login on a session naming nobody, keep the version.
 * Real Redis and PostgreSQL; one test at a time (each starts a gateway with a SoftHSM2 token of its own).
 */
import test from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import type { StoredRecord } from '../../../gateway/session/stored-record.ts';
import { aSession, oneAfterTheOther, personOf, session, type Store } from './session-saves.ts';

const versionOf = async (store: Store, uid: string) =>
  (await store.durable.get(store.keys.key('Session', uid)))?.version;

test.serial(
  "a save naming another person moves the session's version on; the person's own saves keep it",
  async (t) => {
    const { store, uid } = await aSession(t); // acct-1's session, version 1
    await runWithRequestMemo(() => store.put(session(uid, 'cookie-1', ['rp-a', 'rp-b'])));
    t.is(await versionOf(store, uid), 1, "acct-1's own save");
    await runWithRequestMemo(() => personOf(uid, 'acct-2', ['rp-c']).save(store));
    t.is(await versionOf(store, uid), 2, 'acct-2 logged in on it');
    await runWithRequestMemo(() => personOf(uid, 'acct-2', ['rp-c', 'rp-d']).save(store));
    t.is(await versionOf(store, uid), 2, "acct-2's own save");
  },
);

test.serial('a first login on a session that named nobody keeps its version', async (t) => {
  const { store } = await aSession(t);
  const uid = `nobody-${Date.now()}`;
  await runWithRequestMemo(() =>
    store.put({
      kind: 'Session',
      id: uid,
      payload: { uid, jti: 'c-0', authorizations: {} },
      expiresIn: 3600,
      lookupId: 'c-0',
    }),
  );
  await runWithRequestMemo(() => personOf(uid, 'acct-1', ['rp-a']).save(store));
  t.is(await versionOf(store, uid), 1);
});

test.serial(
  "the replaced person's save reaching Redis after the merged one leaves the merged session in Redis",
  async (t) => {
    const { store, uid, key } = await aSession(t);
    // acct-1 (the session's person) saves in one tab; acct-2's save in the other meets it and is merged: acct-2 kept
    let replacedSave: StoredRecord | undefined;
    await oneAfterTheOther(
      store,
      uid,
      async () => {
        const stored = await personOf(uid, 'acct-1', ['rp-a', 'rp-b']).save(store);
        replacedSave = stored.find((r) => r.kind === 'Session');
      },
      () => personOf(uid, 'acct-2', ['rp-c']).save(store),
    );
    const acct2 = store.keys.key('account', 'acct-2');
    t.deepEqual((await store.durable.get(key))?.accountKey, acct2, 'the merge kept acct-2');
    // acct-1's request's Redis write, late (Redis slow, or retrying), after the merged one
    await store.hot.put(replacedSave!);
    const hot = await store.hot.get(key);
    t.true(
      hot !== null && hot !== 'unavailable' && hot.accountKey?.equals(acct2),
      'Redis still holds the merged session',
    );
  },
);

for (const held of [false, true])
  test.serial(
    `after a merge of two people's saves, the replaced person's token is refused and the kept person's accepted${held ? ' (writes held)' : ''}`,
    async (t) => {
      const { fx, store, uid, key } = await aSession(t);
      const { models } = fx.gateway.services.sessions;
      const token = (id: string, accountId: string) =>
        runWithRequestMemo(() =>
          models.upsert(
            'RefreshToken',
            id,
            { jti: id, kind: 'RefreshToken', sessionUid: uid, accountId, clientId: 'rp-a', grantId: `${id}-grant` },
            60,
          ),
        );
      await token(`${uid}-acct-1-before`, 'acct-1'); // acct-1's, issued on the session before
      await oneAfterTheOther(
        store,
        uid,
        () => personOf(uid, 'acct-1', ['rp-a', 'rp-b']).save(store),
        () => personOf(uid, 'acct-2', ['rp-c']).save(store),
        held,
      );
      t.is(await versionOf(store, uid), 2);
      const found = (id: string) => runWithRequestMemo(() => models.find('RefreshToken', id));
      t.is(await found(`${uid}-acct-1-before`), undefined, "acct-1's token is refused");
      // acct-2's, issued after the merge, while Redis still holds acct-1's copy (the merged write missed Redis)
      const stale = await store.durable.get(key);
      await fx.gateway.services.redis.del(`s2:${key.toString('hex')}`);
      await store.hot.put({ ...stale!, version: 1, accountKey: store.keys.key('account', 'acct-1') });
      t.like(await store.hot.get(key), { version: 1 }, "Redis holds acct-1's copy");
      await token(`${uid}-acct-2-after`, 'acct-2');
      await store.hot.delete([key]); // the copy evicted: PostgreSQL's merged row read from now on
      t.truthy(await found(`${uid}-acct-2-after`), "acct-2's token stands, issued on the merged version");
    },
  );
