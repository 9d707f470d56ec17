/** What a check yields: its plan, its verdict and outcome, and the result the reports carry (see types.ts). */

/** The four plans a security officer can run. */
export const PLANS = ['oidc', 'saml', 'eidas', 'crypto'] as const;
/** One of `PLANS`. */
export type PlanName = (typeof PLANS)[number];

/** The verdict of one check. */
export type Verdict = 'pass' | 'fail' | 'skipped';

/** What a check reports. `reason` is required for `skipped`. */
export interface Outcome {
  verdict: Verdict;
  /** What the suite sent (a short, human-readable description). */
  sent: string;
  /** What a conformant deployment does. */
  expected: string;
  /** What the deployment did. */
  observed: string;
  /** Why the check was skipped. */
  reason?: string;
}

/** A check's result, as the reports carry it. */
export interface CheckResult extends Outcome {
  id: string;
  title: string;
  plan: PlanName;
  source: string;
  durationMs: number;
}
