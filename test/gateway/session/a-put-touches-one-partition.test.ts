/**
 * Issue #14: a write of one record reads and closes its rows in the one `session_records` partition that
 * holds them (the record's head, migration 0740), not in every day partition; and the guarantees of the
 * write hold when the record moves to another partition (a new expiry), across `maintain`, and for rows
 * written before the migration. Real PostgreSQL; the partitions a put scanned are read from
 * `pg_stat_xact_user_tables` inside the put's own transaction.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';
import { COLUMNS, DurableTier, rowValues, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { migrate, MIGRATIONS_DIR } from '../../../gateway/store/migrate.ts';
import { emptyDatabase, freshDatabase } from '../../helpers/services.ts';
import { putAsBefore0760, storedRecord } from '../../helpers/stored-record.ts';

const DAY = 86_400_000;

/** The person every record here is of (a session's write naming another person moves its version on: 0830). */
const PERSON = randomBytes(32);

function record(kind: StoredRecord['kind'], key: Buffer, expiresInMs: number, createdAt = new Date()): StoredRecord {
  return storedRecord(kind, {
    recordKey: key,
    accountKey: PERSON,
    sidKeys: kind === 'Session' ? [randomBytes(32)] : [],
    createdAt,
    expiresAt: new Date(Date.now() + expiresInMs),
  });
}

const currentRows = async (pool: pg.Pool, key: Buffer) =>
  Number(
    (
      await pool.query<{ n: string }>(
        'select count(*) as n from session_records where record_key = $1 and valid_to is null',
        [key],
      )
    ).rows[0]!.n,
  );

let pool: pg.Pool;
let durable: DurableTier;
test.before(async () => {
  pool = createPool(await freshDatabase());
  durable = new DurableTier(pool);
  await durable.maintain(16, 7);
});
test.after.always(() => pool?.end());

test.serial('a put of a record that has rows scans one partition of session_records, not all', async (t) => {
  const partitions = Number(
    (
      await pool.query<{ n: string }>(
        "select count(*) as n from pg_inherits where inhparent = 'session_records'::regclass",
      )
    ).rows[0]!.n,
  );
  t.true(partitions >= 10, `${partitions} partitions`);
  const key = randomBytes(32);
  await durable.put(record('Session', key, 8 * 3600_000));
  const client = await pool.connect();
  // the backend's pending statistics (pg_stat_xact_*) hold the scans of its earlier transactions until they
  // are flushed, which never happens inside a transaction: the put's own scans are the difference
  const scans = async () =>
    new Map(
      (
        await client.query<{ relname: string; n: string }>(
          "select relname, (idx_scan + seq_scan)::text as n from pg_stat_xact_user_tables where relname like 'session\\_records\\_%'",
        )
      ).rows.map((r) => [r.relname, Number(r.n)]),
    );
  try {
    await client.query('begin');
    const before = await scans();
    await client.query(
      `select ${COLUMNS} from session_record_put($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      rowValues(record('Session', key, 8 * 3600_000)),
    );
    const after = await scans();
    await client.query('commit');
    const scanned = [...after].filter(([relname, n]) => n > (before.get(relname) ?? 0)).map(([relname]) => relname);
    t.true(scanned.length <= 1, `partitions scanned: ${scanned.join(', ')}`);
  } finally {
    client.release();
  }
  t.is(await currentRows(pool, key), 1);
});

test.serial('a record moved to another partition keeps one current row, its version and creation time', async (t) => {
  const key = randomBytes(32);
  const began = new Date(Date.now() - 60_000);
  await durable.put({ ...record('Session', key, DAY / 2, began), version: 3 });
  const moved = await durable.put(record('Session', key, 5 * DAY));
  t.is(moved.version, 3);
  t.is(moved.createdAt.getTime(), began.getTime());
  t.is(await currentRows(pool, key), 1);
  await Promise.all(Array.from({ length: 8 }, (_, i) => durable.put(record('Session', key, (i + 1) * DAY + 1000))));
  t.is(await currentRows(pool, key), 1, 'concurrent writers moving the record serialise');
  await durable.revoke('session', key, 'test', 'test', 'test', true);
  const late = await durable.put(record('Session', key, 12 * DAY));
  t.is(late.state, 'revoked', 'a write to a revoked session is dropped, whatever its expiry');
  t.is((await durable.get(key))?.state, 'revoked');
  t.is(await currentRows(pool, key), 1);
});

test.serial('maintain keeps the head of a record with rows and deletes the head of a record without', async (t) => {
  const live = randomBytes(32);
  const gone = randomBytes(32);
  await durable.put(record('Grant', live, DAY));
  await durable.put(record('Grant', gone, -10 * DAY)); // long expired: in the default partition
  await durable.maintain(16, 7);
  const heads = async (key: Buffer) =>
    (await pool.query('select 1 from session_record_heads where record_key = $1', [key])).rowCount;
  t.is(await heads(live), 1);
  t.is(await heads(gone), 0);
  await durable.put(record('Grant', gone, DAY));
  await durable.put(record('Grant', live, 2 * DAY));
  t.is(await currentRows(pool, gone), 1);
  t.is(await currentRows(pool, live), 1);
});

test.serial(
  'rows written before migration 0740 are read, replaced once, and a revoked one stays revoked',
  async (t) => {
    // a database at the schema before 0740, written by the old session_record_put
    const before = mkdtempSync(join(process.env.GW_TEST_DIR ?? '/tmp', 'migrations-before-0740-'));
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '0740'))
      copyFileSync(join(MIGRATIONS_DIR, file), join(before, file));
    const old = createPool(await emptyDatabase());
    try {
      await migrate(old, () => undefined, { dir: before });
      const oldTier = new DurableTier(old);
      await oldTier.maintain(16, 7);
      const session = randomBytes(32);
      const revoked = randomBytes(32);
      const began = new Date(Date.now() - 3_600_000);
      await putAsBefore0760(old, { ...record('Session', session, DAY, began), version: 2 });
      await putAsBefore0760(old, record('Session', revoked, DAY));
      // revoked by the statement of that time (today's revoke needs the heads of 0740)
      await old.query(
        `with closed as (update session_records set valid_to = clock_timestamp() where record_key = $1 and valid_to is null returning ${COLUMNS})
         insert into session_records (${COLUMNS}) select ${COLUMNS.replace(' version, state,', " version + 1, 'revoked',")} from closed`,
        [revoked],
      );
      t.deepEqual((await migrate(old))[0], '0740_session_record_heads');
      const next = await oldTier.put(record('Session', session, 3 * DAY));
      t.is(next.version, 2);
      t.is(next.createdAt.getTime(), began.getTime());
      t.is(await currentRows(old, session), 1, 'the row written before the migration was closed');
      t.is((await oldTier.put(record('Session', revoked, DAY))).state, 'revoked');
      t.is(await currentRows(old, revoked), 1);
    } finally {
      await old.end();
    }
  },
);
