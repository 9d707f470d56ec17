/**
 * GET /interaction/:uid/complete — acts once on the stored outcome of a login, in the browser that holds
 * the interaction cookie:
 * - allow → TOKEN_GENERATION, account stored, grant recorded, oidc-provider issues the code → COMPLETED;
 * - step_up → the IdP is asked again, forcing authentication at the required level;
 * - flag → FLAGGED → DENIED (the manual-review queue is not built yet; the login is refused, audited);
 * - deny, or a rejected upstream answer → the RP gets access_denied with its state and iss.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';
import { createGrant } from './grant-consent.ts';
import { startUpstream } from './start-upstream.ts';

export async function completeInteraction(ctx: Context, services: Services, uid: string): Promise<void> {
  const provider = services.holder.provider;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new GatewayError('INTERACTION_INVALID', 400, 'interaction mismatch');
  const outcome = await services.logins.takeOutcome(uid);
  if (!outcome) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'nothing to complete for this sign-in');
  const requestId = ctx.state.requestId as string;
  const deny = (description: string) =>
    provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });

  if (outcome.status === 'rejected') {
    await deny('the identity provider answer was refused');
    return;
  }
  const { decision } = outcome;
  switch (decision.kind) {
    case 'allow': {
      await services.flow.transition(uid, 'TOKEN_GENERATION', { component: 'policy', requestId, details: { decision: decision.kind } });
      await services.accounts.save(outcome.accountId, { pivot: outcome.pivot, idp: outcome.idp, fraudScore: outcome.fraudScore });
      const grantId = await createGrant(services, details, outcome.accountId);
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId: outcome.accountId, acr: outcome.pivot.acr, amr: ['saml'] }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      await services.flow.transition(uid, 'COMPLETED', { component: 'oidc', requestId });
      return;
    }
    case 'step_up': {
      const login = await services.logins.load(uid);
      if (!login?.idp) throw new GatewayError('LOGIN_STATE_INVALID', 400, 'this sign-in has expired; start again from the service');
      await startUpstream(ctx, services, { ...login, stepUps: login.stepUps + 1 }, login.idp, true);
      return;
    }
    case 'flag': {
      await services.flow.transition(uid, 'FLAGGED', { component: 'policy', requestId, details: { reasons: decision.reasons } });
      await services.flow.transition(uid, 'DENIED', { component: 'policy', errorCode: 'MANUAL_REVIEW_UNAVAILABLE', requestId });
      await deny('the sign-in needs a manual review');
      return;
    }
    case 'deny': {
      await services.flow.transition(uid, 'FAILED', { component: 'policy', errorCode: decision.reasons[0] ?? 'POLICY_DENIED', requestId });
      await deny('the sign-in was refused by policy');
      return;
    }
    default: {
      const unknown: never = decision.kind;
      throw new GatewayError('INTERNAL', 500, 'unknown decision', { detail: String(unknown) });
    }
  }
}
