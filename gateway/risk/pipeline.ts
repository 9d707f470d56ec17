/**
 * The risk pipeline at the translation point (FRAUD_CHECK). Stages run in the order of the table in
 * `stages.ts`, each under its time budget:
 *
 * - a stage that answers in time contributes its score and factors (`ok` / `suspicious`);
 * - a stage that is late or throws is aborted and its own degraded mode runs instead (`fallback`), under
 *   the same budget; late is measured on the monotonic clock: a result that settles past the deadline (after a
 *   GC or event-loop pause it can beat the overdue timer) is late, never `ok`; the result says `degraded: true`, the outcome (`late`/`error`) and what ran instead;
 * - a degraded mode that fails too is recorded as `error` with no contribution: it never blocks the login
 *   silently, and never passes silently either (factor `<stage>:error`);
 * - scores combine as a noisy-OR, 1 − Π(1 − sᵢ): any one strong signal is enough, weak ones add up;
 * - every stage result (outcome, ms, degraded) is reported to `onStage` (logs, metrics);
 * - every failure (late, error, degraded mode failed) is reported with its cause to `onFailure`, awaited
 *   (stage-failures.ts: logged, audited with a code, counted): none passes silently;
 * - while the pipeline is slow (`overload`, overload.ts) it runs rule-only: every stage's degraded mode, no
 *   normal path, each stage `degraded` with the factor `pipeline:rule_only`; the assessments that ran the
 *   normal path report their duration to it;
 * - a stage whose Redis work needs only the signals (device trust's read of the counts, correlation's windows)
 *   begins it when the assessment begins (`begin`), before the first stage runs: the work of all of them
 *   leaves in one round trip (one socket write per turn, store/redis.ts; issue #14: a round trip per stage before). Each stage's
 *   `run` then awaits its own part under its own budget, measured from the moment it runs, as before: the budget
 *   bounds how long the login waits for that stage. A failure of the work begun (Redis unreachable) is met by
 *   `run` (`error`, then the degraded mode), as if `run` had sent it; in rule-only mode nothing is begun.
 */
import {
  RULE_ONLY_FACTOR,
  type RiskAssessment,
  type RiskSignals,
  type StageOutcome,
  type StageResult,
} from './types.ts';

export interface StageOutput {
  score: number;
  factors: string[];
  warnings?: string[];
  /** Overrides the outcome (e.g. `no_signal`, `queued`). */
  outcome?: StageOutcome;
  /** Marks a normal-path answer as degraded (e.g. no behavioural signal arrived: the fingerprint answered). */
  degraded?: boolean;
  fallback?: string;
}

/** What stages share during one assessment (e.g. the account's history, read once by device trust). */
export type StageContext = Map<string, unknown>;

export interface RiskStage {
  readonly name: string;
  readonly budgetMs: number;
  /**
   * Optional: begins, when the assessment begins, the work of `run` that needs only the signals (its Redis
   * commands then leave with the other stages'), kept in `context` with {@link beginWork} for `run` to take with
   * {@link takeBegun}. Called before any stage runs, in stage order; `run` must still work when nothing was begun.
   */
  begin?(signals: RiskSignals, context: StageContext): void;
  /** The normal path. Must honour `signal` (stop work when aborted). */
  run(signals: RiskSignals, context: StageContext, signal: AbortSignal): Promise<StageOutput>;
  /** The degraded mode, run when `run` is late or fails. Every stage declares one: none is skipped silently. */
  degrade(signals: RiskSignals, context: StageContext, reason: 'late' | 'error' | 'rule_only'): Promise<StageOutput>;
}

export interface PipelineOptions {
  /** Per-stage budget overrides (ms), by stage name. */
  budgets?: Partial<Record<string, number>>;
  onStage?: (result: StageResult, signals: RiskSignals) => void;
  /** Told of each failure before the assessment goes on; a rejection (the audit log refused it) fails the assessment. */
  onFailure?: (failure: StageFailure, signals: RiskSignals) => Promise<void>;
  /** Rule-only mode while the pipeline is slow (overload.ts). */
  overload?: { shouldRunRuleOnly(): boolean; record(ms: number): void };
}

/** A stage that was late or threw (`late`, `error`), or whose degraded mode failed as well (`fallback_error`). */
export interface StageFailure {
  stage: string;
  reason: 'late' | 'error' | 'fallback_error';
  /** What was thrown, when something was. */
  cause?: unknown;
  /** What ran instead, when the degraded mode answered. */
  fallback?: string;
}

const BEGUN = (name: string) => `begun:${name}`;

/**
 * Starts `work` now (synchronously: its Redis commands are queued in this turn of the event loop) and keeps it
 * in `context` for the stage `name`. Its failure is kept too, unhandled by no one until the stage takes it.
 */
export function beginWork<T>(context: StageContext, name: string, work: () => Promise<T>): void {
  let promise: Promise<T>;
  try {
    promise = work();
  } catch (error) {
    promise = Promise.reject(error);
  }
  promise.catch(() => undefined); // taken (and its failure met) by the stage's run; an assessment may end before
  context.set(BEGUN(name), promise);
}

/** The work {@link beginWork} began for the stage `name` (once), or undefined when none was begun. */
export function takeBegun<T>(context: StageContext | undefined, name: string): Promise<T> | undefined {
  const begun = context?.get(BEGUN(name)) as Promise<T> | undefined;
  context?.delete(BEGUN(name));
  return begun;
}

/**
 * Runs `start` under a budget of `ms`: its value, or `'late'`. The budget is a deadline on the monotonic clock
 * (performance.now), taken before `start` runs: a result that settles past it is late too, though it won the
 * race against the timer (after a process pause — GC, a stalled event loop — the overdue timer fires only after
 * the settled promise's continuation), and so is a stage that blocked before returning its promise.
 */
async function within<T>(start: () => Promise<T>, ms: number): Promise<T | 'late'> {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    const answer = await Promise.race([start(), late]);
    return performance.now() > deadline ? 'late' : answer;
  } finally {
    clearTimeout(timer);
  }
}

export class RiskPipeline {
  readonly #stages: readonly RiskStage[];
  readonly #options: PipelineOptions;

  constructor(stages: readonly RiskStage[] = [], options: PipelineOptions = {}) {
    this.#stages = stages;
    this.#options = options;
  }

  /** The stage names, in order. */
  get stageNames(): string[] {
    return this.#stages.map((s) => s.name);
  }

  /**
   * Runs every stage and combines them into one assessment. Never throws for a stage's sake.
   *
   * @example
   * const assessment = await pipeline.assess({ loginId, clientId, idp, accountId, ip, userAgent, acr });
   * assessment.stages // [{ name: 'behaviour', outcome: 'no_signal', ms: 0.4, degraded: true, fallback: 'device_fingerprint' }, ...]
   */
  async assess(signals: RiskSignals): Promise<RiskAssessment> {
    const overload = this.#options.overload;
    if (overload?.shouldRunRuleOnly()) return this.#ruleOnly(signals);
    const began = performance.now();
    const assessment = await this.#normal(signals);
    overload?.record(performance.now() - began);
    return assessment;
  }

  /** Every stage's degraded mode, under its budget; a degraded mode that fails is reported as such. */
  async #ruleOnly(signals: RiskSignals): Promise<RiskAssessment> {
    const results: StageResult[] = [];
    const factors: string[] = [RULE_ONLY_FACTOR];
    const warnings: string[] = [];
    const context: StageContext = new Map();
    let keep = 1;
    for (const stage of this.#stages) {
      const budget = this.#options.budgets?.[stage.name] ?? stage.budgetMs;
      const started = performance.now();
      const result: StageResult = { name: stage.name, outcome: 'skipped', ms: 0, degraded: true, score: 0 };
      try {
        const output = await within(() => stage.degrade(signals, context, 'rule_only'), budget);
        if (output === 'late') throw new Error(`degraded mode of ${stage.name} late (budget ${budget} ms)`);
        result.score = output.score;
        if (output.outcome) result.outcome = output.outcome;
        if (output.fallback) result.fallback = output.fallback;
        factors.push(...output.factors);
        warnings.push(...(output.warnings ?? []));
        keep *= 1 - Math.min(1, Math.max(0, output.score));
      } catch (error) {
        result.outcome = 'error';
        factors.push(`${stage.name}:fallback_error`);
        await this.#options.onFailure?.({ stage: stage.name, reason: 'fallback_error', cause: error }, signals);
      }
      result.ms = Math.round((performance.now() - started) * 1000) / 1000;
      results.push(result);
      this.#options.onStage?.(result, signals);
    }
    const assessment: RiskAssessment = { score: 1 - keep, factors, stages: results, warnings };
    const tier = context.get('tier');
    if (typeof tier === 'number') assessment.tier = tier;
    return assessment;
  }

  async #normal(signals: RiskSignals): Promise<RiskAssessment> {
    const results: StageResult[] = [];
    const factors: string[] = [];
    const warnings: string[] = [];
    const context: StageContext = new Map();
    let keep = 1;
    for (const stage of this.#stages) stage.begin?.(signals, context);
    for (const stage of this.#stages) {
      const budget = this.#options.budgets?.[stage.name] ?? stage.budgetMs;
      const started = performance.now();
      const controller = new AbortController();
      let output: StageOutput | null = null;
      let failure: 'late' | 'error' | null = null;
      let cause: unknown;
      try {
        const answer = await within(() => stage.run(signals, context, controller.signal), budget);
        if (answer === 'late') failure = 'late';
        else output = answer;
      } catch (error) {
        failure = 'error';
        cause = error;
      }
      if (failure) controller.abort();
      let result: StageResult;
      if (output) {
        result = {
          name: stage.name,
          outcome: output.outcome ?? (output.score >= 0.5 ? 'suspicious' : 'ok'),
          ms: 0,
          degraded: output.degraded ?? false,
          score: output.score,
        };
        if (output.fallback) result.fallback = output.fallback;
      } else {
        factors.push(`${stage.name}:${failure}`);
        result = { name: stage.name, outcome: failure!, ms: 0, degraded: true, score: 0 };
        let report: StageFailure = { stage: stage.name, reason: failure!, cause };
        try {
          const fallback = await within(() => stage.degrade(signals, context, failure!), budget);
          if (fallback === 'late') throw new Error(`degraded mode of ${stage.name} late (budget ${budget} ms)`);
          output = fallback;
          result.score = fallback.score;
          if (fallback.fallback) result.fallback = report.fallback = fallback.fallback;
          if (fallback.outcome) result.outcome = fallback.outcome;
        } catch (error) {
          result.outcome = 'error';
          factors.push(`${stage.name}:fallback_error`);
          report = {
            stage: stage.name,
            reason: 'fallback_error',
            cause:
              cause === undefined
                ? error
                : new AggregateError([cause, error], `${stage.name} and its degraded mode failed`),
          };
        }
        await this.#options.onFailure?.(report, signals);
      }
      if (output) {
        factors.push(...output.factors);
        warnings.push(...(output.warnings ?? []));
        keep *= 1 - Math.min(1, Math.max(0, output.score));
      }
      result.ms = Math.round((performance.now() - started) * 1000) / 1000;
      results.push(result);
      this.#options.onStage?.(result, signals);
    }
    const assessment: RiskAssessment = { score: 1 - keep, factors, stages: results, warnings };
    const tier = context.get('tier');
    if (typeof tier === 'number') assessment.tier = tier;
    return assessment;
  }
}
