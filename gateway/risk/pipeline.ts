/**
 * The risk pipeline seam at the translation point. Stages run in order, each under its time budget;
 * a stage that is late or fails is recorded as degraded, never silently skipped.
 *
 * The four stages of the design (behavioural, device trust, transaction risk, cross-session correlation)
 * plug in here; until they exist the pipeline runs the stages it is given (none by default) and says so
 * in the assessment.
 */
import type { RiskAssessment, RiskSignals, StageResult } from './types.ts';

export interface RiskStage {
  readonly name: string;
  readonly budgetMs: number;
  /** Returns a score contribution 0..1 and factors. */
  run(signals: RiskSignals, signal: AbortSignal): Promise<{ score: number; factors: string[] }>;
}

export class RiskPipeline {
  readonly #stages: readonly RiskStage[];

  constructor(stages: readonly RiskStage[] = []) {
    this.#stages = stages;
  }

  async assess(signals: RiskSignals): Promise<RiskAssessment> {
    const results: StageResult[] = [];
    const factors: string[] = [];
    let score = 0;
    for (const stage of this.#stages) {
      const started = performance.now();
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), stage.budgetMs);
      });
      try {
        const outcome = await Promise.race([stage.run(signals, controller.signal), late]);
        if (outcome === 'late') {
          controller.abort();
          results.push({ name: stage.name, outcome: 'skipped', ms: performance.now() - started, degraded: true });
          factors.push(`${stage.name}:late`);
        } else {
          score = Math.max(score, outcome.score);
          factors.push(...outcome.factors);
          results.push({ name: stage.name, outcome: outcome.score >= 0.5 ? 'suspicious' : 'ok', ms: performance.now() - started, degraded: false });
        }
      } catch {
        results.push({ name: stage.name, outcome: 'error', ms: performance.now() - started, degraded: true });
        factors.push(`${stage.name}:error`);
      } finally {
        clearTimeout(timer);
      }
    }
    return { score, factors, stages: results };
  }
}
