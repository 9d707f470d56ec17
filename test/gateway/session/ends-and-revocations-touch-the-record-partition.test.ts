/**
 * Issue #14: ending records (`session_end`), consuming a refresh token, revoking one session and listing a
 * grant's artefacts (`keysOfGrant`) read only the `session_records` partitions that hold the rows (the
 * records' heads, migrations 0740 and 0750), not every day partition; and each still finds its record
 * whatever day partition it is in, including rows written by the statements of the code before (a rolling
 * upgrade: the old gateway goes on writing while the new one runs) and rows written before migration 0750.
 * Real PostgreSQL; the partitions an operation scanned are read from `pg_stat_xact_user_tables` inside one
 * transaction that holds the operation (its own `begin`/`commit` become a savepoint).
 */
import test from 'ava';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';
import { COLUMNS, DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { migrate, MIGRATIONS_DIR } from '../../../gateway/store/migrate.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { emptyDatabase, freshDatabase } from '../../helpers/services.ts';
import { putAsBefore0760, storedRecord } from '../../helpers/stored-record.ts';

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY);

/** The statements of the code before this change (migration 0740's schema), as an old gateway still sends them. */
const OLD = {
  end: `with closed as (
     update session_records set valid_to = clock_timestamp() where record_key = any($1) and valid_to is null
     returning ${COLUMNS})
   insert into session_records (${COLUMNS})
   select ${COLUMNS.replace(' state,', " 'ended',")} from closed where kind = 'Session' and state = 'active'`,
  consume: `with closed as (
     update session_records set valid_to = clock_timestamp()
     where record_key = $1 and valid_to is null and state = 'active' and expires_at > now() returning ${COLUMNS})
   insert into session_records (${COLUMNS}) select ${COLUMNS.replace(' state,', " 'ended',")} from closed returning ${COLUMNS}`,
  /** `invalidateTokens` of one session: its row closed and inserted again with version + 1. */
  bump: `with closed as (
     update session_records set valid_to = clock_timestamp()
     where kind = 'Session' and record_key = $1 and valid_to is null and state <> 'revoked' and expires_at > now()
     returning ${COLUMNS})
   insert into session_records (${COLUMNS})
   select ${COLUMNS.replace(' version,', ' version + 1,')} from closed`,
};

/** A pool whose every query runs on `client`, in the transaction it holds (a `begin` of the tier is a savepoint). */
function withinTransaction(client: pg.PoolClient): pg.Pool {
  const nested: Record<string, string> = {
    begin: 'savepoint tier',
    commit: 'release savepoint tier',
    rollback: 'rollback to savepoint tier',
  };
  const query = (text: unknown, values?: unknown[]) =>
    typeof text === 'string' && nested[text]
      ? client.query(nested[text])
      : client.query(text as pg.QueryConfig, values);
  return { query, connect: async () => ({ query, release: () => undefined }) } as unknown as pg.Pool;
}

/** The partitions of `session_records` that `work` scanned (run in one transaction, then committed). */
async function scanned(pool: pg.Pool, work: (tier: DurableTier) => Promise<unknown>): Promise<string[]> {
  const client = await pool.connect();
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
    await work(new DurableTier(withinTransaction(client)));
    const after = await scans();
    await client.query('commit');
    return [...after].filter(([relname, n]) => n > (before.get(relname) ?? 0)).map(([relname]) => relname);
  } finally {
    client.release();
  }
}

const partitionOf = async (pool: pg.Pool, key: Buffer) =>
  (
    await pool.query<{ p: string }>(
      'select distinct tableoid::regclass::text as p from session_records where record_key = $1',
      [key],
    )
  ).rows.map((r) => r.p);
const current = async (pool: pg.Pool, key: Buffer) =>
  (
    await pool.query<{ state: string; version: number }>(
      'select state, version from session_records where record_key = $1 and valid_to is null',
      [key],
    )
  ).rows;

let pool: pg.Pool;
let durable: DurableTier;
test.before(async () => {
  pool = createPool(await freshDatabase());
  durable = new DurableTier(pool);
  await durable.maintain(16, 7);
  // rows in many day partitions, as a live gateway has them
  for (let day = 0; day < 14; day++)
    await durable.putMany([
      storedRecord('Session', { expiresAt: inDays(day + 0.5) }),
      storedRecord('RefreshToken', { grantKey: randomBytes(32), expiresAt: inDays(day + 0.5) }),
    ]);
});
test.after.always(() => pool?.end());

test('the database has many day partitions', async (t) => {
  const partitions = Number(
    (
      await pool.query<{ n: string }>(
        "select count(*) as n from pg_inherits where inhparent = 'session_records'::regclass",
      )
    ).rows[0]!.n,
  );
  t.true(partitions >= 10, `${partitions} partitions`);
});

test.serial("a grant listing scans only the partitions of the grant's artefacts", async (t) => {
  const grantKey = randomBytes(32);
  const access = storedRecord('AccessToken', { grantKey, expiresAt: inDays(0.02) });
  const refresh = storedRecord('RefreshToken', { grantKey, expiresAt: inDays(9.5) });
  await durable.putMany([access, refresh, storedRecord('RefreshToken', { expiresAt: inDays(9.5) })]);
  const listed: Buffer[] = [];
  const listing = await scanned(pool, async (tier) => listed.push(...(await tier.keysOfGrant(grantKey))));
  const hex = (keys: Buffer[]) => keys.map((k) => k.toString('hex')).sort();
  t.deepEqual(hex(listed), hex([access.recordKey, refresh.recordKey]));
  const own = [...(await partitionOf(pool, access.recordKey)), ...(await partitionOf(pool, refresh.recordKey))];
  t.true(
    listing.every((p) => own.includes(p)),
    `keysOfGrant scanned ${listing.join(', ')}`,
  );
});

test.serial('a consume scans one partition', async (t) => {
  const token = storedRecord('RefreshToken', { expiresAt: inDays(6.5) });
  await durable.put(token);
  const consuming = await scanned(pool, (tier) => tier.consume(token.recordKey));
  t.true(consuming.length <= 1, `consume scanned ${consuming.join(', ')}`);
  t.deepEqual(await current(pool, token.recordKey), [{ state: 'ended', version: 1 }]);
});

test.serial('a revocation of one session scans one partition', async (t) => {
  const session = storedRecord('Session', { expiresAt: inDays(3.5) });
  await durable.put(session);
  const revoking = await scanned(pool, (tier) => tier.revoke('session', session.recordKey, 't', 't', 't', true));
  t.true(revoking.length <= 1, `revoke scanned ${revoking.join(', ')}`);
  t.deepEqual(await current(pool, session.recordKey), [{ state: 'revoked', version: 2 }]);
});

test.serial('an end of three records scans at most their three partitions', async (t) => {
  const expiries = [0.02, 4.5, 9.5].map(inDays);
  const records = expiries.map((expiresAt) => storedRecord('Grant', { expiresAt }));
  // in the second record's partition, whatever the time of day (0.3 days ahead crossed midnight after 16:48 UTC)
  const session = storedRecord('Session', { expiresAt: expiries[1]! });
  await durable.putMany([...records, session]);
  const ending = await scanned(pool, (tier) => tier.end([...records, session].map((r) => r.recordKey)));
  t.true(ending.length <= 3, `end scanned ${ending.join(', ')}`);
  for (const r of records) t.deepEqual(await current(pool, r.recordKey), []);
  t.deepEqual(await current(pool, session.recordKey), [{ state: 'ended', version: 1 }]);
});

test.serial('rows written by the statements of the old code are ended, consumed, revoked and listed', async (t) => {
  const grantKey = randomBytes(32);
  const session = storedRecord('Session', { expiresAt: inDays(5.5) });
  const ended = storedRecord('Session', { expiresAt: inDays(2.5) });
  const refresh = storedRecord('RefreshToken', { grantKey, expiresAt: inDays(11.5) });
  const used = storedRecord('RefreshToken', { grantKey, expiresAt: inDays(8.5) });
  await durable.putMany([session, ended, refresh, used]);
  await pool.query(OLD.bump, [session.recordKey]);
  await pool.query(OLD.consume, [used.recordKey]);
  await pool.query(OLD.end, [[ended.recordKey]]);

  const listed = (await durable.keysOfGrant(grantKey)).map((k) => k.toString('hex')).sort();
  t.deepEqual(
    listed,
    [refresh, used].map((r) => r.recordKey.toString('hex')).sort(),
    'the consumed one has a current row',
  );
  t.is(await durable.consume(used.recordKey), null, 'consumed by the old statement: once only');
  t.is((await durable.consume(refresh.recordKey))?.state, 'ended');
  const { records } = await durable.revoke('session', session.recordKey, 't', 't', 't', true);
  t.deepEqual(
    records.map((r) => [r.state, r.version]),
    [['revoked', 3]],
  );
  const endedThenRevoked = await durable.revoke('session', ended.recordKey, 't', 't', 't', true);
  t.deepEqual(
    endedThenRevoked.records.map((r) => [r.state, r.version]),
    [['revoked', 2]],
    'as the old code did',
  );
  await durable.end([refresh.recordKey, used.recordKey]);
  t.deepEqual(await durable.keysOfGrant(grantKey), []);
  t.deepEqual(await current(pool, session.recordKey), [{ state: 'revoked', version: 3 }]);
});

test.serial('rows written before migration 0750 are listed by their grant, ended and revoked after it', async (t) => {
  const before = mkdtempSync(join(process.env.GW_TEST_DIR ?? '/tmp', 'migrations-before-0750-'));
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < '0750'))
    copyFileSync(join(MIGRATIONS_DIR, file), join(before, file));
  const old = createPool(await emptyDatabase());
  try {
    await migrate(old, () => undefined, { dir: before });
    const tier = new DurableTier(old);
    await tier.maintain(16, 7);
    const grantKey = randomBytes(32);
    const session = storedRecord('Session', { expiresAt: inDays(4.5) });
    const tokens: StoredRecord[] = [1.5, 7.5, 12.5].map((d) =>
      storedRecord('RefreshToken', { grantKey, expiresAt: inDays(d) }),
    );
    for (const r of [session, ...tokens]) await putAsBefore0760(old, r); // one at a time: the old function
    await old.query(OLD.consume, [tokens[0]!.recordKey]);
    t.deepEqual((await migrate(old))[0], '0750_session_record_heads_grant');
    const listed = (await tier.keysOfGrant(grantKey)).map((k) => k.toString('hex')).sort();
    t.deepEqual(listed, tokens.map((r) => r.recordKey.toString('hex')).sort());
    await tier.end(tokens.map((r) => r.recordKey));
    t.deepEqual(await tier.keysOfGrant(grantKey), []);
    t.deepEqual((await tier.revoke('session', session.recordKey, 't', 't', 't', true)).records.length, 1);
    // the old gateway goes on writing after the migration: a token it writes is listed by its grant
    const late = storedRecord('RefreshToken', { grantKey, expiresAt: inDays(3.5) });
    await putAsBefore0760(old, late);
    t.deepEqual(await tier.keysOfGrant(grantKey), [late.recordKey]);
  } finally {
    await old.end();
  }
});
