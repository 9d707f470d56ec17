/**
 * Revocation propagation does not wait on PostgreSQL (issue #12 item 4, the p99 target): a revocation of
 * one session is announced on the revocation channel while its PostgreSQL transaction runs.
 *
 * - while the transaction is held up (another connection holds the session's row lock), another instance
 *   (a second subscriber of the channel) already knows the session is revoked, and the gateway already
 *   refuses the session's token at userinfo (`SESSION_REVOKED`); once PostgreSQL answers the revocation
 *   completes as before (version + 1, `revoked`, audited);
 * - when the durable write fails (the outbox table is missing for a moment), the caller is told
 *   (`REVOCATION_NOT_DURABLE`), the announcement stands (the token stays refused), and `syncPending()`
 *   writes it once PostgreSQL takes it again: the session is `revoked` in PostgreSQL;
 * - a revocation PostgreSQL refuses for good (a check it fails) is the caller's error, never queued; one queued
 *   during an outage that PostgreSQL then refuses is audited as not written and set aside: the revocations queued
 *   after it are written.
 */
import test from 'ava';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalRevocations, RevocationFeed } from '../../../gateway/session/revocation-feed.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { eventually } from '../../helpers/eventually.ts';
import { logIn, startSessionBed, userinfo, type SessionBed } from './session-bed.ts';

let bed: SessionBed;
let other: { feed: RevocationFeed; local: LocalRevocations; redis: Redis };
test.before(async () => {
  bed = await startSessionBed();
  const redis = new Redis(bed.redis.url, { keyPrefix: 'gw:' });
  const local = new LocalRevocations(100, 60_000);
  // the gateway's channel, heard by "another instance"
  const feed = await RevocationFeed.start(redis, 'gw:sessions:revoked', local, pino({ level: 'silent' }));
  other = { feed, local, redis };
});
test.after.always(async () => {
  await other?.feed.close();
  other?.redis.disconnect();
  await bed?.stop();
});

async function uidOf(sid: string): Promise<string> {
  const found = await bed.gateway.services.sessions.store.findSession<{ uid: string }>('sid', sid);
  return found!.payload.uid;
}

test.serial('another instance learns the revocation while PostgreSQL still holds its transaction', async (t) => {
  const person = await logIn(bed);
  const { sessions, pool } = bed.gateway.services;
  const uid = await uidOf(person.sid);
  const hex = sessions.store.keys.hex('Session', uid);
  const blocker = await pool.connect();
  let revocation: Promise<unknown> | undefined;
  try {
    await blocker.query('begin');
    await blocker.query('select 1 from session_records where record_key = $1 and valid_to is null for update', [
      Buffer.from(hex, 'hex'),
    ]);
    revocation = sessions.revoker.revokeSession({ uid }, { actor: 'operator:test', reason: 'announce' });
    t.true(
      await eventually(() => other.local.get(hex)?.state === 'revoked'),
      'the other instance knows before PostgreSQL has written it',
    );
    t.is((await userinfo(bed.url, person.accessToken)).status, 401, 'and the token is refused meanwhile');
    const { rows } = await blocker.query<{ state: string }>(
      'select state from session_records where record_key = $1 and valid_to is null',
      [Buffer.from(hex, 'hex')],
    );
    t.deepEqual(rows, [{ state: 'active' }], 'PostgreSQL has not written it yet');
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
  t.like(await revocation, { sessions: 1, propagated: true });
  t.is((await sessions.store.findSession('sid', person.sid))?.record.state, 'revoked');
  t.is(other.local.get(hex)?.state, 'revoked');
});

test.serial(
  'a failed durable write is reported, enforced meanwhile, and written once PostgreSQL takes it',
  async (t) => {
    const person = await logIn(bed);
    const { sessions, pool } = bed.gateway.services;
    const uid = await uidOf(person.sid);
    await pool.query('alter table session_revocations rename to session_revocations_away');
    let error: unknown;
    try {
      await sessions.revoker.revokeSession({ uid }, { actor: 'operator:test', reason: 'pg failing' });
    } catch (caught) {
      error = caught;
    } finally {
      await pool.query('alter table session_revocations_away rename to session_revocations');
    }
    t.true(error instanceof GatewayError);
    t.is((error as GatewayError).code, 'REVOCATION_NOT_DURABLE');
    t.is((await userinfo(bed.url, person.accessToken)).status, 401, 'the announcement is enforced');
    // the gateway's own sync timer (every second) or this call writes it
    await sessions.revoker.syncPending();
    t.true(
      await eventually(async () => (await sessions.store.findSession('sid', person.sid))?.record.state === 'revoked'),
      'revoked in PostgreSQL',
    );
    // the gateway's own sync timer may be the one writing it: its audit record follows the durable write
    const audited = async () =>
      (
        await pool.query(
          "select 1 from audit_log where to_state = 'SESSION_REVOKED' and details->>'reason' = 'pg failing'",
        )
      ).rows.length;
    t.true(await eventually(async () => (await audited()) >= 1), 'audited when written');
    await sessions.revoker.syncPending();
    t.is(await audited(), 1, 'audited once');
  },
);

test.serial('a revocation PostgreSQL refuses for good never holds up the ones queued after it', async (t) => {
  const [first, second] = [await logIn(bed), await logIn(bed)];
  const { sessions, pool } = bed.gateway.services;
  // PostgreSQL refuses this one revocation for good (a check it fails: SQLSTATE 23514), as it once refused a reason
  // holding a NUL (the revoker now writes such text with the character replaced)
  await pool.query(`create function refuse_revocation() returns trigger language plpgsql as $$
    begin if new.reason = 'refused for good' then raise exception 'refused' using errcode = 'check_violation'; end if;
    return new; end $$`);
  await pool.query(
    'create trigger refuse_revocation before insert on session_revocations for each row execute function refuse_revocation()',
  );
  const stateInPostgres = async (person: { sid: string }) => {
    // read in PostgreSQL: this instance's reads see the announcement whether or not it was written
    const key = sessions.store.keys.key('Session', await uidOf(person.sid));
    const { rows } = await pool.query<{ state: string }>(
      'select state from session_records where record_key = $1 and valid_to is null',
      [key],
    );
    return rows[0]?.state;
  };
  const notWritten = async () =>
    (
      await pool.query<{ error_code: string }>(
        "select error_code from audit_log where to_state = 'SESSION_REVOCATION_NOT_WRITTEN'",
      )
    ).rows.map((r) => r.error_code);
  try {
    const refused = await sessions.revoker
      .revokeSession({ uid: await uidOf(first.sid) }, { actor: 'operator:test', reason: 'refused for good' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    t.not((refused as GatewayError)?.code, 'REVOCATION_NOT_DURABLE', 'refused for good: not queued for a retry');
    t.is((refused as { code?: string })?.code, '23514', "PostgreSQL's refusal is the caller's error");

    // both queued during an outage: the first one PostgreSQL will refuse once it answers, the second it will take
    await pool.query('alter table session_revocations rename to session_revocations_away');
    try {
      for (const [person, reason] of [
        [first, 'refused for good'],
        [second, 'queued behind it'],
      ] as const)
        await t.throwsAsync(
          sessions.revoker.revokeSession({ uid: await uidOf(person.sid) }, { actor: 'operator:test', reason }),
          { instanceOf: GatewayError, message: /not yet durable/ },
        );
    } finally {
      await pool.query('alter table session_revocations_away rename to session_revocations');
    }
    // the gateway's own sync timer (every second) or these calls write what they can; the refusal stays until the
    // refused one is audited (the timer may be taking it while this call writes the next)
    await sessions.revoker.syncPending().catch(() => 0);
    t.true(
      await eventually(async () => (await stateInPostgres(second)) === 'revoked'),
      'the revocation queued after the refused one is written',
    );
    t.true(await eventually(async () => (await notWritten()).length > 0), 'the refused one is audited as not written');
  } finally {
    await pool.query('drop trigger refuse_revocation on session_revocations');
    await pool.query('drop function refuse_revocation()');
  }
  t.is(await stateInPostgres(first), 'active', 'the refused one changed nothing');
  t.deepEqual(await notWritten(), ['REVOCATION_NOT_DURABLE'], 'audited once as not written');
});
