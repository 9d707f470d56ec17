import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSpool } from '../../../gateway/audit/spool.ts';
import { AuditError } from '../../../gateway/audit/audit-error.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { migratedPool, unreachablePool } from '../store/fixtures.ts';

test('an appended record reads back with every field, in order', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await audit.append({
    sessionId: 's1',
    from: null,
    to: 'INITIATED',
    component: 'flow',
    requestId: 'r1',
    details: { clientId: 'rp' },
  });
  await audit.append({
    sessionId: 's1',
    from: 'INITIATED',
    to: 'FAILED',
    component: 'risk',
    errorCode: 'RISK_TOO_HIGH',
  });
  await audit.append({ sessionId: 'other', from: null, to: 'INITIATED', component: 'flow' });
  const trail = await audit.forSession('s1');
  t.is(trail.length, 2);
  t.like(trail[0], {
    sessionId: 's1',
    from: null,
    to: 'INITIATED',
    component: 'flow',
    errorCode: null,
    requestId: 'r1',
    details: { clientId: 'rp' },
  });
  t.like(trail[1], {
    sessionId: 's1',
    from: 'INITIATED',
    to: 'FAILED',
    component: 'risk',
    errorCode: 'RISK_TOO_HIGH',
    requestId: null,
    details: {},
  });
  t.true(trail[0]!.at instanceof Date);
  t.true(BigInt(trail[0]!.id) < BigInt(trail[1]!.id));
});

for (const [operation, sql] of [
  ['UPDATE', "update audit_log set to_state = 'COMPLETED'"],
  ['DELETE', 'delete from audit_log'],
  ['TRUNCATE', 'truncate audit_log'],
] as const) {
  test(`the audit table refuses ${operation} (SQLSTATE 42501) and keeps its rows`, async (t) => {
    const pool = await migratedPool();
    t.teardown(() => pool.end());
    const audit = new AuditLog(pool);
    await audit.append({ sessionId: 's1', from: null, to: 'INITIATED', component: 'flow' });
    const error = await t.throwsAsync(pool.query(sql));
    t.is((error as unknown as { code: string }).code, '42501');
    const trail = await audit.forSession('s1');
    t.is(trail.length, 1);
    t.is(trail[0]!.to, 'INITIATED');
  });
}

test('a malformed record is refused with AUDIT_INVALID_RECORD and nothing is written', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await t.throwsAsync(audit.append({ sessionId: '', from: null, to: 'INITIATED', component: 'flow' }), {
    code: 'AUDIT_INVALID_RECORD',
  } as never);
  await t.throwsAsync(audit.append({ sessionId: 's1', from: null, to: 'INITIATED', component: '' }), {
    code: 'AUDIT_INVALID_RECORD',
  } as never);
  await t.throwsAsync(
    audit.append({ sessionId: 's1', from: null, to: 'INITIATED', component: 'flow', details: { n: 1n } }),
    { code: 'AUDIT_INVALID_RECORD' } as never,
  );
  const { rows } = await pool.query('select count(*)::int as n from audit_log');
  t.is(rows[0].n, 0);
});

test('with PostgreSQL unreachable, append throws AUDIT_UNAVAILABLE instead of dropping the record', async (t) => {
  const pool = await unreachablePool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await t.throwsAsync(audit.append({ sessionId: 's1', from: null, to: 'INITIATED', component: 'flow' }), {
    code: 'AUDIT_UNAVAILABLE',
  } as never);
  await t.throwsAsync(audit.forSession('s1'), { code: 'AUDIT_UNAVAILABLE' } as never);
});

test('AUDIT_UNAVAILABLE is a GatewayError with status 503 that is never exposed', (t) => {
  t.like(new AuditError('AUDIT_UNAVAILABLE', 'x'), { code: 'AUDIT_UNAVAILABLE', status: 503, expose: false });
  t.true(new AuditError('AUDIT_UNAVAILABLE', 'x') instanceof GatewayError);
});

test('a record whose chain position is taken (the head set back) is not taken as written: AUDIT_UNAVAILABLE, or spooled', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const spoolDir = mkdtempSync(join(tmpdir(), 'gw-spool-'));
  const audit = new AuditLog(pool);
  const spooling = new AuditLog(pool, { spool: new AuditSpool(spoolDir) });
  t.teardown(() => spooling.close());
  await audit.append({ sessionId: 's1', from: null, to: 'INITIATED', component: 'flow' });
  // someone owning the database moves the head back, its triggers switched off (migration 0910 refuses it otherwise):
  // the next record's seq is taken (unique key audit_log_seq_idx)
  const client = await pool.connect();
  try {
    await client.query('set session_replication_role = replica');
    await client.query('update audit_chain_head set seq = seq - 1');
  } finally {
    await client.query('reset session_replication_role');
    client.release();
  }
  await t.throwsAsync(audit.append({ sessionId: 's1', from: 'INITIATED', to: 'FAILED', component: 'flow' }), {
    code: 'AUDIT_UNAVAILABLE',
  } as never);
  await spooling.append({ sessionId: 's2', from: null, to: 'INITIATED', component: 'flow' });
  t.is(spooling.counters.spooled, 1, 'kept in the spool, not dropped');
  t.true(spooling.hasSpooled());
  t.is(await spooling.replaySpool(), 0, 'and not taken as replayed while the seq is taken');
  t.true(spooling.hasSpooled());
  const { rows } = await pool.query('select count(*)::int as n from audit_log');
  t.is(rows[0].n, 1);
});
