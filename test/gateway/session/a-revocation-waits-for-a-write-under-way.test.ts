/**
 * A revocation matched a session while another request was writing it (a login's end and save of the session, in
 * one transaction): its update waited for the writer's row lock, then saw only the writer's closed row, never the
 * row it inserted, and revoked nothing; the session went on active (reviewer finding, fifteenth round). It now
 * locks the head rows of the sessions it matches first, as the writers do (migration 0760), and revokes the row
 * the writer left: whichever function wrote (this version's checked write, migration 0780; the unchecked one of
 * 0760; an instance not yet upgraded's put). The session's row a write is judged on is its current one, whatever the
 * clock did; the ended row a login's own end made is named exactly, whatever the database's DateStyle. Real
 * PostgreSQL, two connections.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { COLUMNS, DurableTier, rowValues } from '../../../gateway/session/durable-tier.ts';
import { runWithRequestMemo } from '../../../gateway/session/request-memo.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

for (const [scope, by] of [
  ['account', 'this version'],
  ['session', 'this version'],
  ['account', 'the version before (its write unchecked, migration 0760)'],
  ['account', 'an instance not yet upgraded'],
] as const) {
  test(`a revocation by ${scope} during a write of the session by ${by} revokes the row the write left`, async (t) => {
    const pool = createPool(await freshDatabase());
    t.teardown(() => pool.end());
    const durable = new DurableTier(pool);
    await durable.maintain(16, 7);
    const accountKey = randomBytes(32);
    const session = storedRecord('Session', { accountKey, expiresAt: new Date(Date.now() + 3_600_000) });
    await durable.put(session);

    // the writer: a login's end of the session and its save, in one open transaction
    const writer = await pool.connect();
    t.teardown(() => writer.release());
    await writer.query('begin');
    const old = by === 'an instance not yet upgraded';
    const {
      rows: [closed],
    } = old
      ? await writer.query<{ ended_from: string }>('select session_records_end($1::bytea[]), 1 as ended_from', [
          [session.recordKey],
        ])
      : await writer.query<{ ended_from: string }>(
          `select to_char(ended_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ended_from
           from session_records_close($1::bytea[])`,
          [[session.recordKey]],
        );
    t.truthy(closed, 'the writer ended the session');
    // the revocation, meanwhile
    const revoking = durable.revoke(
      scope,
      scope === 'account' ? accountKey : session.recordKey,
      'target',
      'test',
      'a write under way',
      true,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = { ...session, lookupKey: randomBytes(32), expiresAt: new Date(Date.now() + 7_200_000) };
    // this version's write names the row it expects (migration 0780): the ended row, a copy of the one it read
    const expected = createHash('sha256').update(session.sealed, 'utf8').digest();
    const params = Array.from({ length: 15 }, (_, i) => `$${i + 1}`);
    await writer.query(
      old
        ? `select ${COLUMNS} from session_record_put(${params.slice(0, 13).join(', ')})`
        : by === 'this version'
          ? `select ${COLUMNS}, conflict from session_record_write(${params.join(', ')})`
          : `select ${COLUMNS} from session_record_write(${params.slice(0, 14).join(', ')})`,
      old
        ? rowValues(again)
        : by === 'this version'
          ? [...rowValues(again), closed!.ended_from, expected]
          : [...rowValues(again), closed!.ended_from],
    );
    await writer.query('commit');
    const { records } = await revoking;
    t.is(records.length, 1, 'the session revoked');
    const { rows } = await pool.query<{ state: string }>(
      'select state from session_records where record_key = $1 and valid_to is null',
      [session.recordKey],
    );
    t.deepEqual(
      rows.map((r) => r.state),
      ['revoked'],
    );
  });
}

test('a session whose clock stepped back is judged on its current row: a stale save does not undo its logout', async (t) => {
  const pool = createPool(await freshDatabase());
  t.teardown(() => pool.end());
  const durable = new DurableTier(pool);
  await durable.maintain(16, 7);
  const session = storedRecord('Session', { expiresAt: new Date(Date.now() + 3_600_000) });
  await durable.put(session);
  // written by a database host whose clock was an hour ahead of the one that ends it
  await pool.query(
    `update session_records set valid_from = valid_from + interval '1 hour' where record_key = $1 and valid_to is null`,
    [session.recordKey],
  );
  await durable.end([session.recordKey]); // the logout
  const saved = await durable.put(session); // a request that read it before
  t.is(saved.state, 'ended');
});

test("a login's own end and save open its session again whatever the database's DateStyle and TimeZone", async (t) => {
  const url = new URL(await freshDatabase());
  url.searchParams.set('options', '-c DateStyle=SQL,DMY -c TimeZone=Asia/Kolkata');
  const pool = createPool(url.toString());
  t.teardown(() => pool.end());
  const durable = new DurableTier(pool);
  await durable.maintain(16, 7);
  const session = storedRecord('Session', { expiresAt: new Date(Date.now() + 3_600_000) });
  await durable.put(session);
  const saved = await runWithRequestMemo(async () => {
    await durable.end([session.recordKey]);
    return durable.put({ ...session, lookupKey: randomBytes(32) });
  });
  t.is(saved.state, 'active');
});
