/**
 * Two people's logins at once on one browser: two saves of one session, each for another person. The merge keeps
 * one person's session whole (`session-merge.ts`); the other person's grants on it end before the save is written
 * (`session-save-merger.ts` → `grant-end.ts`, audited `GRANT_ENDED` with `SESSION_OF_ANOTHER_PERSON`), so that
 * their tokens are refused for good, not only while the session names the winner. The winner's grants stand. In
 * both orders, with the writes held or not. Real Redis and PostgreSQL, each request in its own request memo.
 */
import test, { type ExecutionContext } from 'ava';
import { aSession, oneAfterTheOther, type Store } from './session-saves.ts';

/** A session of `person` whose RPs each have a grant `<uid>-<person>-<rp>`, stored with one token per grant. */
function sessionOf(uid: string, person: string, rps: string[]) {
  const grantOf = (rp: string) => `${uid}-${person}-${rp}`;
  return {
    grantOf,
    save: {
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
    },
    async tokens(store: Store) {
      for (const rp of rps) {
        const grantId = grantOf(rp);
        await store.put({
          kind: 'Grant',
          id: grantId,
          payload: { jti: grantId, accountId: person, clientId: rp },
          expiresIn: 3600,
          grantId,
          accountId: person,
        });
        await store.put({
          kind: 'RefreshToken',
          id: `${grantId}-rt`,
          payload: { jti: `${grantId}-rt`, sessionUid: uid, accountId: person, clientId: rp, grantId },
          expiresIn: 3600,
          grantId,
          accountId: person,
        });
      }
    },
  };
}

const left = async (store: Store, grantId: string) =>
  (await store.durable.keysOfGrant(store.keys.key('Grant', grantId))).length;

async function race(t: ExecutionContext, order: 'replaced first' | 'replacing first', held: boolean) {
  const { fx, store, uid } = await aSession(t);
  // acct-1 (the bed's person, RP A) logs in to RP B in one tab; acct-2 logs in to RP C in the other
  const first = sessionOf(uid, 'acct-1', ['rp-a', 'rp-b']);
  const second = sessionOf(uid, 'acct-2', ['rp-c']);
  await first.tokens(store);
  await second.tokens(store);
  const saves = [() => store.put(first.save), () => store.put(second.save)];
  if (order === 'replacing first') saves.reverse();
  await oneAfterTheOther(store, uid, saves[0]!, saves[1]!, held);
  const current = await store.durable.get(store.keys.key('Session', uid));
  const winner = current?.accountKey?.equals(store.keys.key('account', 'acct-2')) ? second : first;
  const loser = winner === first ? second : first;
  const loserRps = loser === first ? ['rp-a', 'rp-b'] : ['rp-c'];
  const winnerRps = winner === first ? ['rp-a', 'rp-b'] : ['rp-c'];
  for (const rp of loserRps)
    t.is(await left(store, loser.grantOf(rp)), 0, `the replaced person's grant at ${rp} ended`);
  for (const rp of winnerRps) t.is(await left(store, winner.grantOf(rp)), 2, `the winner's grant and its token at ${rp} stand`);
  const { rows } = await fx.gateway.services.pool.query<{ client: string }>(
    `select details->>'clientId' as client from audit_log
      where to_state = 'GRANT_ENDED' and error_code = 'SESSION_OF_ANOTHER_PERSON' and details->>'model' = 'Session'`,
  );
  t.deepEqual(rows.map((r) => r.client).sort(), loserRps);
}

for (const order of ['replaced first', 'replacing first'] as const)
  for (const held of [false, true])
    test(`a merge across persons ends the replaced person's grants (${order}${held ? ', writes held' : ''})`, (t) =>
      race(t, order, held));
