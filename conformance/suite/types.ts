/**
 * The vocabulary of the conformance suite: a check (id, title, source, how to run it), its outcome
 * (what was sent, expected, observed, verdict) and the result the reports carry.
 *
 * - Verdicts are `pass`, `fail` or `skipped` (a skip always carries its reason; nothing is ever faked).
 * - A check that throws is a `fail` whose observation is the error (never a pass).
 */
import type { SuiteContext } from './context.ts';
import type { CheckResult, Outcome, PlanName } from './results.ts';

export * from './results.ts';

/** One check of the catalogue. */
export interface CheckDefinition {
  /** Stable id, e.g. `OIDC-PKCE-01`, `SAML-XSW-03` (security-conformance.md ids where they exist). */
  id: string;
  title: string;
  plan: PlanName;
  /** The spec section or CVE the check comes from. */
  source: string;
  /** Ids of positive controls that must pass first; otherwise this check is skipped. */
  requires?: readonly string[];
  run(ctx: SuiteContext): Promise<Outcome>;
}

/** The whole run. */
export interface SuiteReport {
  target: string;
  plans: PlanName[];
  startedAt: string;
  finishedAt: string;
  suiteVersion: string;
  results: CheckResult[];
  summary: { total: number; pass: number; fail: number; skipped: number };
}

/** The three fields every outcome describes. */
export interface Observation {
  sent: string;
  expected: string;
  observed: string;
}

/**
 * `pass` when `ok`, `fail` otherwise.
 *
 * @example return judge(response.status === 400, { sent: 'GET /authorize without PKCE', expected: 'no code', observed: `HTTP ${response.status}` });
 */
export function judge(ok: boolean, observation: Observation): Outcome {
  return { verdict: ok ? 'pass' : 'fail', ...observation };
}

/**
 * A skip with its reason.
 *
 * @example return skip('the deployment shows no eIDAS profile', { sent: 'nothing', expected: 'eIDAS SPType' });
 */
export function skip(reason: string, observation: Partial<Observation> = {}): Outcome {
  return {
    verdict: 'skipped',
    reason,
    sent: observation.sent ?? '(nothing sent)',
    expected: observation.expected ?? '',
    observed: observation.observed ?? '',
  };
}
