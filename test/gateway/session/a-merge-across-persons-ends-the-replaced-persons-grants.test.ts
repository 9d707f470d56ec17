/**
 * Two people's logins at once on one browser: two saves of one session, each for another person. The merge keeps
 * one person's session whole (`session-merge.ts`); the other person's grants on it end once the merged save has
 * surely landed, with both requests' Redis writes (`session-save-merger.ts` → `replaced-persons.ts`, written down
 * in PostgreSQL at the merge and swept → `grant-end.ts`,
 * audited `GRANT_ENDED` with `SESSION_OF_ANOTHER_PERSON`), so that their tokens are refused for good, not only while
 * the session names the winner; in both tiers (a Redis copy written back after the end would bring a grant back).
 * The winner's grants stand. In both orders, with the writes held or not; each person's grant is written with their
 * session save, in the same request. Real Redis and PostgreSQL, each request in its own request memo.
 * One test at a time: each starts a gateway with a SoftHSM2 token of its own, and a token created while another of
 * this process is open is not always seen.
 */
import test, { type ExecutionContext } from 'ava';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { eventually } from '../../helpers/eventually.ts';
import { aSession, oneAfterTheOther, personOf, type Store } from './session-saves.ts';

/** The grant's current records in PostgreSQL (the grant and its artefacts), and whether Redis or PostgreSQL serve it. */
async function grantState(store: Store, grantId: string) {
  const durable = (await store.durable.keysOfGrant(store.keys.key('Grant', grantId))).length;
  const served = (await runWithRequestMemo(() => store.get('Grant', grantId)))?.record.state === 'active';
  return { durable, served };
}

/** acct-1 replaced on the session `uid`, their save naming grant `grantId` at `rp` (as the merge writes it down). */
const acct1Replaced = (store: Store, uid: string, grantId: string, rp: string) => ({
  recordKey: store.keys.key('Session', uid),
  accountKey: store.keys.key('account', 'acct-1'),
  grants: new Map([[store.keys.key('Grant', grantId).toString('hex'), rp]]),
});

async function race(t: ExecutionContext, order: 'replaced first' | 'replacing first', held: boolean) {
  // a Redis command timeout of 1 s: the grants end 4 s after the merge (3 tries of a command, and a second)
  const { fx, store, uid } = await aSession(t, {
    rawConfig: (raw) => Object.assign(raw.redis as object, { commandTimeoutMs: 1_000 }),
  });
  // acct-1 (the bed's person, RP A) logs in to RP B in one tab; acct-2 logs in to RP C in the other
  const first = personOf(uid, 'acct-1', ['rp-a', 'rp-b']);
  const second = personOf(uid, 'acct-2', ['rp-c']);
  const saves = [() => first.save(store), () => second.save(store)];
  if (order === 'replacing first') saves.reverse();
  await oneAfterTheOther(store, uid, saves[0]!, saves[1]!, held);
  // the person who changed the session's person wins (session-merge.ts): acct-2 in either order
  const current = await store.durable.get(store.keys.key('Session', uid));
  t.deepEqual(current?.accountKey, store.keys.key('account', 'acct-2'));
  const [winner, loser] = [second, first];
  const ended = async () => {
    for (const rp of loser.rps) if ((await grantState(store, loser.grantOf(rp))).durable > 0) return false;
    return true;
  };
  t.true(await eventually(ended, 60_000), `the replaced person's (${loser.person}) grants ended`);
  for (const rp of loser.rps)
    t.false((await grantState(store, loser.grantOf(rp))).served, `the replaced person's grant at ${rp}: not served`);
  for (const rp of winner.rps)
    t.deepEqual(await grantState(store, winner.grantOf(rp)), { durable: 1, served: true }, `the winner's at ${rp}`);
  const { rows } = await fx.gateway.services.pool.query<{ client: string }>(
    `select details->>'clientId' as client from audit_log
      where to_state = 'GRANT_ENDED' and error_code = 'SESSION_OF_ANOTHER_PERSON' and details->>'model' = 'Session'`,
  );
  t.deepEqual(rows.map((r) => r.client).sort(), loser.rps, 'each ended once, audited');
}

for (const order of ['replaced first', 'replacing first'] as const)
  for (const held of [false, true])
    test.serial(
      `a merge across persons ends the replaced person's grants (${order}${held ? ', writes held' : ''})`,
      (t) => race(t, order, held),
    );

test.serial(
  "a replaced person's grants are left while the session names them (the merged save not landed, or it failed)",
  async (t) => {
    const { fx, store, uid } = await aSession(t);
    const person = personOf(uid, 'acct-1', ['rp-a']);
    await person.save(store);
    const replaced = acct1Replaced(store, uid, person.grantOf('rp-a'), 'rp-a');
    t.is(await fx.gateway.services.sessions.grants.endReplaced(replaced), 'stood');
    t.deepEqual(await grantState(store, person.grantOf('rp-a')), { durable: 1, served: true });
  },
);

test.serial("only the replaced person's own grants are ended, whatever grant ids their saves named", async (t) => {
  const { fx, store, uid } = await aSession(t);
  await personOf(uid, 'acct-2', ['rp-c']).save(store); // the session is acct-2's
  const others = personOf(`${uid}-x`, 'acct-3', ['rp-d']);
  await others.save(store);
  const replaced = acct1Replaced(store, uid, others.grantOf('rp-d'), 'rp-d');
  t.is(await fx.gateway.services.sessions.grants.endReplaced(replaced), 'ended');
  t.deepEqual(await grantState(store, others.grantOf('rp-d')), { durable: 1, served: true }, "acct-3's grant stands");
});
