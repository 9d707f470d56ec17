/**
 * A stage's budget is a deadline on the monotonic clock (performance.now), not only a timer in a race: after a
 * process pause (GC, a stalled event loop) a stage's result can settle before the overdue timer fires and win
 * the race. A result that arrives past the deadline counts as late: the stage's degraded mode runs, and the
 * failure is audited as RISK_STAGE_LATE. The same for a stage that blocks before its first await. Real
 * PostgreSQL for the audit log.
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { RiskMetrics } from '../../gateway/risk/metrics.ts';
import { RiskPipeline, type RiskStage } from '../../gateway/risk/pipeline.ts';
import { stageFailureReporter } from '../../gateway/risk/stage-failures.ts';
import { signals, stores } from './fixtures.ts';

const BUDGET_MS = 20;

/** The event loop stalls (a long GC, a blocking call elsewhere): nothing else runs meanwhile, timers included. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const pausedAfterStart: RiskStage = {
  name: 'paused',
  budgetMs: BUDGET_MS,
  run: async () => {
    await Promise.resolve(); // the race and its timer are set up
    stall(BUDGET_MS * 5); // the timer is overdue, but the stage settles first (a microtask beats a timer)
    return { score: 0, factors: ['paused:normal_path'] };
  },
  degrade: async () => ({ score: 0.2, factors: ['paused:fallback'], fallback: 'stand_in' }),
};

const blockingBeforeAwait: RiskStage = {
  name: 'blocking',
  budgetMs: BUDGET_MS,
  run: () => {
    stall(BUDGET_MS * 5); // before the stage returns its promise
    return Promise.resolve({ score: 0, factors: ['blocking:normal_path'] });
  },
  degrade: async () => ({ score: 0, factors: [], fallback: 'accept' }),
};

test('a stage result that arrives past its deadline counts as late: degraded mode, audited RISK_STAGE_LATE', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const audit = new AuditLog(s.pool);
  const pipeline = new RiskPipeline([pausedAfterStart, blockingBeforeAwait], {
    onFailure: stageFailureReporter({ audit, logger: pino({ level: 'silent' }), metrics: new RiskMetrics() }),
  });
  const login = signals();
  const a = await pipeline.assess(login);
  t.like(a.stages[0], { name: 'paused', outcome: 'late', degraded: true, fallback: 'stand_in', score: 0.2 });
  t.false(a.factors.includes('paused:normal_path'), 'the late answer contributes nothing');
  t.true(a.factors.includes('paused:late') && a.factors.includes('paused:fallback'));
  t.like(a.stages[1], { name: 'blocking', outcome: 'late', degraded: true, fallback: 'accept' });
  t.false(a.factors.includes('blocking:normal_path'));
  const trail = await audit.forSession(login.loginId);
  t.deepEqual(
    trail.map((r) => [r.errorCode, r.details.stage, r.details.reason]),
    [
      ['RISK_STAGE_LATE', 'paused', 'late'],
      ['RISK_STAGE_LATE', 'blocking', 'late'],
    ],
  );
});

test('a stage that answers within its budget still counts ok', async (t) => {
  const pipeline = new RiskPipeline([
    {
      name: 'quick',
      budgetMs: 10_000,
      run: async () => ({ score: 0, factors: ['quick:normal_path'] }),
      degrade: async () => ({ score: 0, factors: [] }),
    },
  ]);
  const a = await pipeline.assess(signals());
  t.like(a.stages[0], { name: 'quick', outcome: 'ok', degraded: false });
  t.true(a.factors.includes('quick:normal_path'));
});
