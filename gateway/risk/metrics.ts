/**
 * Metrics of the fraud pipeline and policy (issue #5), on the gateway's prom-client registry: every stage
 * outcome, every degradation, every decision is counted, and each stage's time is a histogram next to its
 * budget. Shown by GET /metrics (operations listener, `metrics` role) and by GET /admin/metrics.
 *
 * | name given to `inc`       | exposed as                                                  |
 * |---------------------------|-------------------------------------------------------------|
 * | risk_stage_total          | gateway_risk_stage_total{stage,outcome,degraded}            |
 * | policy_decision_total     | gateway_policy_decisions_total{kind,level}                  |
 * | review_decision_total     | gateway_review_decisions_total{verdict}                     |
 * | risk_late_verdict_total   | gateway_risk_late_verdicts_total{suspicious}                |
 * | anything else `x`         | gateway_x{...its labels}                                    |
 *
 * | histogram / gauge                                  | what                                          |
 * |----------------------------------------------------|-----------------------------------------------|
 * | gateway_risk_stage_duration_seconds{stage,outcome} | each stage's time, its degraded fallback included |
 * | gateway_risk_stage_budget_seconds{stage}           | each stage's time budget (compare the histogram's buckets with it) |
 */
import type { Registry } from 'prom-client';
import { declareCounter, declareGauge, declareHistogram, FAST_BUCKETS, newRegistry } from '../observability/metrics.ts';

type LabelValue = string | number | boolean;

const KNOWN: Readonly<Record<string, { name: string; help: string }>> = {
  risk_stage_total: {
    name: 'gateway_risk_stage_total',
    help: 'Fraud pipeline stage results by stage, outcome and whether the stage degraded.',
  },
  policy_decision_total: {
    name: 'gateway_policy_decisions_total',
    help: 'Policy decisions by kind and step-up level.',
  },
  review_decision_total: { name: 'gateway_review_decisions_total', help: 'Manual review decisions by verdict.' },
  risk_late_verdict_total: {
    name: 'gateway_risk_late_verdicts_total',
    help: 'Late (asynchronous) risk verdicts by suspicion.',
  },
};

export class RiskMetrics {
  readonly registry: Registry;

  /** @param registry the gateway's registry (a registry of its own, without process metrics, when absent) */
  constructor(registry?: Registry) {
    this.registry = registry ?? newRegistry({ processMetrics: false });
  }

  /** Adds one (or `n`) to a counter named with labels, e.g. `inc('risk_stage_total', { stage: 'device', outcome: 'late', degraded: false })`. */
  inc(name: string, labels: Readonly<Record<string, LabelValue>> = {}, n = 1): void {
    const known = KNOWN[name];
    const counter = declareCounter(
      this.registry,
      known?.name ?? `gateway_${name}`,
      known?.help ?? name,
      Object.keys(labels),
    );
    counter.inc(Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])), n);
  }

  /** Observes one stage's time (ms, as the pipeline reports it). */
  stageTime(stage: string, outcome: string, ms: number): void {
    declareHistogram(
      this.registry,
      'gateway_risk_stage_duration_seconds',
      'Time of each fraud pipeline stage (its degraded fallback included), by stage and outcome.',
      ['stage', 'outcome'],
      FAST_BUCKETS,
    ).observe({ stage, outcome }, ms / 1000);
  }

  /** Publishes each stage's time budget (ms). */
  budgets(budgetsMs: Readonly<Record<string, number>>): void {
    const gauge = declareGauge(
      this.registry,
      'gateway_risk_stage_budget_seconds',
      'The time budget of each fraud pipeline stage.',
      ['stage'],
      'max',
    );
    for (const [stage, ms] of Object.entries(budgetsMs)) gauge.set({ stage }, ms / 1000);
  }

  /** Prometheus text exposition of this registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
