/**
 * Issue #14: concurrent audit appends are written together (group commit: one INSERT, one transaction for
 * the records appended while an insert is in flight), and nothing of the audit guarantees moves:
 *
 * - each append resolves only once its record is committed (another connection reads it at that moment);
 * - the records are chained in the order they were appended, and the chain verifies;
 * - a malformed record in a group is refused alone (`AUDIT_INVALID_RECORD`), its neighbours are written;
 * - with PostgreSQL unreachable and no spool, every member of a group fails closed (`AUDIT_UNAVAILABLE`).
 *
 * Real PostgreSQL; round trips counted on node-postgres's Client.query.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { migratedPool, unreachablePool } from '../store/fixtures.ts';

let queries = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  queries += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const record = (i: number, details: Record<string, unknown> = { i }) => ({
  sessionId: `login-${i}`,
  from: 'INITIATED',
  to: 'AUTHENTICATING',
  component: 'flow',
  details,
});

test.serial(
  '20 concurrent appends take at most 2 statements, each resolving once its record is committed',
  async (t) => {
    const pool = await migratedPool();
    const reader = await migratedPoolReader(pool);
    t.teardown(() => Promise.all([reader.end(), pool.end()]));
    const audit = new AuditLog(pool);
    await pool.query('select 1'); // the pool's first connection
    const before = queries;
    const seen: boolean[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await audit.append(record(i));
        // committed: another connection sees it now
        const { rows } = await reader.query('select 1 from audit_log where session_id = $1', [`login-${i}`]);
        seen[i] = rows.length === 1;
      }),
    );
    const statements = queries - before - 20; // minus the reader's 20 queries
    t.true(statements <= 2, `${statements} statements for 20 records`);
    t.deepEqual(seen, Array(20).fill(true));
    const stats = audit.groupStats;
    t.is(stats.records, 20);
    t.true(stats.statements <= 2);
  },
);

test.serial('records are chained in the order they were appended, and the chain holds', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await Promise.all(Array.from({ length: 30 }, (_, i) => audit.append(record(i))));
  const { rows } = await pool.query<{ session_id: string; ok: boolean }>(
    `select session_id, hash = sha256(prev_hash || digest) and prev_hash = coalesce(lag(hash) over (order by seq), prev_hash) as ok
     from audit_log order by seq`,
  );
  t.deepEqual(
    rows.map((r) => r.session_id),
    Array.from({ length: 30 }, (_, i) => `login-${i}`),
  );
  t.true(rows.every((r) => r.ok));
});

test.serial('a record PostgreSQL refuses in a group fails alone; the others are written', async (t) => {
  const pool = await migratedPool();
  const spool = new AuditSpool(mkdtempSync(join(tmpdir(), 'gw-spool-')));
  const audit = new AuditLog(pool, { spool });
  t.teardown(async () => {
    await audit.close();
    await pool.end();
  });
  // PostgreSQL refuses one record (a data error: a trigger in this fresh database refuses it with check_violation;
  // the writer's own inputs, NULs and lone surrogates, are made storable before they get there)
  await pool.query(`create function refuse_login_1() returns trigger language plpgsql as $$
    begin if new.session_id = 'login-1' then raise exception 'refused' using errcode = 'check_violation'; end if;
    return new; end $$`);
  await pool.query(
    'create trigger refuse_login_1 before insert on audit_log for each row execute function refuse_login_1()',
  );
  const bad = record(1);
  const results = await Promise.allSettled([audit.append(record(0)), audit.append(bad), audit.append(record(2))]);
  t.is(results[0]!.status, 'fulfilled');
  t.is(results[2]!.status, 'fulfilled');
  t.is(results[1]!.status, 'rejected');
  t.is(((results[1] as PromiseRejectedResult).reason as { code?: string }).code, 'AUDIT_INVALID_RECORD');
  const { rows } = await pool.query<{ session_id: string }>('select session_id from audit_log order by seq');
  t.deepEqual(
    rows.map((r) => r.session_id),
    ['login-0', 'login-2'],
  );
});

test.serial('PostgreSQL unreachable and no spool: every member of a group fails closed', async (t) => {
  const pool = await unreachablePool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => audit.append(record(i))));
  t.deepEqual(
    results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'written')),
    Array(5).fill('AUDIT_UNAVAILABLE'),
  );
});

/** A second pool on the same database (its own connection: it sees only committed rows). */
async function migratedPoolReader(pool: pg.Pool): Promise<pg.Pool> {
  const { rows } = await pool.query<{ db: string }>('select current_database() as db');
  const url = new URL(process.env.GW_TEST_PG_URL!);
  url.pathname = `/${rows[0]!.db}`;
  return createPool(url.toString());
}
