/**
 * No silent fallback on the risk path (issue #11 item 6): a stage that throws or is late enters its declared
 * degraded mode, and the failure is logged, audited on the login's session with a registered code, and
 * counted; a degraded mode that fails too is reported as well; an audit record that cannot be written fails
 * the assessment (fail closed). Real PostgreSQL for the audit log.
 */
import test from 'ava';
import pino from 'pino';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { errorSpec } from '../../gateway/error-registry.ts';
import { RiskMetrics } from '../../gateway/risk/metrics.ts';
import { RiskPipeline, type RiskStage } from '../../gateway/risk/pipeline.ts';
import { stageFailureReporter } from '../../gateway/risk/stage-failures.ts';
import { signals, sleep, stores } from './fixtures.ts';

const throwing: RiskStage = {
  name: 'throws',
  budgetMs: 10_000,
  run: async () => Promise.reject(new Error('store down')),
  degrade: async () => ({ score: 0.3, factors: ['throws:fallback_signal'], fallback: 'stand_in' }),
};
const late: RiskStage = {
  name: 'late',
  budgetMs: 20,
  run: async (_s, _c, signal) => {
    await sleep(300);
    signal.throwIfAborted();
    return { score: 0, factors: [] };
  },
  degrade: async () => ({ score: 0, factors: [], fallback: 'accept' }),
};
const doubleFault: RiskStage = {
  name: 'double',
  budgetMs: 10_000,
  run: async () => Promise.reject(new Error('boom')),
  degrade: async () => Promise.reject(new Error('boom again')),
};

test('a throwing stage runs its degraded mode, and the failure is audited with a registered code and counted', async (t) => {
  const s = await stores();
  t.teardown(() => s.close());
  const audit = new AuditLog(s.pool);
  const metrics = new RiskMetrics();
  const pipeline = new RiskPipeline([throwing, late, doubleFault], {
    onFailure: stageFailureReporter({ audit, logger: pino({ level: 'silent' }), metrics }),
  });
  const login = signals();
  const a = await pipeline.assess(login);
  t.like(a.stages[0], { name: 'throws', outcome: 'error', degraded: true, fallback: 'stand_in', score: 0.3 });
  t.true(a.factors.includes('throws:fallback_signal'), 'the degraded mode contributed');
  t.like(a.stages[1], { name: 'late', outcome: 'late', degraded: true, fallback: 'accept' });
  t.like(a.stages[2], { name: 'double', outcome: 'error', degraded: true });

  const trail = await audit.forSession(login.loginId);
  t.deepEqual(
    trail.map((r) => [r.to, r.component, r.errorCode, r.details.stage, r.details.reason]),
    [
      ['RISK_STAGE_DEGRADED', 'risk', 'RISK_STAGE_FAILED', 'throws', 'error'],
      ['RISK_STAGE_DEGRADED', 'risk', 'RISK_STAGE_LATE', 'late', 'late'],
      ['RISK_STAGE_DEGRADED', 'risk', 'RISK_FALLBACK_FAILED', 'double', 'fallback_error'],
    ],
  );
  for (const record of trail)
    t.notThrows(() => errorSpec(record.errorCode as never), `${record.errorCode} is registered`);
  const text = await metrics.text();
  t.regex(text, /gateway_risk_stage_failures_total\{stage="throws",reason="error"\} 1\b/);
  t.regex(text, /gateway_risk_stage_failures_total\{stage="late",reason="late"\} 1\b/);
  t.regex(text, /gateway_risk_stage_failures_total\{stage="double",reason="fallback_error"\} 1\b/);
});

test('a stage failure whose audit record cannot be written fails the assessment (never a silent pass)', async (t) => {
  const refusing = {
    append: async () => Promise.reject(Object.assign(new Error('audit down'), { code: 'AUDIT_UNAVAILABLE' })),
  };
  const pipeline = new RiskPipeline([throwing], {
    onFailure: stageFailureReporter({ audit: refusing, logger: pino({ level: 'silent' }), metrics: new RiskMetrics() }),
  });
  await t.throwsAsync(pipeline.assess(signals()), { message: 'audit down' });
});
