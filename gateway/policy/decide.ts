/**
 * The policy decision point at the translation point. Pure and in process (no I/O: p99 well under 1 ms).
 * Rules, in order:
 * 1. the asserted LoA must meet the acr the RP requires; if the IdP may assert the required level, ask it
 *    again at that level (step-up, forced re-authentication), otherwise deny (`LOA_INSUFFICIENT`);
 * 2. a risk score ≥ deny denies (`RISK_TOO_HIGH`), ≥ review flags for manual review (`RISK_REVIEW`);
 * 3. the level required is the highest of: the level the score reaches (step-up 1, biometric 2, token 3),
 *    the level the transaction tier demands, and, for a fresh upstream login not stepped up yet assessed rule-only
 *    (`pipeline:rule_only`: the fraud engine overloaded) or with a stage late or failed that nothing makes up later
 *    (`stagesNotAssessed`: device trust or behaviour scored by their degraded mode), the rule's `degradedLevel`
 *    (`RISK_DEGRADED_ASSESSMENT`);
 * 4. a level this login already satisfied by a step-up is not asked again; otherwise
 *    level 1 → step-up at the same acr (ForceAuthn); level 2 → step-up to eidas3 (LoA high) when the IdP
 *    can assert it, else manual review (`LEVEL2_UNAVAILABLE`); level 3 → manual review
 *    (`LEVEL3_UNAVAILABLE`); past `maxStepUps` → deny (`RISK_STEP_UP_EXHAUSTED`). Before any of these is
 *    carried out, gateway/webauthn/step-up.ts offers WebAuthn at the gateway when the person has enrolled a
 *    suitable authenticator (level 2: user verification; level 3: a roaming FIDO2 key), so the
 *    `*_UNAVAILABLE` reasons mean "no suitable authenticator enrolled";
 * 5. otherwise allow.
 */
import type { Acr } from '../translate/acr.ts';
import { acrRank } from '../translate/acr.ts';
import { RULE_ONLY_FACTOR, stagesNotAssessed, type RiskAssessment } from '../risk/types.ts';
import type { PolicyRule } from './policy-set.ts';
import { isAuditErrorCode, type AuditErrorCode } from '../audit-codes.ts';

export type DecisionKind = 'allow' | 'step_up' | 'flag' | 'deny';

export interface Decision {
  kind: DecisionKind;
  requiredAcr: Acr;
  reasons: string[];
  /** The assurance level a risk step-up asks for (1 step-up, 2 biometric, 3 token). */
  level?: number;
}

export interface PolicyInput {
  requiredAcr: Acr;
  assertedAcr: Acr;
  /** Highest acr the chosen IdP may assert. */
  idpMaxAcr: Acr;
  /** How many times this login already stepped up (bounded: no loops). */
  stepUps: number;
  assessment: RiskAssessment;
  /** The level a step-up of this login already satisfied (0 when none). */
  satisfiedLevel?: number;
  /** A login on an existing gateway session (SSO): its upstream login was assessed when it was made. */
  onSession?: boolean;
}

export interface PolicyThresholds {
  stepUpAbove: number;
  flagAbove: number;
  denyAbove: number;
  maxStepUps: number;
}

export const DEFAULT_THRESHOLDS: PolicyThresholds = {
  stepUpAbove: 0.5,
  flagAbove: 0.8,
  denyAbove: 0.95,
  maxStepUps: 1,
};

/**
 * The decision under a policy rule.
 *
 * @example
 * evaluate({ requiredAcr: 'eidas2', assertedAcr: 'eidas2', idpMaxAcr: 'eidas3', stepUps: 0, assessment }, ruleFor(policies, clientId, idp))
 * // { kind: 'step_up', requiredAcr: 'eidas3', level: 2, reasons: ['RISK_STEP_UP', 'device:unfamiliar'] }
 */
export function evaluate(input: PolicyInput, rule: PolicyRule): Decision {
  const { requiredAcr, assertedAcr, idpMaxAcr, assessment } = input;
  const t = rule.thresholds;
  if (acrRank(assertedAcr) < acrRank(requiredAcr)) {
    if (acrRank(idpMaxAcr) >= acrRank(requiredAcr) && input.stepUps < rule.maxStepUps) {
      return { kind: 'step_up', requiredAcr, reasons: ['LOA_INSUFFICIENT'] };
    }
    return { kind: 'deny', requiredAcr, reasons: ['LOA_INSUFFICIENT'] };
  }
  const score = assessment.score;
  if (score >= t.deny) return { kind: 'deny', requiredAcr, reasons: ['RISK_TOO_HIGH', ...assessment.factors] };
  if (score >= t.review) return { kind: 'flag', requiredAcr, reasons: ['RISK_REVIEW', ...assessment.factors] };
  const byScore = t.token !== null && score >= t.token ? 3 : score >= t.biometric ? 2 : score >= t.stepUp ? 1 : 0;
  const byTier = rule.tierLevels[assessment.tier ?? 0] ?? 0;
  // assessed rule-only (the engine overloaded), or a stage late or failed and not made up later (its degraded mode
  // stood in: a stall an attacker provokes must not turn a review into an allow): the degraded modes score less, so a floor holds for a fresh upstream
  // login that has not re-authenticated yet; not for an SSO login on a session (its upstream login was assessed
  // when made; prompt=none would get login_required) nor after a step-up (ForceAuthn at the IdP is what the floor
  // asks) or where the rule allows none: the floor never turns into a denial (RISK_STEP_UP_EXHAUSTED)
  const byDegraded =
    (assessment.factors.includes(RULE_ONLY_FACTOR) || stagesNotAssessed(assessment).length > 0) &&
    input.stepUps === 0 &&
    input.stepUps < rule.maxStepUps &&
    input.onSession !== true
      ? rule.degradedLevel
      : 0;
  const level = Math.max(byScore, byTier, byDegraded);
  const why =
    byDegraded > Math.max(byScore, byTier)
      ? 'RISK_DEGRADED_ASSESSMENT'
      : byTier > byScore
        ? `TRANSACTION_TIER_${assessment.tier ?? 0}`
        : 'RISK_STEP_UP';
  if (level === 0 || level <= (input.satisfiedLevel ?? 0)) return { kind: 'allow', requiredAcr, reasons: [] };
  if (level === 3)
    return { kind: 'flag', requiredAcr, level, reasons: ['LEVEL3_UNAVAILABLE', why, ...assessment.factors] };
  if (input.stepUps >= rule.maxStepUps)
    return { kind: 'deny', requiredAcr, level, reasons: ['RISK_STEP_UP_EXHAUSTED', ...assessment.factors] };
  if (level === 2) {
    if (acrRank(idpMaxAcr) < acrRank('eidas3'))
      return { kind: 'flag', requiredAcr, level, reasons: ['LEVEL2_UNAVAILABLE', why, ...assessment.factors] };
    return { kind: 'step_up', requiredAcr: 'eidas3', level, reasons: [why, ...assessment.factors] };
  }
  const acr = acrRank(assertedAcr) > acrRank(requiredAcr) ? assertedAcr : requiredAcr;
  return { kind: 'step_up', requiredAcr: acr, level, reasons: [why, ...assessment.factors] };
}

/**
 * The decision with plain thresholds (level 1 only, no transaction tiers): the policy before issue #5,
 * kept for callers that have no policy set. The thresholds are always the caller's (no default level).
 */
export function decide(input: PolicyInput, thresholds: PolicyThresholds): Decision {
  const decision = evaluate(input, {
    thresholds: {
      stepUp: thresholds.stepUpAbove,
      biometric: Math.max(thresholds.flagAbove, thresholds.stepUpAbove),
      token: null,
      review: thresholds.flagAbove,
      deny: thresholds.denyAbove,
    },
    tierLevels: [0, 0, 0, 0, 0],
    maxStepUps: thresholds.maxStepUps,
    degradedLevel: 0,
  });
  if (decision.kind === 'step_up' && decision.reasons[0] === 'RISK_STEP_UP')
    return { kind: 'step_up', requiredAcr: decision.requiredAcr, reasons: decision.reasons };
  if (decision.kind === 'deny' && decision.level !== undefined)
    return { kind: 'deny', requiredAcr: decision.requiredAcr, reasons: decision.reasons };
  return decision;
}

/**
 * The code a denied login is recorded with: the decision's first reason (a code of the closed audit tables,
 * `RISK_TOO_HIGH`, `LOA_INSUFFICIENT`, ...), `POLICY_DENIED` when it gives none. A first reason that is in
 * neither table is an error, never recorded as a free string.
 *
 * @example
 * denialCode({ kind: 'deny', requiredAcr: 'eidas2', reasons: ['RISK_TOO_HIGH', 'ip:listed'] }); // 'RISK_TOO_HIGH'
 */
export function denialCode(decision: Decision): AuditErrorCode {
  const first = decision.reasons[0];
  if (first === undefined) return 'POLICY_DENIED';
  if (!isAuditErrorCode(first)) throw new TypeError(`decision reason ${first} is not a registered code`);
  return first;
}
