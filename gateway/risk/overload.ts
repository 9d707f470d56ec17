/**
 * The risk pipeline under a slow fraud engine (issue #15): rule-only mode.
 *
 * - Every whole assessment that ran the normal path reports its duration; the window is the last
 *   `windowSize` of them no older than `windowMs`.
 * - With at least `minSamples` in the window, a p99 above `enterP99Ms` and at least `ENTER_SLOW_SAMPLES` (3, or
 *   `minSamples` if fewer) samples above it, the pipeline goes rule-only: every stage answers with its own degraded
 *   mode (pipeline.ts), nothing waits on the slow engine. One slow assessment is not enough (with fewer than 100
 *   samples the p99 is the slowest one): degraded modes score less, and one request an attacker makes slow must
 *   not turn them on. The window starts afresh.
 * - In rule-only mode one assessment in `probeEvery`, and any assessment a second or more after the last probe,
 *   still runs the normal path (bounded by the stages' budgets): those are the samples that say whether the engine
 *   recovered. Once fewer than 2 in 5 (at least 1) of the last `RECOVERY_PROBES` (5, or `minSamples` if fewer) probes, however long they took to come, were at or above `exitP99Ms`, and stayed so for
 *   `recoverAfterMs`, the normal path resumes: an instance with few logins leaves rule-only too, and one probe an
 *   attacker makes slow does not hold rule-only on.
 * - Entering is a degradation: logged (warn), audited on the session `risk:pipeline` with the code
 *   `RISK_PIPELINE_SLOW` (`NORMAL` → `RULE_ONLY`); leaving is logged and audited (`RULE_ONLY` → `NORMAL`);
 *   `gateway_risk_rule_only` is 1 meanwhile, `gateway_risk_pipeline_p99_seconds` the window's p99.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditRecord } from '../audit/audit-log.ts';
import type { RiskOverloadConfig } from '../config/risk-overload.ts';
import { declareGauge } from '../observability/metrics.ts';
import { SlidingPercentile } from './sliding-percentile.ts';

export interface OverloadDeps {
  logger: Logger;
  registry: Registry;
  audit: { append(record: AuditRecord): Promise<unknown> };
  now?: () => number;
}

/** Samples above `enterP99Ms` needed to go rule-only (at most `minSamples`). */
export const ENTER_SLOW_SAMPLES = 3;
/** The last probes that decide whether rule-only ends (at most `minSamples`). */
export const RECOVERY_PROBES = 5;
/** The share of slow probes (≥ `exitP99Ms`) among them that keeps rule-only on: 2 of 5 (at least 1). */
const RECOVERY_SLOW_SHARE = 0.4;
/** In rule-only mode, an assessment this long after the last probe is a probe too. */
const PROBE_INTERVAL_MS = 1_000;

export class PipelineOverload {
  readonly #config: RiskOverloadConfig;
  readonly #deps: OverloadDeps;
  readonly #now: () => number;
  readonly #samples: SlidingPercentile;
  #ruleOnly = false;
  #calls = 0;
  #fastSince: number | undefined;
  #lastProbeAt = Number.NEGATIVE_INFINITY;
  /** The durations of the last probes of rule-only mode, newest last. */
  #probes: number[] = [];
  /** Settles when the mode last changed was recorded in the audit log (tests, shutdown). */
  recorded: Promise<unknown> = Promise.resolve();

  constructor(config: RiskOverloadConfig, deps: OverloadDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
    this.#samples = new SlidingPercentile(config.windowSize);
    declareGauge(deps.registry, 'gateway_risk_rule_only', '1 while the risk pipeline runs rule-only', [], 'max', (g) =>
      g.set(this.#ruleOnly ? 1 : 0),
    );
    declareGauge(
      deps.registry,
      'gateway_risk_pipeline_p99_seconds',
      'p99 of whole risk assessments over the window (normal path only)',
      [],
      'max',
      (g) => g.set(this.#p99() / 1000),
    );
  }

  get ruleOnly(): boolean {
    return this.#ruleOnly;
  }

  /** Whether this assessment runs rule-only (false for the probes of rule-only mode). */
  shouldRunRuleOnly(): boolean {
    if (!this.#config.enabled || !this.#ruleOnly) return false;
    this.#calls += 1;
    const now = this.#now();
    if (this.#calls % this.#config.probeEvery !== 0 && now - this.#lastProbeAt < PROBE_INTERVAL_MS) return true;
    this.#lastProbeAt = now;
    return false;
  }

  /** The duration of an assessment that ran the normal path. */
  record(ms: number): void {
    // (a duration is a difference of clock readings: never NaN; a sample that is not a number is no duration)
    if (!this.#config.enabled || !Number.isFinite(ms)) return;
    const now = this.#now();
    const c = this.#config;
    this.#samples.add(now, ms); // the oldest dropped beyond windowSize
    this.#samples.dropBefore(now - c.windowMs);
    if (this.#ruleOnly) {
      this.#recordProbe(now, ms); // (the window above is only the gauge's, meanwhile)
      return;
    }
    if (this.#samples.size < c.minSamples) return;
    const p99 = this.#p99();
    const slowNeeded = Math.min(ENTER_SLOW_SAMPLES, c.minSamples);
    if (p99 > c.enterP99Ms && this.#samples.largest(slowNeeded) > c.enterP99Ms) this.#change(true, p99);
  }

  /** A probe of rule-only mode: the normal path resumes after enough fast ones, however sparse. */
  #recordProbe(now: number, ms: number): void {
    const c = this.#config;
    this.#probes.push(ms);
    const needed = Math.min(RECOVERY_PROBES, c.minSamples);
    if (this.#probes.length > needed) this.#probes.shift();
    // a quorum of slow probes keeps it on: one probe an attacker made slow (200 ms is enough) does not
    const slow = this.#probes.filter((p) => p >= c.exitP99Ms).length;
    if (slow >= Math.max(1, Math.ceil(RECOVERY_SLOW_SHARE * needed))) {
      this.#fastSince = undefined;
      return;
    }
    this.#fastSince ??= now;
    if (this.#probes.length < needed) return;
    if (now - this.#fastSince >= c.recoverAfterMs) this.#change(false, Math.max(...this.#probes));
  }

  #p99(): number {
    return this.#samples.quantile(0.99);
  }

  #change(ruleOnly: boolean, p99: number): void {
    this.#ruleOnly = ruleOnly;
    this.#samples.clear();
    this.#probes = [];
    this.#fastSince = undefined;
    this.#calls = 0;
    this.#lastProbeAt = this.#now();
    const c = this.#config;
    const details = { p99Ms: Math.round(p99), enterP99Ms: c.enterP99Ms, exitP99Ms: c.exitP99Ms };
    if (ruleOnly)
      this.#deps.logger.warn({ code: 'RISK_PIPELINE_SLOW', ...details }, 'risk pipeline slow: rule-only mode');
    else this.#deps.logger.info(details, 'risk pipeline fast again: normal mode');
    this.recorded = this.#deps.audit
      .append({
        sessionId: 'risk:pipeline',
        from: ruleOnly ? 'NORMAL' : 'RULE_ONLY',
        to: ruleOnly ? 'RULE_ONLY' : 'NORMAL',
        component: 'risk',
        ...(ruleOnly ? { errorCode: 'RISK_PIPELINE_SLOW' } : {}),
        details,
      })
      .catch((err: unknown) => this.#deps.logger.error({ err }, 'audit of a risk pipeline mode change failed'));
  }
}
