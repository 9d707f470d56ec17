/**
 * Issue #14 (PostgreSQL per login): a login's assessment, its signals and the day's risk aggregates are written
 * by one statement — one round trip, one transaction, one WAL flush; they were two (the record, then the
 * aggregates) — and concurrent logins' together (store/counter-batch.ts), the aggregates still summed per row.
 * The same rows as before: each assessment and its signals once, each aggregate counted exactly.
 * Real PostgreSQL and Redis; statements counted on node-postgres.
 */
import test from 'ava';
import pg from 'pg';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import type { Decision } from '../../gateway/policy/decide.ts';
import { FraudService } from '../../gateway/translation/fraud-service.ts';
import { signals, stores } from './fixtures.ts';

const writes: string[] = [];
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | null)?.text ?? '');
  if (/\b(insert into|update) risk_(signals|assessments|aggregates)\b/.test(text)) writes.push(text);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const allow: Decision = { kind: 'allow', requiredAcr: 'eidas2', reasons: [] };
const assessment = (score: number) => ({ score, factors: ['new_device'], stages: [] });

async function service() {
  const s = await stores();
  const fraud = new FraudService({
    redis: s.redis,
    pool: s.pool,
    audit: new AuditLog(s.pool),
    logger: pino({ level: 'silent' }),
    hashKey: 'k',
    interactionTtl: 600,
  });
  return { s, fraud };
}

async function aggregate(pool: pg.Pool, metric: string, key: string): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(
    'select count::text as count from risk_aggregates where day = current_date and metric = $1 and key = $2',
    [metric, key],
  );
  return Number(rows[0]?.count ?? 0);
}

test.serial('one login: its assessment, signals and aggregates in one statement', async (t) => {
  const { s, fraud } = await service();
  t.teardown(() => s.close());
  const login = signals({ idp: 'idp-one' });
  writes.length = 0;
  await fraud.record(login, assessment(0.25), allow);
  t.is(writes.length, 1, `statements writing the record and the aggregates: ${writes.length}`);
  const { rows } = await s.pool.query(
    'select a.client_id, a.account_id, a.score, a.decision, a.assessment->>$2 as idp, s.features ? $3 as has_features from risk_assessments a join risk_signals s using (login_id) where login_id = $1',
    [login.loginId, 'idp', 'features'],
  );
  t.deepEqual(rows, [
    { client_id: 'rp', account_id: 'acct-1', score: 0.25, decision: 'allow', idp: 'idp-one', has_features: true },
  ]);
  t.is(await aggregate(s.pool, 'idp', 'idp-one'), 1);
});

test.serial(
  '20 concurrent logins: every record written once and every aggregate exact, in far fewer statements',
  async (t) => {
    const { s, fraud } = await service();
    t.teardown(() => s.close());
    const before = await aggregate(s.pool, 'decision', 'allow');
    const factorBefore = await aggregate(s.pool, 'factor', 'new_device');
    const logins = Array.from({ length: 20 }, () => signals({ idp: 'idp-many' }));
    writes.length = 0;
    await Promise.all(logins.map((login, i) => fraud.record(login, assessment(i / 100), allow)));
    t.true(writes.length <= 3, `statements for 20 concurrent logins: ${writes.length}`);
    const { rows } = await s.pool.query<{ n: string }>(
      'select count(*)::text as n from risk_assessments a join risk_signals s using (login_id) where login_id = any($1)',
      [logins.map((l) => l.loginId)],
    );
    t.is(Number(rows[0]!.n), 20);
    t.is(await aggregate(s.pool, 'idp', 'idp-many'), 20);
    t.is(await aggregate(s.pool, 'decision', 'allow'), before + 20);
    t.is(await aggregate(s.pool, 'factor', 'new_device'), factorBefore + 20);
  },
);

test.serial('a login recorded twice keeps its last assessment (a step-up decides again)', async (t) => {
  const { s, fraud } = await service();
  t.teardown(() => s.close());
  const login = signals();
  await Promise.all([fraud.record(login, assessment(0.1), allow), fraud.record(login, assessment(0.9), allow)]);
  const { rows } = await s.pool.query('select score from risk_assessments where login_id = $1', [login.loginId]);
  t.deepEqual(rows, [{ score: 0.9 }]);
});
