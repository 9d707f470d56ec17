/**
 * Reviewer N2: concurrent logins' risk records go to PostgreSQL in one statement (store/counter-batch.ts,
 * `RECORD_ASSESSMENTS`); when PostgreSQL refuses that statement because of one record, the others are not
 * failed with it: the batch is written again caller by caller, so the refused record fails its own login only
 * (still fail-closed: its caller gets the error) and every other login's record and aggregates are stored,
 * counted exactly once. Real PostgreSQL and Redis: the refused record holds a NUL character, which PostgreSQL's
 * text refuses.
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import type { Decision } from '../../gateway/policy/decide.ts';
import { FraudService } from '../../gateway/translation/fraud-service.ts';
import { signals, stores } from './fixtures.ts';

const allow: Decision = { kind: 'allow', requiredAcr: 'eidas2', reasons: [] };
const assessment = (score: number) => ({ score, factors: ['new_device'], stages: [] });

test('a batch with one record PostgreSQL refuses: that login fails, the other is stored and counted once', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const fraud = new FraudService({
    redis: s.redis,
    pool: s.pool,
    audit: new AuditLog(s.pool),
    logger: pino({ level: 'silent' }),
    hashKey: 'k',
    interactionTtl: 600,
  });
  const idp = `idp-n2-${process.pid}`;
  const good = signals({ idp });
  const bad = signals({ idp, clientId: 'rp\u0000' });
  // in the same turn of the event loop: one batch, one statement
  const [goodOutcome, badOutcome] = await Promise.allSettled([
    fraud.record(good, assessment(0.2), allow),
    fraud.record(bad, assessment(0.3), allow),
  ]);
  t.is(goodOutcome.status, 'fulfilled', 'the good login is not failed by the other');
  t.is(badOutcome.status, 'rejected', 'the refused record fails its own login (fail-closed)');
  const { rows } = await s.pool.query<{ login_id: string }>(
    'select login_id from risk_assessments a join risk_signals s using (login_id) where login_id = any($1)',
    [[good.loginId, bad.loginId]],
  );
  t.deepEqual(
    rows.map((r) => r.login_id),
    [good.loginId],
  );
  const counted = await s.pool.query<{ count: string }>(
    `select count::text as count from risk_aggregates where day = current_date and metric = 'idp' and key = $1`,
    [idp],
  );
  t.is(Number(counted.rows[0]?.count ?? 0), 1, 'the good login counted once, the refused one not at all');
});
