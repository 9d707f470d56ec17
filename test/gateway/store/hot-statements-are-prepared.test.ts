/**
 * Issue #14: the statements every login runs are named, so PostgreSQL parses them once per connection and
 * keeps a generic plan after five calls instead of planning each call. `session_records` has a partition per
 * day: an unnamed read of it was planned over every partition at each call (planning cost more than running).
 * Real PostgreSQL; the connection's own `pg_prepared_statements` says what it holds and how it planned.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { DurableTier, type StoredRecord } from '../../../gateway/session/durable-tier.ts';
import { createPool } from '../../../gateway/store/postgres.ts';
import { prepared } from '../../../gateway/store/prepared.ts';
import { freshDatabase } from '../../helpers/services.ts';
import { storedRecord } from '../../helpers/stored-record.ts';

function session(key: Buffer, lookupKey: Buffer): StoredRecord {
  return storedRecord('Session', { recordKey: key, lookupKey, sidKeys: [randomBytes(32)] });
}

let pool: pg.Pool;
test.before(async () => {
  // one connection: the statements it prepared are the ones pg_prepared_statements shows to the last query
  pool = createPool(await freshDatabase(), { max: 1 });
});
test.after.always(() => pool?.end());

test('the session store and the audit log run named statements, planned once per connection', async (t) => {
  const durable = new DurableTier(pool);
  await durable.maintain(16, 7); // a partition per day, as in a deployment
  const audit = new AuditLog(pool);
  for (let i = 0; i < 8; i++) {
    const key = randomBytes(32);
    const lookup = randomBytes(32);
    await durable.put(session(key, lookup));
    await durable.putMany([session(randomBytes(32), randomBytes(32)), session(randomBytes(32), randomBytes(32))]);
    t.truthy(await durable.get(key));
    t.truthy(await durable.findSession('lookup', lookup));
    await audit.append({ sessionId: `login-${i}`, from: null, to: 'INITIATED', component: 'test' });
  }
  const { rows } = await pool.query<{ name: string; generic_plans: string; custom_plans: string }>(
    'select name, generic_plans, custom_plans from pg_prepared_statements where not from_sql',
  );
  const held = new Map(rows.map((r) => [r.name, r]));
  for (const name of ['session_write', 'session_write_2', 'session_current', 'session_by_lookup', 'audit_append'])
    t.true(held.has(name), `${name} is prepared on the connection (it holds: ${[...held.keys()].join(', ')})`);
  // eight calls of the read: five custom plans, then the generic plan is kept (no planning per call)
  const current = held.get('session_current')!;
  t.true(Number(current.generic_plans) >= 1, `session_current: generic plans ${current.generic_plans}`);
  t.true(Number(current.custom_plans) <= 5, `session_current: custom plans ${current.custom_plans}`);
});

test('a statement name is bound to one text', (t) => {
  prepared('test_bound_name', 'select 1');
  t.notThrows(() => prepared('test_bound_name', 'select 1'));
  t.throws(() => prepared('test_bound_name', 'select 2'), { instanceOf: TypeError });
  t.throws(() => prepared('Not A Name', 'select 1'), { instanceOf: TypeError });
});
