/**
 * A grant the gateway ended (`grant-end.ts`: a person replaced on a session, a reused refresh token, a refused risky
 * refresh) stays ended: a request of that person that read it before the end and saves it after (an authorization
 * adding a scope) writes nothing (migration 0830, `session_record_write` answers it `ended`), and neither tier serves
 * it again. So for a token. Before, the write inserted an active row: the grant was back, and a code made on it was
 * exchanged for tokens. A request whose records are written together fails instead of handing out a code made on
 * the ended grant (`SessionClosedMeanwhile`). Nor does a write PostgreSQL took just before the end, reaching Redis
 * just after it, make the grant current in Redis (`HotTier.put` never writes a grant or token over an end mark). A
 * person's `Identity` is written again after an end (their next login), as before. Real Redis and PostgreSQL.
 * One test at a time: each starts a gateway with a SoftHSM2 token of its own, and a token created while another of
 * this process is open is not always seen.
 */
import test, { type ExecutionContext } from 'ava';
import type { RecordKind } from '../../../gateway/session/durable-tier.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { SessionClosedMeanwhile } from '../../../gateway/session/session-closed-meanwhile.ts';
import { aSession, type Store } from './session-saves.ts';

const ENDED_FOR_GOOD = ['Grant', 'AccessToken', 'RefreshToken'] as const;

/** A record of `kind` of grant `grant-<uid>`, as the oidc models write it (`scope`: what this save adds). */
const artefact = (kind: RecordKind, id: string, uid: string, scope: string) => ({
  kind,
  id,
  payload: { jti: id, accountId: 'acct-1', clientId: 'rp-a', grantId: `grant-${uid}`, scope },
  expiresIn: 3600,
  grantId: `grant-${uid}`,
  accountId: 'acct-1',
});

/** Whether PostgreSQL has a current row of the record, Redis a copy, and a new request is served it. */
async function tiers(store: Store, kind: RecordKind, id: string) {
  const key = store.keys.key(kind, id);
  const hot = await store.hot.get(key);
  return {
    durable: (await store.durable.get(key))?.state ?? null,
    hot: hot === null || hot === 'unavailable' ? null : hot.state,
    served: (await runWithRequestMemo(() => store.get(kind, id)))?.record.state ?? null,
  };
}

/** A request reads the record; another ends it (`end`); the first then saves it changed: what it is answered. */
async function savedAfterItsEnd(store: Store, kind: RecordKind, id: string, uid: string, end: () => Promise<void>) {
  await runWithRequestMemo(() => store.put(artefact(kind, id, uid, 'openid')));
  return runWithRequestMemo(async () => {
    const read = await store.get(kind, id);
    if (read?.record.state !== 'active') throw new Error(`${kind} not read active before its end`);
    await runWithRequestMemo(end);
    return store.put(artefact(kind, id, uid, 'openid profile'));
  });
}

for (const kind of ENDED_FOR_GOOD)
  test.serial(`an ended ${kind} saved again by a request that read it before the end is not written`, async (t) => {
    const { store, uid } = await aSession(t);
    const id = `${kind}-${uid}`;
    const stored = await savedAfterItsEnd(store, kind, id, uid, () => store.end([store.keys.key(kind, id)]));
    t.is(stored.state, 'ended', 'the write is answered with the ended record');
    t.deepEqual(await tiers(store, kind, id), { durable: null, hot: null, served: null });
  });

test.serial("a grant ended by the gateway's grant end stays ended when saved again", async (t) => {
  const { fx, store, uid } = await aSession(t);
  const grantId = `grant-${uid}`;
  const { grants } = fx.gateway.services.sessions;
  const stored = await savedAfterItsEnd(store, 'Grant', grantId, uid, () =>
    grants.end(grantId, 'REFRESH_TOKEN_REUSED', { model: 'RefreshToken', clientId: 'rp-a' }),
  );
  t.is(stored.state, 'ended');
  t.deepEqual(await tiers(store, 'Grant', grantId), { durable: null, hot: null, served: null });
});

test.serial(
  'a request writing its records together fails rather than hand out a code on a grant ended meanwhile',
  async (t) => {
    const { store, uid } = await aSession(t);
    const grantId = `grant-${uid}`;
    await runWithRequestMemo(() => store.put(artefact('Grant', grantId, uid, 'openid')));
    let read!: () => void;
    const grantRead = new Promise<void>((resolve) => (read = resolve));
    let ended!: () => void;
    const grantEnded = new Promise<void>((resolve) => (ended = resolve));
    // the authorization loads the person's grant, and saves it with the new scope once another request ended it
    const authorization = runWithRequestMemo(() =>
      store.holdWrites(async () => {
        await store.get('Grant', grantId);
        read();
        await grantEnded;
        await store.put(artefact('Grant', grantId, uid, 'openid profile'));
      }),
    );
    await grantRead;
    await runWithRequestMemo(() => store.end([store.keys.key('Grant', grantId)]));
    ended();
    const error = await t.throwsAsync(authorization);
    t.true(error instanceof SessionClosedMeanwhile, String(error));
    t.regex(error!.message, /the grant was ended/);
    t.deepEqual(await tiers(store, 'Grant', grantId), { durable: null, hot: null, served: null });
  },
);

async function lateRedisWrite(t: ExecutionContext, kind: RecordKind) {
  const { store, uid } = await aSession(t);
  const id = `${kind}-${uid}`;
  const key = store.keys.key(kind, id);
  // PostgreSQL takes the write; the end lands (PostgreSQL, then its end mark in Redis); the write reaches Redis last
  const written = await runWithRequestMemo(() => store.durable.put(storedOf(store, kind, id, key)));
  await runWithRequestMemo(() => store.end([key]));
  await store.hot.put(written);
  return { store, id };
}

const storedOf = (store: Store, kind: RecordKind, id: string, key: Buffer) => ({
  recordKey: key,
  kind,
  lookupKey: null,
  sidKeys: [],
  grantKey: kind === 'Identity' ? null : store.keys.key('Grant', `grant-${id}`),
  accountKey: store.keys.key('account', 'acct-1'),
  idp: null,
  version: 1,
  state: 'active' as const,
  dekVersion: 1,
  sealed: 'sealed-before-the-end',
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 3_600_000),
});

for (const kind of ENDED_FOR_GOOD)
  test.serial(`a ${kind} write reaching Redis after its end leaves it ended in Redis`, async (t) => {
    const { store, id } = await lateRedisWrite(t, kind);
    t.deepEqual(await tiers(store, kind, id), { durable: null, hot: null, served: null });
  });

test.serial("a person's identity is written again after an end (their next login)", async (t) => {
  const { store, uid } = await aSession(t);
  const id = `acct-${uid}`;
  const key = store.keys.key('Identity', id);
  const identity = (idp: string) => ({ kind: 'Identity' as const, id, payload: { idp }, expiresIn: 3600, idp });
  await runWithRequestMemo(() => store.put(identity('demo-idp')));
  await runWithRequestMemo(() => store.end([key]));
  t.is((await runWithRequestMemo(() => store.put(identity('demo-idp')))).state, 'active');
  t.deepEqual(await tiers(store, 'Identity', id), { durable: 'active', hot: 'active', served: 'active' });
});

test.serial(
  'a consumed refresh token is not written again: it stays consumed (a later presentation is a reuse)',
  async (t) => {
    const { store, uid } = await aSession(t);
    const id = `RefreshToken-${uid}`;
    const stored = await savedAfterItsEnd(store, 'RefreshToken', id, uid, async () => {
      t.true(await store.consume('RefreshToken', id));
    });
    t.is(stored.state, 'ended');
    t.deepEqual(await tiers(store, 'RefreshToken', id), { durable: 'ended', hot: 'ended', served: 'ended' });
  },
);

test.serial('an end and a write of a grant in one request: the end stands', async (t) => {
  const { store, uid } = await aSession(t);
  const grantId = `grant-${uid}`;
  await runWithRequestMemo(() => store.put(artefact('Grant', grantId, uid, 'openid')));
  await runWithRequestMemo(() =>
    store.holdWrites(async () => {
      await store.get('Grant', grantId);
      await store.end([store.keys.key('Grant', grantId)]);
      const stored = await store.put(artefact('Grant', grantId, uid, 'openid profile'));
      t.is(stored.state, 'ended', 'the write is answered with the ended record');
    }),
  );
  t.deepEqual(await tiers(store, 'Grant', grantId), { durable: null, hot: null, served: null });
});
