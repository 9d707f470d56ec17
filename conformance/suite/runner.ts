/**
 * Runs the selected checks in catalogue order, one at a time (the suite IdP's overrides are global),
 * and prints one progress line per check.
 *
 * - A check whose positive control (`requires`) did not pass is skipped, with that reason: a negative
 *   check can only prove something when the honest path works.
 * - A check that throws fails; its observation is the error message.
 */
import { createContext, type SuiteOptions } from './context.ts';
import { selectChecks } from './registry.ts';
import type { CheckDefinition, CheckResult, Outcome, SuiteReport } from './types.ts';

/** The suite's version, carried in every report. */
export const SUITE_VERSION = '1.0.0';

/**
 * Runs the suite.
 *
 * @example const report = await runSuite({ target, plans: ['oidc', 'saml'], client, idp, progress: console.log });
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const startedAt = new Date().toISOString();
  const ctx = await createContext(options);
  const checks = selectChecks(options.plans, options.only);
  const progress = options.progress ?? (() => {});
  progress(
    `conformance suite ${SUITE_VERSION}: ${checks.length} checks against ${ctx.target.href} (plans ${options.plans.join(', ')})`,
  );
  if (ctx.discoveryError !== undefined) progress(`warning: ${ctx.discoveryError}`);
  const results: CheckResult[] = [];
  const width = String(checks.length).length;
  for (const [index, check] of checks.entries()) {
    const started = performance.now();
    const outcome = await runOne(check, ctx.results);
    const result: CheckResult = {
      id: check.id,
      title: check.title,
      plan: check.plan,
      source: check.source,
      ...outcome,
      durationMs: Math.round(performance.now() - started),
    };
    ctx.results.set(check.id, result);
    results.push(result);
    const label = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' }[result.verdict];
    const why =
      result.verdict === 'skipped'
        ? ` — ${result.reason ?? ''}`
        : result.verdict === 'fail'
          ? ` — observed: ${result.observed}`
          : '';
    progress(
      `[${String(index + 1).padStart(width)}/${checks.length}] ${label} ${check.id.padEnd(16)} ${check.title} (${result.durationMs} ms)${why}`,
    );

    async function runOne(def: CheckDefinition, done: Map<string, CheckResult>): Promise<Outcome> {
      const missing = (def.requires ?? []).find((id) => done.get(id)?.verdict !== 'pass');
      if (missing !== undefined) {
        const state = done.get(missing)?.verdict ?? 'not run';
        return {
          verdict: 'skipped',
          reason: `positive control ${missing} did not pass (${state})`,
          sent: '(nothing sent)',
          expected: '',
          observed: '',
        };
      }
      try {
        return await def.run(ctx);
      } catch (error) {
        return {
          verdict: 'fail',
          sent: '(the check raised an error)',
          expected: 'the check runs to its end',
          observed: `error: ${(error as Error).message}`,
        };
      }
    }
  }
  const count = (v: CheckResult['verdict']): number => results.filter((r) => r.verdict === v).length;
  const summary = { total: results.length, pass: count('pass'), fail: count('fail'), skipped: count('skipped') };
  progress(`done: ${summary.pass} passed, ${summary.fail} failed, ${summary.skipped} skipped`);
  return {
    target: ctx.target.href,
    plans: [...options.plans],
    startedAt,
    finishedAt: new Date().toISOString(),
    suiteVersion: SUITE_VERSION,
    results,
    summary,
  };
}
