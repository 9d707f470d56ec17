/**
 * A grant or token the gateway ended or consumed is not written again by an instance of an older version during a
 * rolling upgrade either (migration 0840): `session_record_write` with fourteen arguments (versions from 0760 to
 * before 0780) and `session_record_put` (versions before 0760) answer the write with the ended record and write
 * nothing, as this version's write does (migration 0830). Before, either brought the grant back active, and a code
 * made on it was exchanged for tokens. Their writes of what may be written again (a session, a person's identity)
 * still land. Real PostgreSQL.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { DurableTier } from '../../../gateway/session/durable-tier.ts';
import { ENDED_FOR_GOOD, type StoredRecord } from '../../../gateway/session/stored-record.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { putAsBefore0760, storedRecord, writeAsBefore0780 } from '../../helpers/stored-record.ts';

const pool = createPool(await freshDatabase());
const durable = new DurableTier(pool);
test.before(() => durable.maintain(16, 7));
test.after.always(() => pool.end());

const OLDER_WRITERS = {
  'session_record_write with fourteen arguments (0760)': (record: StoredRecord) => writeAsBefore0780(pool, record),
  'session_record_put (before 0760)': (record: StoredRecord) => putAsBefore0760(pool, record),
} as const;

/** The same record, as a request that read it earlier saves it again changed. */
const savedAgain = (record: StoredRecord): StoredRecord => ({
  ...record,
  sealed: `s1.1.${randomBytes(40).toString('base64url')}`,
});

for (const [writer, write] of Object.entries(OLDER_WRITERS)) {
  for (const kind of [...ENDED_FOR_GOOD])
    for (const how of ['ended', 'consumed'] as const) {
      if (how === 'consumed' && kind !== 'RefreshToken') continue;
      test(`${how === 'ended' ? 'an' : 'a'} ${how} ${kind} written again through ${writer} stays ${how}`, async (t) => {
        const record = storedRecord(kind, { grantKey: randomBytes(32) });
        await durable.put(record);
        if (how === 'ended') await durable.end([record.recordKey]);
        else t.truthy(await durable.consume(record.recordKey), 'consumed once');
        const answered = await write(savedAgain(record));
        t.is(answered.state, 'ended', 'the write is answered with the ended record');
        const stored = await durable.get(record.recordKey);
        if (how === 'ended') t.is(stored, null, 'no current row');
        else t.is(stored?.state, 'ended', 'still consumed');
        t.is(await durable.consume(record.recordKey), null, 'nothing to consume again');
      });
    }

  test(`${writer} still writes a grant that was not ended, and a person's identity again after its end`, async (t) => {
    const grant = storedRecord('Grant', { grantKey: randomBytes(32) });
    await durable.put(grant);
    const changed = savedAgain(grant);
    t.is((await write(changed)).state, 'active');
    t.is((await durable.get(grant.recordKey))?.sealed, changed.sealed);

    const identity = storedRecord('Identity');
    await durable.put(identity);
    await durable.end([identity.recordKey]);
    t.is((await write(savedAgain(identity))).state, 'active');
    t.is((await durable.get(identity.recordKey))?.state, 'active');
  });
}

test('the fourteen-argument writer opens an ended session again only for the request whose own end closed it', async (t) => {
  const session = storedRecord('Session');
  await durable.put(session);
  const {
    rows: [closed],
  } = await pool.query<{ ended_from: string }>(
    `select to_char(ended_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ended_from
     from session_records_close($1::bytea[])`,
    [[session.recordKey]],
  );
  if (!closed) throw new Error('the session was not ended');
  t.is((await writeAsBefore0780(pool, savedAgain(session))).state, 'ended', "another request's end stands");
  t.is((await durable.get(session.recordKey))?.state, 'ended');
  const reopened = savedAgain(session);
  t.is((await writeAsBefore0780(pool, reopened, closed.ended_from)).state, 'active', 'its own end is opened again');
  t.is((await durable.get(session.recordKey))?.sealed, reopened.sealed);
});
