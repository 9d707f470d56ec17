/**
 * The translation point as a table: what a login goes through, in order, between FRAUD_CHECK and the
 * decision. Each step reads and fills one `Draft`; a step that refuses ends the login there (FAILED with
 * the step's component and the code), and no later step runs. The steps are in `steps.ts`.
 *
 * | step          | component | does                                                                     |
 * |---------------|-----------|--------------------------------------------------------------------------|
 * | translate     | translate | UpstreamIdentity → PivotIdentity (or the session's), account id, evidence |
 * | transaction   | risk      | what the RP says is at stake (RFC 9396); unreadable → refused             |
 * | signals       | risk      | this request's signals: device, fingerprint, behaviour, network           |
 * | risk          | risk      | the four risk stages (`risk/pipeline.ts`) → RiskAssessment                |
 * | policy        | policy    | the RP's and IdP's rule, required acr, bounded step-up → Decision         |
 * | record        | policy    | logged, counted, kept for the signed copy the RP may fetch                |
 */
import type { ErrorCode } from '../errors.ts';
import type { Draft, Step, StepDeps } from './draft.ts';
import { applyPolicy, assessRisk, gatherSignals, readTransaction, recordAssessment, translate } from './steps.ts';

export type { Draft, Step, StepDeps, StepResult } from './draft.ts';

/** The order, in one place. */
export const PIPELINE: readonly Step[] = [
  { name: 'translate', component: 'translate', run: translate },
  { name: 'transaction', component: 'risk', run: readTransaction },
  { name: 'signals', component: 'risk', run: gatherSignals },
  { name: 'risk', component: 'risk', run: assessRisk },
  { name: 'policy', component: 'policy', run: applyPolicy },
  { name: 'record', component: 'policy', run: recordAssessment },
];

/** Runs the table; returns the first refusal (and the step that made it), or `null` when every step passed. */
export async function runPipeline(
  draft: Draft,
  deps: StepDeps,
): Promise<{ code: ErrorCode; component: Step['component'] } | null> {
  for (const step of PIPELINE) {
    const result = await step.run(draft, deps);
    if (result) return { code: result.refuse, component: step.component };
  }
  return null;
}
