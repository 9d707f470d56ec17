/**
 * A revocation whose scope matches more sessions than one transaction ends (`REVOKE_BATCH`, 1,000; here 2) ends them
 * batch after batch: each batch durable with its own outbox row, propagated and refused everywhere, and one audit
 * record names them all (`batches`, `complete`). In one transaction a national IdP's every session was held in memory,
 * sent as one message, and past about 125,000 sessions nothing was revoked at all (an array spread threw).
 */
import test from 'ava';
import { newRegistry } from '../../../gateway/observability/metrics.ts';
import { SessionRevoker } from '../../../gateway/session/revocation.ts';
import { sessionMetrics } from '../../../gateway/session/session-metrics.ts';
import { logIn, startSessionBed, userinfo, type LoggedIn, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
test.before(async () => {
  bed = await startSessionBed();
});
test.after.always(async () => {
  await bed?.stop();
});

/** The bed's sessions, revoked by a revoker whose transactions end at most `batch` sessions each. */
function revokerOfBatch(batch: number): SessionRevoker {
  const { store, feed } = bed.gateway.services.sessions;
  return new SessionRevoker({
    store,
    feed,
    audit: bed.gateway.services.audit,
    metrics: sessionMetrics(newRegistry({ processMetrics: false })),
    batch,
  });
}

test.serial(
  "an IdP's five sessions, two per transaction: all revoked, in three outbox rows, audited once",
  async (t) => {
    const people: LoggedIn[] = [];
    for (let i = 0; i < 5; i += 1) people.push(await logIn(bed));
    const result = await revokerOfBatch(2).revokeAllOfIdp('demo-idp', {
      actor: 'operator:test',
      reason: 'idp key compromise',
    });
    t.is(result.sessions, 5);
    t.true(result.propagated);
    for (const person of people) t.is((await userinfo(bed.url, person.accessToken)).status, 401, person.sid);

    const { pool } = bed.gateway.services;
    const { rows: outbox } = await pool.query<{ id: string; keys: number }>(
      "select id, cardinality(record_keys) as keys from session_revocations where reason = 'idp key compromise' order by id",
    );
    t.deepEqual(
      outbox.map((r) => r.keys),
      [2, 2, 1],
      'one outbox row per batch, none for the empty look after the last',
    );
    t.is(result.id, outbox[0]!.id, 'the revocation is named by its first batch');
    const { rows: states } = await pool.query<{ state: string }>(
      `select state from session_records where valid_to is null and kind = 'Session' and idp = 'demo-idp'`,
    );
    t.true(states.length >= 5);
    t.true(
      states.every((r) => r.state === 'revoked'),
      'every session of the IdP revoked in PostgreSQL',
    );
    const { rows: audited } = await pool.query<{ session_id: string; details: Record<string, unknown> }>(
      "select session_id, details from audit_log where to_state = 'SESSION_REVOKED' and details->>'reason' = 'idp key compromise'",
    );
    t.is(audited.length, 1, 'one audit record for the whole revocation');
    t.is(audited[0]!.session_id, `revocation:${result.id}`);
    t.like(audited[0]!.details, { scope: 'idp', sessions: 5, batches: 3, complete: true });
  },
);

test.serial('a scope that fills its last batch exactly writes no empty outbox row', async (t) => {
  const people = [await logIn(bed), await logIn(bed)];
  const result = await revokerOfBatch(2).revokeAllOfIdp('demo-idp', { actor: 'operator:test', reason: 'exactly two' });
  t.is(result.sessions, 2);
  for (const person of people) t.is((await userinfo(bed.url, person.accessToken)).status, 401);
  const { rows } = await bed.gateway.services.pool.query<{ keys: number }>(
    "select cardinality(record_keys) as keys from session_revocations where reason = 'exactly two'",
  );
  t.deepEqual(
    rows.map((r) => r.keys),
    [2],
  );
});

test.serial('a scope matching nothing still has its one outbox row and audit record', async (t) => {
  const result = await revokerOfBatch(2).revokeAllOfIdp('no-such-idp', { actor: 'operator:test', reason: 'none' });
  t.is(result.sessions, 0);
  t.not(result.id, '');
  const { rows } = await bed.gateway.services.pool.query(
    "select 1 from audit_log where to_state = 'SESSION_REVOKED' and details->>'reason' = 'none' and details->>'sessions' = '0'",
  );
  t.is(rows.length, 1);
});
