/**
 * The session beds of the tests of session saves (`a-session-save-never-undoes-another-request.test.ts`,
 * `two-saves-of-a-session-at-once-are-merged.test.ts`): a gateway in process with real Redis and PostgreSQL, a
 * session saved as oidc-provider saves it, and two requests (two tabs) saving one session at once, each in its own
 * request memo.
 */
import type { ExecutionContext } from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

/** A session of person `acct-1` with cookie id `jti` and one entry (and sid) per RP, as oidc-provider saves it. */
export const session = (uid: string, jti: string, rps: string[]) => ({
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
export async function aSession(t: ExecutionContext, fixture?: Parameters<typeof startGatewayFixture>[0]) {
  const fx = await startGatewayFixture(fixture);
  t.teardown(() => fx.stop());
  const { store } = fx.gateway.services.sessions;
  const uid = `uid-${Date.now()}-${Math.random()}`;
  await store.put(session(uid, 'cookie-1', ['rp-a']));
  return { fx, store, uid, key: store.keys.key('Session', uid) };
}

export type Store = GatewayFixture['gateway']['services']['sessions']['store'];

/** The RPs of the session's current row in PostgreSQL (its sealed payload, opened), and of its Redis copy if any. */
export async function rpsOf(fx: GatewayFixture, uid: string) {
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
export async function twoSavesAtOnce(
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

/**
 * Two requests that each read the session, then save it one after the other: `first` (stored, `held` or not),
 * then `second` (its read made before `first`'s save, its save after it).
 */
export async function oneAfterTheOther(
  store: Store,
  uid: string,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  held: boolean | boolean[] = false,
) {
  let firstSaved!: () => void;
  const saved = new Promise<void>((resolve) => (firstSaved = resolve));
  await twoSavesAtOnce(
    store,
    uid,
    [
      async () => {
        try {
          await first();
        } finally {
          firstSaved(); // also when it failed: the second request must not wait for ever
        }
      },
      async () => {
        await saved;
        await second();
      },
    ],
    held,
  );
}

/** A session of `person` whose RPs each have a grant `<uid>-<person>-<rp>`, saved with those grants. */
export function personOf(uid: string, person: string, rps: string[]) {
  const grantOf = (rp: string) => `${uid}-${person}-${rp}`;
  const grants = rps.map((rp) => ({
    kind: 'Grant' as const,
    id: grantOf(rp),
    payload: { jti: grantOf(rp), accountId: person, clientId: rp },
    expiresIn: 3600,
    grantId: grantOf(rp),
    accountId: person,
  }));
  const session = {
    kind: 'Session' as const,
    id: uid,
    payload: {
      uid,
      jti: 'cookie-1',
      accountId: person,
      authorizations: Object.fromEntries(rps.map((rp) => [rp, { sid: `sid-${rp}`, grantId: grantOf(rp) }])),
    },
    expiresIn: 3600,
    lookupId: 'cookie-1',
    sids: rps.map((rp) => `sid-${rp}`),
    accountId: person,
  };
  return {
    person,
    rps,
    grantOf,
    session: session.payload,
    save: (store: Store) => store.putMany([...grants, session]),
  };
}
