/**
 * A revocation whose scope matches more sessions than one transaction ends (`REVOKE_BATCH`, 1,000; here 2) ends them
 * batch after batch: each batch durable with its own outbox row, propagated, refused everywhere and audited (a process
 * stopping midway leaves no batch unaudited), each audit record naming the revocation (its first batch). In one
 * transaction a national IdP's every session was held in memory, sent as one message, and past about 125,000 sessions
 * nothing was revoked at all (an array spread threw). A revocation ends the sessions of its start: one created after
 * it (past the fleet's clock margin) is left, so that a scope still gaining sessions ends.
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

/** The state of a person's session in PostgreSQL (this instance's reads may answer from what it learnt). */
async function stateInPostgres(person: LoggedIn): Promise<string | undefined> {
  const found = await bed.gateway.services.sessions.store.findSession('sid', person.sid);
  const { rows } = await bed.gateway.services.pool.query<{ state: string }>(
    'select state from session_records where record_key = $1 and valid_to is null',
    [found!.record.recordKey],
  );
  return rows[0]?.state;
}

test.serial(
  "an IdP's five sessions, two per transaction: all revoked, in three outbox rows, each audited",
  async (t) => {
    const people: LoggedIn[] = [];
    for (let i = 0; i < 5; i += 1) people.push(await logIn(bed));
    const result = await revokerOfBatch(2).revokeAllOfIdp('demo-idp', {
      actor: 'operator:test',
      reason: 'idp key compromise',
    });
    t.is(result.sessions, 5);
    t.true(result.propagated);
    for (const person of people) {
      t.is((await userinfo(bed.url, person.accessToken)).status, 401, person.sid);
      t.is(await stateInPostgres(person), 'revoked', person.sid);
    }
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
    const { rows: audited } = await pool.query<{ session_id: string; details: Record<string, unknown> }>(
      "select session_id, details from audit_log where to_state = 'SESSION_REVOKED' and details->>'reason' = 'idp key compromise' order by seq",
    );
    t.deepEqual(
      audited.map((r) => r.session_id),
      outbox.map((r) => `revocation:${r.id}`),
      'one audit record per batch, written with it',
    );
    t.deepEqual(
      audited.map((r) => [r.details.batch, r.details.sessions, r.details.revocation]),
      [
        [1, 2, result.id],
        [2, 2, result.id],
        [3, 1, result.id],
      ],
    );
  },
);

test.serial(
  'an audit record that cannot be written stops no batch: every session is revoked, then the caller hears',
  async (t) => {
    const people = [await logIn(bed), await logIn(bed), await logIn(bed)];
    const { pool } = bed.gateway.services;
    // PostgreSQL refuses this revocation's audit records (a check they fail)
    await pool.query(`create function refuse_revocation_record() returns trigger language plpgsql as $$
    begin if new.details->>'reason' = 'audit refused' then raise exception 'refused' using errcode = 'check_violation'; end if;
    return new; end $$`);
    await pool.query(
      'create trigger refuse_revocation_record before insert on audit_log for each row execute function refuse_revocation_record()',
    );
    try {
      await t.throwsAsync(
        revokerOfBatch(2).revokeAllOfIdp('demo-idp', { actor: 'operator:test', reason: 'audit refused' }),
        undefined,
        'the caller hears that the records could not be written',
      );
    } finally {
      await pool.query('drop trigger refuse_revocation_record on audit_log');
      await pool.query('drop function refuse_revocation_record()');
    }
    for (const person of people) t.is(await stateInPostgres(person), 'revoked', 'every batch was written all the same');
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

test.serial(
  'a session created after the revocation began (past the clock margin) is left to the next one',
  async (t) => {
    const late = await logIn(bed);
    // as a gateway whose clock is ten minutes ahead would have written it: after the revocation's start + 5 min
    const { pool, sessions } = bed.gateway.services;
    const found = await sessions.store.findSession('sid', late.sid);
    await pool.query(
      "update session_records set created_at = now() + interval '10 minutes' where record_key = $1 and valid_to is null",
      [found!.record.recordKey],
    );
    const result = await revokerOfBatch(2).revokeAllOfIdp('demo-idp', { actor: 'operator:test', reason: 'bounded' });
    t.is(result.sessions, 0, 'the revocation ends once the sessions of its start are ended');
    t.is(await stateInPostgres(late), 'active');
  },
);

test.serial('a scope matching nothing still has its one outbox row and audit record', async (t) => {
  const result = await revokerOfBatch(2).revokeAllOfIdp('no-such-idp', { actor: 'operator:test', reason: 'none' });
  t.is(result.sessions, 0);
  t.not(result.id, '');
  const { rows } = await bed.gateway.services.pool.query(
    "select 1 from audit_log where to_state = 'SESSION_REVOKED' and details->>'reason' = 'none' and details->>'sessions' = '0'",
  );
  t.is(rows.length, 1);
});

test.serial('a reason or an actor with control or invisible characters is written with them replaced', async (t) => {
  const person = await logIn(bed);
  const result = await revokerOfBatch(2).revokeSession(
    { sid: person.sid },
    { actor: 'fraud\u0000', reason: 'verdict \u202e from upstream\nline' },
  );
  t.is(result.sessions, 1, 'revoked whatever its text: never refused for it');
  const { rows } = await bed.gateway.services.pool.query<{ actor: string; reason: string }>(
    "select details->>'actor' as actor, details->>'reason' as reason from audit_log where session_id = $1",
    [`revocation:${result.id}`],
  );
  t.deepEqual(rows, [{ actor: 'fraud\ufffd', reason: 'verdict \ufffd from upstream\ufffdline' }]);
});
