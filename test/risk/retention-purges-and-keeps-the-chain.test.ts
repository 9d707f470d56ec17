/**
 * Retention: raw signals and assessments go after 30 days, aggregates and per-person counts and profiles
 * 90 days after their last update; what is younger stays; the purge is itself audited and the audit chain
 * still verifies afterwards.
 */
import test from 'ava';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { verifyAuditChain } from '../../gateway/audit/verify.ts';
import { genesisOnly } from '../helpers/audit-anchor.ts';
import { enforceRetention } from '../../gateway/risk/retention.ts';
import { migratedPool } from '../gateway/store/fixtures.ts';

const DAY = 86_400_000;

test('retention removes exactly what is past its time, audits the purge, and keeps the chain verifiable', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  await audit.append({ sessionId: 'before', from: null, to: 'INITIATED', component: 'flow' });
  const now = new Date();
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  for (const [id, at] of [
    ['old', ago(31)],
    ['young', ago(29)],
  ] as const) {
    await pool.query('insert into risk_signals (login_id, at, account_id, features) values ($1, $2, $3, $4)', [
      id,
      at,
      'acct',
      '{}',
    ]);
    await pool.query(
      'insert into risk_assessments (login_id, at, client_id, account_id, score, decision, assessment) values ($1, $2, $3, $4, 0, $5, $6)',
      [id, at, 'rp', 'acct', 'allow', '{}'],
    );
  }
  for (const [day, key] of [
    [ago(91), 'old'],
    [ago(89), 'young'],
  ] as const) {
    await pool.query('insert into risk_aggregates (day, metric, key, count) values ($1::date, $2, $3, 1)', [
      day.toISOString().slice(0, 10),
      'logins',
      key,
    ]);
    await pool.query('insert into rba_counts (scope, field, count, updated_at) values ($1, $2, 1, $3)', [
      `acct-${key}`,
      't',
      day,
    ]);
    await pool.query('insert into behaviour_profiles (account_id, profile, updated_at) values ($1, $2, $3)', [
      `acct-${key}`,
      '{}',
      day,
    ]);
  }
  const removed = await enforceRetention(pool, audit, now);
  t.like(removed, { risk_signals: 1, risk_assessments: 1, risk_aggregates: 1, rba_counts: 1, behaviour_profiles: 1 });
  t.deepEqual((await pool.query('select login_id from risk_signals')).rows, [{ login_id: 'young' }]);
  t.deepEqual((await pool.query('select scope from rba_counts')).rows, [{ scope: 'acct-young' }]);
  t.deepEqual((await pool.query('select account_id from behaviour_profiles')).rows, [{ account_id: 'acct-young' }]);
  const { rows } = await pool.query("select to_state, details from audit_log where to_state = 'RETENTION_PURGE'");
  t.is(rows.length, 1);
  t.is(rows[0].details.removed.risk_signals, 1);
  const report = await verifyAuditChain(pool, genesisOnly());
  t.true(report.ok, JSON.stringify(report.findings));
});
