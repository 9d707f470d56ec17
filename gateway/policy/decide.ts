/**
 * The policy decision point at the translation point. Rules, in order:
 * 1. the asserted LoA must meet the acr the RP requires; if the IdP may assert the required level, ask it
 *    again at that level (step-up, forced re-authentication), otherwise deny (`LOA_INSUFFICIENT`);
 * 2. a risk score ≥ denyAbove denies, ≥ flagAbove flags for manual review, ≥ stepUpAbove steps up;
 * 3. otherwise allow.
 */
import type { Acr } from '../translate/acr.ts';
import { acrRank } from '../translate/acr.ts';
import type { RiskAssessment } from '../risk/types.ts';

export type DecisionKind = 'allow' | 'step_up' | 'flag' | 'deny';

export interface Decision {
  kind: DecisionKind;
  requiredAcr: Acr;
  reasons: string[];
}

export interface PolicyInput {
  requiredAcr: Acr;
  assertedAcr: Acr;
  /** Highest acr the chosen IdP may assert. */
  idpMaxAcr: Acr;
  /** How many times this login already stepped up (bounded: no loops). */
  stepUps: number;
  assessment: RiskAssessment;
}

export interface PolicyThresholds {
  stepUpAbove: number;
  flagAbove: number;
  denyAbove: number;
  maxStepUps: number;
}

export const DEFAULT_THRESHOLDS: PolicyThresholds = { stepUpAbove: 0.5, flagAbove: 0.8, denyAbove: 0.95, maxStepUps: 1 };

export function decide(input: PolicyInput, thresholds: PolicyThresholds = DEFAULT_THRESHOLDS): Decision {
  const { requiredAcr, assertedAcr, idpMaxAcr, assessment } = input;
  if (acrRank(assertedAcr) < acrRank(requiredAcr)) {
    if (acrRank(idpMaxAcr) >= acrRank(requiredAcr) && input.stepUps < thresholds.maxStepUps) {
      return { kind: 'step_up', requiredAcr, reasons: ['LOA_INSUFFICIENT'] };
    }
    return { kind: 'deny', requiredAcr, reasons: ['LOA_INSUFFICIENT'] };
  }
  if (assessment.score >= thresholds.denyAbove) return { kind: 'deny', requiredAcr, reasons: ['RISK_TOO_HIGH', ...assessment.factors] };
  if (assessment.score >= thresholds.flagAbove) return { kind: 'flag', requiredAcr, reasons: ['RISK_REVIEW', ...assessment.factors] };
  if (assessment.score >= thresholds.stepUpAbove) {
    if (input.stepUps < thresholds.maxStepUps) return { kind: 'step_up', requiredAcr, reasons: ['RISK_STEP_UP', ...assessment.factors] };
    return { kind: 'deny', requiredAcr, reasons: ['RISK_STEP_UP_EXHAUSTED', ...assessment.factors] };
  }
  return { kind: 'allow', requiredAcr, reasons: [] };
}
