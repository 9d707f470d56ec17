/**
 * Issue #15, fraud engine slow: a stage that calls an external fraud engine (a test-built HTTP server that
 * really holds its answers) makes whole assessments late; once the window's p99 is over `enterP99Ms` the
 * whole pipeline runs rule-only (every stage's degraded mode, the engine no longer called except by probes),
 * audited as a degradation (RISK_PIPELINE_SLOW) with a gauge; once the probes are fast again it leaves
 * rule-only, audited too. Real PostgreSQL for the audit log; no duration is asserted.
 */
import { createServer, type ServerResponse } from 'node:http';
import test from 'ava';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { AuditLog } from '../../gateway/audit/audit-log.ts';
import { parseRiskOverload } from '../../gateway/config/risk-overload.ts';
import { PipelineOverload } from '../../gateway/risk/overload.ts';
import { RiskPipeline, type RiskStage } from '../../gateway/risk/pipeline.ts';
import type { RiskSignals } from '../../gateway/risk/types.ts';
import { migratedPool } from '../gateway/store/fixtures.ts';

test('a slow fraud engine sends the whole pipeline rule-only, audited; fast probes bring it back', async (t) => {
  // the external engine: answers at once when fast, holds every answer while slow (until the caller gives up)
  let slow = true;
  let calls = 0;
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    calls += 1;
    if (slow) held.push(res);
    else res.end(JSON.stringify({ score: 0.1 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  t.teardown(() => {
    held.forEach((r) => r.destroy());
    server.closeAllConnections();
    server.close();
  });
  const engine: RiskStage = {
    name: 'engine',
    budgetMs: 700, // late answers are > 700 ms by construction: above the 500 ms threshold, whatever the machine
    async run(_signals, _context, signal) {
      const answer = (await (await fetch(`http://127.0.0.1:${port}/score`, { signal })).json()) as { score: number };
      return { score: answer.score, factors: ['engine:scored'] };
    },
    async degrade() {
      return { score: 0, factors: ['engine:rules'], fallback: 'rules' };
    },
  };
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const audit = new AuditLog(pool);
  const registry = new Registry();
  const overload = new PipelineOverload(
    parseRiskOverload({ recoverAfterMs: 0, windowSize: 3, minSamples: 3, probeEvery: 2 }, 'risk.overload'),
    { logger: pino({ level: 'silent' }), registry, audit },
  );
  const pipeline = new RiskPipeline([engine], { overload });
  const signals = (i: number): RiskSignals =>
    ({ loginId: `login-${i}`, clientId: 'rp', idp: 'idp', accountId: 'a', ip: '127.0.0.1' }) as RiskSignals;

  for (let i = 0; i < 3; i += 1) {
    const late = await pipeline.assess(signals(i));
    t.is(late.stages[0]!.outcome, 'late');
  }
  t.true(overload.ruleOnly, 'three late assessments: p99 over 500 ms');
  await overload.recorded;
  t.regex(await registry.metrics(), /gateway_risk_rule_only 1/);

  // rule-only: the engine is not called; the degraded mode answers, the assessment says so
  const before = calls;
  const ruleOnly = await pipeline.assess(signals(3));
  t.is(calls, before);
  t.deepEqual(ruleOnly.factors, ['pipeline:rule_only', 'engine:rules']);
  t.like(ruleOnly.stages[0], { name: 'engine', degraded: true, fallback: 'rules' });

  // the engine is fast again: the probes (one assessment in two) measure it, and the normal path resumes
  slow = false;
  held.splice(0).forEach((r) => r.destroy());
  let rounds = 0;
  while (overload.ruleOnly && rounds < 50) {
    await pipeline.assess(signals(10 + rounds));
    rounds += 1;
  }
  t.false(overload.ruleOnly, 'fast probes end rule-only mode');
  await overload.recorded;
  const normal = await pipeline.assess(signals(99));
  t.deepEqual(normal.factors, ['engine:scored']);
  t.regex(await registry.metrics(), /gateway_risk_rule_only 0/);

  const { rows } = await pool.query<{ from_state: string; to_state: string; error_code: string | null }>(
    "select from_state, to_state, error_code from audit_log where session_id = 'risk:pipeline' order by seq",
  );
  t.deepEqual(rows, [
    { from_state: 'NORMAL', to_state: 'RULE_ONLY', error_code: 'RISK_PIPELINE_SLOW' },
    { from_state: 'RULE_ONLY', to_state: 'NORMAL', error_code: null },
  ]);
});

/** An overload meter on a clock the test moves, with the default thresholds (500 ms in, 200 ms out). */
function meter(config: Record<string, unknown> = {}) {
  let clock = 0;
  const overload = new PipelineOverload(parseRiskOverload(config, 'risk.overload'), {
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    audit: { append: async () => undefined },
    now: () => clock,
  });
  return { overload, advance: (ms: number) => (clock += ms) };
}

test('one slow assessment among fast ones does not send the pipeline rule-only', (t) => {
  const { overload, advance } = meter();
  for (let i = 0; i < 30; i += 1) {
    advance(100);
    overload.record(i === 10 ? 5_000 : 20); // one request an attacker made slow
  }
  t.false(overload.ruleOnly, 'the p99 of 30 samples is the slowest one, but one is not enough');
  for (let i = 0; i < 2; i += 1) {
    advance(100);
    overload.record(5_000);
  }
  t.true(overload.ruleOnly, 'three slow ones are');
});

test('an instance with few logins leaves rule-only once its sparse probes are fast', (t) => {
  const { overload, advance } = meter({ recoverAfterMs: 60_000 });
  for (let i = 0; i < 20; i += 1) {
    advance(100);
    overload.record(5_000);
  }
  t.true(overload.ruleOnly);
  // one login every two minutes: fewer than the 20 samples of a 60 s window, ever; each is a probe (a second since
  // the last one) and fast
  let probes = 0;
  for (let i = 0; i < 10 && overload.ruleOnly; i += 1) {
    advance(120_000);
    if (overload.shouldRunRuleOnly()) continue;
    probes += 1;
    overload.record(20);
  }
  t.false(overload.ruleOnly, 'the normal path resumed');
  t.is(probes, 5, 'after five fast probes in a row');
});

test('two slow probes among the last five keep rule-only on; one does not', (t) => {
  const { overload, advance } = meter({ recoverAfterMs: 0 });
  for (let i = 0; i < 20; i += 1) {
    advance(100);
    overload.record(5_000);
  }
  for (const ms of [20, 900, 20, 900, 20]) {
    advance(2_000);
    t.false(overload.shouldRunRuleOnly(), 'a probe: a second since the last');
    overload.record(ms);
  }
  t.true(overload.ruleOnly, 'two slow probes of the last five');
  advance(2_000);
  overload.shouldRunRuleOnly();
  overload.record(20);
  t.true(overload.ruleOnly, 'still two slow among the last five');
  advance(2_000);
  overload.shouldRunRuleOnly();
  overload.record(20);
  t.false(overload.ruleOnly, 'one slow probe (an attacker’s) among the last five does not hold it on');
});
