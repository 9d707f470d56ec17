/**
 * The translation point: UpstreamIdentity → PivotIdentity → risk assessment → policy decision, with the
 * login in FRAUD_CHECK meanwhile. The outcome is stored for /interaction/:uid/complete to act on; no
 * token exists yet. An identity that fails validation fails the login with IDENTITY_INVALID.
 *
 * Signals gathered here: the signed device cookie (issued when absent), fingerprint dimensions (headers,
 * plus what the behavioural script reported), the network prefix, and what the RP said is at stake (RFC 9396
 * `authorization_details` of its authorization request; unreadable → the login is refused). The assessment and the decision are logged
 * with structured fields, counted, and kept (`risk_assessments`) for the signed copy the RP may fetch.
 */
import type { Context } from 'koa';
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { GatewayError } from '../errors.ts';
import { accountIdOf } from '../oidc/pairwise.ts';
import { deviceOf } from '../risk/device-cookie.ts';
import { fingerprintOf } from '../risk/fingerprint.ts';
import { transactionFromParams } from '../risk/transaction.ts';
import type { RiskSignals } from '../risk/types.ts';
import type { Services } from '../services.ts';
import { acrOfLoa } from '../translate/acr.ts';
import { toPivotIdentity } from '../translate/to-pivot.ts';

export async function translateAndDecide(
  ctx: Context,
  services: Services,
  loginId: string,
  identity: UpstreamIdentity,
): Promise<void> {
  const requestId = ctx.state.requestId as string;
  const login = await services.logins.load(loginId);
  if (!login)
    throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
  await services.flow.transition(loginId, 'FRAUD_CHECK', {
    component: 'translate',
    requestId,
    details: {
      idp: identity.idp,
      responseId: identity.evidence.responseId,
      assertionId: identity.evidence.assertionId,
      signaturesVerified: identity.evidence.signaturesVerified,
      loa: identity.loa,
    },
  });
  let pivot;
  try {
    pivot = toPivotIdentity(identity);
  } catch (error) {
    if (error instanceof GatewayError) {
      services.logger.warn({ code: error.code, detail: error.detail, loginId }, 'upstream identity refused');
      await services.flow.transition(loginId, 'FAILED', { component: 'translate', errorCode: error.code, requestId });
      await services.logins.saveOutcome(loginId, { status: 'rejected', code: error.code });
      return;
    }
    throw error;
  }
  const accountId = accountIdOf(pivot, services.config.secrets.pairwiseSalt);
  const adapter = services.adapters.get(identity.idp);
  const fraud = services.fraud;
  const device = deviceOf(ctx, services.config.secrets.browserBindingKey, services.config.cookies.secure);
  // the fingerprint does without what the script reported when the store cannot answer: logged and counted, not silent
  const reported = await fraud.behaviour.load(loginId).catch((err: unknown) => {
    services.logger.warn({ err, loginId }, 'behaviour signals unreadable: fingerprint from headers only');
    fraud.metrics.inc('risk_signal_unavailable_total', { signal: 'behaviour' });
    return null;
  });
  const userAgent = ctx.get('user-agent');
  let transaction = null;
  try {
    const interaction = await services.holder.provider.Interaction.find(loginId);
    transaction = transactionFromParams(interaction?.params);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    // fail closed: what is at stake could not be read, so the login cannot be scored: refused, never "tier 0"
    services.logger.warn({ loginId, code: error.code, detail: error.message }, 'transaction unreadable: login refused');
    await services.flow.transition(loginId, 'FAILED', { component: 'risk', errorCode: error.code, requestId });
    await services.logins.saveOutcome(loginId, { status: 'rejected', code: error.code });
    return;
  }
  const signals: RiskSignals = {
    loginId,
    clientId: login.clientId,
    idp: identity.idp,
    accountId,
    ip: ctx.ip,
    userAgent,
    acr: pivot.acr,
    at: Date.now(),
    deviceId: device.deviceId,
    fingerprint: fingerprintOf(userAgent, ctx.get('accept-language'), reported ?? {}),
    network: fraud.resolver.resolve(ctx.ip),
    transaction,
  };
  const assessment = await services.risk.assess(signals);
  if (device.forged) assessment.factors.push('device:forged_cookie');
  // A step-up counts only for the answer to the one request that asked for it (forced, fresh: checked by
  // the adapter against that request), never for any later upstream login.
  const answersStepUp = login.upstream?.stepUpLevel !== undefined && login.upstream.forceAuthn;
  const satisfiedLevel = answersStepUp ? await fraud.satisfiedLevel(loginId, accountId) : 0;
  let decision = await fraud.decide(
    { clientId: login.clientId, idp: identity.idp, accountId },
    {
      requiredAcr: login.requiredAcr,
      assertedAcr: pivot.acr,
      idpMaxAcr: acrOfLoa(adapter.maxLoa),
      stepUps: login.stepUps,
      assessment,
      satisfiedLevel,
    },
  );
  if (decision.kind === 'allow' && satisfiedLevel > 0)
    decision = { ...decision, level: satisfiedLevel, reasons: ['STEP_UP_SATISFIED'] };
  services.logger.info(
    {
      loginId,
      decision: decision.kind,
      level: decision.level ?? 0,
      reasons: decision.reasons,
      score: assessment.score,
      stages: assessment.stages,
      warnings: assessment.warnings,
    },
    'policy decision',
  );
  await fraud
    .record(signals, assessment, decision)
    .catch((err: unknown) => services.logger.warn({ err, loginId }, 'assessment not recorded'));
  const authTime = Math.floor(Date.parse(identity.authnInstant) / 1000);
  await services.logins.saveOutcome(loginId, {
    status: 'verified',
    accountId,
    pivot,
    idp: identity.idp,
    decision,
    fraudScore: assessment.score,
    authTime,
    oneTimeUse: identity.evidence.oneTimeUse,
  });
}
