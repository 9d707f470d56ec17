/**
 * Counters of the fraud pipeline and policy (issue #5), on the gateway's metrics registry: every stage
 * outcome, every degradation and every decision is counted. Shown by GET /metrics (with the gateway's
 * own metrics) and, for operators holding the admin token, by GET /admin/metrics.
 *
 * | name given to `inc`       | exposed as                                                  |
 * |---------------------------|-------------------------------------------------------------|
 * | risk_stage_total          | gateway_risk_stage_total{stage,outcome,degraded}            |
 * | policy_decision_total     | gateway_policy_decisions_total{kind,level}                  |
 * | review_decision_total     | gateway_review_decisions_total{verdict}                     |
 * | risk_late_verdict_total   | gateway_risk_late_verdicts_total{suspicious}                |
 * | anything else `x`         | gateway_x{...its labels}                                    |
 */
import { MetricsRegistry, type Counter, type Labels } from '../observability/metrics.ts';

const KNOWN: Readonly<Record<string, { name: string; help: string }>> = {
  risk_stage_total: { name: 'gateway_risk_stage_total', help: 'Fraud pipeline stage results by stage, outcome and whether the stage degraded.' },
  policy_decision_total: { name: 'gateway_policy_decisions_total', help: 'Policy decisions by kind and step-up level.' },
  review_decision_total: { name: 'gateway_review_decisions_total', help: 'Manual review decisions by verdict.' },
  risk_late_verdict_total: { name: 'gateway_risk_late_verdicts_total', help: 'Late (asynchronous) risk verdicts by suspicion.' },
};

export class RiskMetrics {
  readonly registry: MetricsRegistry;
  readonly #counters = new Map<string, Counter>();

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
  }

  /** Adds one (or `n`) to a counter named with labels, e.g. `inc('risk_stage_total', { stage: 'device', outcome: 'late', degraded: false })`. */
  inc(name: string, labels: Labels = {}, n = 1): void {
    const key = `${name}\u0000${Object.keys(labels).join(',')}`;
    let counter = this.#counters.get(key);
    if (!counter) {
      const known = KNOWN[name];
      counter = this.registry.counter(known?.name ?? `gateway_${name}`, known?.help ?? name, Object.keys(labels));
      this.#counters.set(key, counter);
    }
    counter.inc(labels, n);
  }

  /** Prometheus text exposition of these counters. */
  text(): string {
    return this.registry.text();
  }
}
