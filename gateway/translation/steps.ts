/**
 * The steps of the translation point (the order is the table in `pipeline.ts`):
 *
 * - `translate`: an upstream identity that fails validation is refused (`IDENTITY_INVALID`); so is an answer
 *   to an earlier request of the login than its latest (`UPSTREAM_ANSWER_SUPERSEDED`): the policy judges an
 *   answer against the latest request (its level, its step-up, its forced freshness), so an answer kept from an
 *   older, plainer request must never stand for it. A login on a session takes the session's pivot identity,
 *   account and upstream evidence as they were decided then;
 * - `readTransaction`: fail closed: what is at stake could not be read, so the login cannot be scored:
 *   refused (`TRANSACTION_INVALID`), never "tier 0";
 * - `gatherSignals`: this request's signals, also for a login on a session (its device, its address, its
 *   fingerprint); behavioural signals the store cannot give are logged and counted, not silently missing;
 * - `assessRisk`: the risk pipeline; a forged device cookie, and a session used from another device than
 *   the one that established it, are named among the factors;
 * - `applyPolicy`: the RP's rule and required acr against the acr reached (upstream, or the session's); a
 *   step-up counts only for the answer to the one request that asked for it;
 * - `recordAssessment`: logged with structured fields and kept (`risk_assessments`); a failure to keep it
 *   is logged, the decision stands.
 */
import { GatewayError } from '../errors.ts';
import { fingerprintOf } from '../risk/fingerprint.ts';
import { transactionFromParams } from '../risk/transaction.ts';
import { toPivotIdentity } from '../translate/to-pivot.ts';
import type { Draft, StepDeps, StepResult } from './draft.ts';

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new GatewayError('INTERNAL', 500, 'translation step out of order', { detail: what });
  return value;
}

export async function translate(draft: Draft, deps: StepDeps): Promise<StepResult> {
  const { input } = draft;
  if (input.kind === 'session') {
    draft.pivot = input.pivot;
    draft.accountId = input.accountId;
    draft.evidence = input.evidence;
    return undefined;
  }
  const identity = input.identity;
  try {
    draft.pivot = toPivotIdentity(identity);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    deps.logger.warn({ code: error.code, detail: error.detail, loginId: draft.loginId }, 'upstream identity refused');
    return { refuse: error.code };
  }
  const latest = draft.login.upstream?.request;
  if (latest !== undefined && identity.evidence.inResponseTo !== latest) {
    deps.logger.warn(
      { loginId: draft.loginId, answered: identity.evidence.inResponseTo, latest },
      'upstream answer to an earlier request of the login refused',
    );
    return { refuse: 'UPSTREAM_ANSWER_SUPERSEDED' };
  }
  draft.accountId = deps.accountIdOf(draft.pivot);
  draft.evidence = {
    loginId: draft.loginId,
    idp: identity.idp,
    acr: draft.pivot.acr,
    authTime: Math.floor(Date.parse(identity.authnInstant) / 1000),
    issuer: identity.evidence.issuer,
    responseId: identity.evidence.responseId,
    assertionId: identity.evidence.assertionId,
    signaturesVerified: identity.evidence.signaturesVerified,
    // the device this login's browser holds now: a forged cookie's login was given a fresh one with its answer (its
    // session recorded none before, and its cookie replayed elsewhere never weighed as another device)
    deviceId: draft.request.device.deviceId,
    ...(identity.sessionNotOnOrAfter === undefined
      ? {}
      : { sessionNotOnOrAfter: Math.floor(Date.parse(identity.sessionNotOnOrAfter) / 1000) }),
    ...(identity.evidence.onwardAudiences === undefined
      ? {}
      : { onwardAudiences: [...identity.evidence.onwardAudiences] }),
  };
  return undefined;
}

export async function readTransaction(draft: Draft, deps: StepDeps): Promise<StepResult> {
  try {
    draft.transaction = transactionFromParams(draft.request.params);
    return undefined;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    deps.logger.warn(
      { loginId: draft.loginId, code: error.code, detail: error.message },
      'transaction unreadable: login refused',
    );
    return { refuse: error.code };
  }
}

export async function gatherSignals(draft: Draft, deps: StepDeps): Promise<StepResult> {
  const { fraud } = deps;
  const { request, loginId } = draft;
  const evidence = need(draft.evidence, 'evidence');
  const reported = await fraud.behaviour.load(loginId).catch((err: unknown) => {
    deps.logger.warn({ err, loginId }, 'behaviour signals unreadable: fingerprint from headers only');
    fraud.metrics.inc('risk_signal_unavailable_total', { signal: 'behaviour' });
    return null;
  });
  draft.signals = {
    loginId,
    clientId: draft.login.clientId,
    idp: evidence.idp,
    accountId: need(draft.accountId, 'accountId'),
    ip: request.ip,
    userAgent: request.userAgent,
    acr: need(draft.pivot, 'pivot').acr,
    at: Date.now(),
    deviceId: request.device.deviceId,
    fingerprint: fingerprintOf(request.userAgent, request.acceptLanguage, reported ?? {}),
    network: fraud.resolver.resolve(request.ip),
    transaction: draft.transaction ?? null,
  };
  return undefined;
}

/**
 * What the translation point adds to the pipeline's score, from what only it knows: a device cookie forged or
 * altered (someone tampering with what the gateway signed), and an SSO from another device than the one the
 * session's upstream login was made on (a session cookie carried to another browser). Each reaches the default
 * step-up threshold alone: a fresh login goes to the IdP again (ForceAuthn), an SSO goes upstream
 * (`prompt=none`: `login_required`).
 */
export const ADDED_FACTOR_WEIGHTS = { 'device:forged_cookie': 0.5, 'sso:device_changed': 0.6 } as const;

export async function assessRisk(draft: Draft, deps: StepDeps): Promise<StepResult> {
  const assessment = await deps.fraud.pipeline.assess(need(draft.signals, 'signals'));
  const add = (factor: keyof typeof ADDED_FACTOR_WEIGHTS) => {
    assessment.factors.push(factor);
    assessment.score = 1 - (1 - assessment.score) * (1 - ADDED_FACTOR_WEIGHTS[factor]);
  };
  const evidence = need(draft.evidence, 'evidence');
  // a session whose login knew its device (not one made before devices were recorded), asked from another one
  const changed =
    draft.input.kind === 'session' &&
    typeof evidence.deviceId === 'string' &&
    evidence.deviceId !== draft.request.device.deviceId;
  if (changed) add('sso:device_changed');
  // a forged cookie weighs once: on such an SSO, as the device change it is (its device id is always a fresh one),
  // named too. Weighed as forged there, it weighed less than no cookie at all: a session cookie replayed with a junk
  // device cookie chose the lighter factor
  if (draft.request.device.forged) {
    if (changed) assessment.factors.push('device:forged_cookie');
    else add('device:forged_cookie');
  }
  draft.assessment = assessment;
  return undefined;
}

export async function applyPolicy(draft: Draft, deps: StepDeps): Promise<StepResult> {
  const { login, loginId } = draft;
  const accountId = need(draft.accountId, 'accountId');
  const evidence = need(draft.evidence, 'evidence');
  const assessment = need(draft.assessment, 'assessment');
  const answersStepUp = login.upstream?.stepUpLevel !== undefined && login.upstream.forceAuthn;
  const satisfiedLevel = answersStepUp ? await deps.fraud.satisfiedLevel(loginId, accountId) : 0;
  let decision = await deps.fraud.decide(
    { clientId: login.clientId, idp: evidence.idp, accountId },
    {
      requiredAcr: login.requiredAcr,
      assertedAcr: need(draft.pivot, 'pivot').acr,
      idpMaxAcr: deps.idpMaxAcr(evidence.idp),
      stepUps: login.stepUps,
      assessment,
      satisfiedLevel,
      ...(login.sso === true ? { onSession: true } : {}),
    },
  );
  if (decision.kind === 'allow' && satisfiedLevel > 0)
    decision = { ...decision, level: satisfiedLevel, reasons: ['STEP_UP_SATISFIED'] };
  draft.decision = decision;
  return undefined;
}

export async function recordAssessment(draft: Draft, deps: StepDeps): Promise<StepResult> {
  const { loginId } = draft;
  const decision = need(draft.decision, 'decision');
  const assessment = need(draft.assessment, 'assessment');
  deps.logger.info(
    {
      loginId,
      sso: draft.input.kind === 'session',
      decision: decision.kind,
      stepUpLevel: decision.level ?? 0,
      reasons: decision.reasons,
      score: assessment.score,
      stages: assessment.stages,
      warnings: assessment.warnings,
    },
    'policy decision',
  );
  await deps.fraud
    .record(need(draft.signals, 'signals'), assessment, decision)
    .catch((err: unknown) => deps.logger.warn({ err, loginId }, 'assessment not recorded'));
  return undefined;
}
