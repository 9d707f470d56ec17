/**
 * The translation point: UpstreamIdentity → PivotIdentity → risk assessment → policy decision, with the
 * login in FRAUD_CHECK meanwhile. The outcome is stored for /interaction/:uid/complete to act on; no
 * token exists yet. An identity that fails validation fails the login with IDENTITY_INVALID.
 */
import type { Context } from 'koa';
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { GatewayError } from '../errors.ts';
import { accountIdOf } from '../oidc/pairwise.ts';
import { decide } from '../policy/decide.ts';
import type { Services } from '../services.ts';
import { acrOfLoa } from '../translate/acr.ts';
import { toPivotIdentity } from '../translate/to-pivot.ts';

export async function translateAndDecide(ctx: Context, services: Services, loginId: string, identity: UpstreamIdentity): Promise<void> {
  const requestId = ctx.state.requestId as string;
  const login = await services.logins.load(loginId);
  if (!login) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
  await services.flow.transition(loginId, 'FRAUD_CHECK', {
    component: 'translate',
    requestId,
    details: { idp: identity.idp, responseId: identity.evidence.responseId, assertionId: identity.evidence.assertionId, signaturesVerified: identity.evidence.signaturesVerified, loa: identity.loa },
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
  const assessment = await services.risk.assess({
    loginId,
    clientId: login.clientId,
    idp: identity.idp,
    accountId,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    acr: pivot.acr,
  });
  const decision = decide({ requiredAcr: login.requiredAcr, assertedAcr: pivot.acr, idpMaxAcr: acrOfLoa(adapter.maxLoa), stepUps: login.stepUps, assessment });
  services.logger.info({ loginId, decision: decision.kind, reasons: decision.reasons, score: assessment.score, stages: assessment.stages }, 'policy decision');
  await services.logins.saveOutcome(loginId, { status: 'verified', accountId, pivot, idp: identity.idp, decision, fraudScore: assessment.score });
}
