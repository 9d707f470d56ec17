/**
 * Records the grant for an operator-registered RP: the OIDC scopes and claims it asked for, nothing more.
 * Made only when a login of this request completes (`finish-login.ts`, `sso.ts`): a consent prompt on its
 * own is never granted (no login of this request went through the translation point), it is refused with
 * `CONSENT_WITHOUT_LOGIN`.
 */
import type { Context } from 'koa';
import type { Grant } from 'oidc-provider';
import type { Services } from '../services.ts';

type Details = Awaited<ReturnType<Services['holder']['provider']['interactionDetails']>>;

/** Adds to a grant the scopes and the claims (`claims` parameter) an authorization request asked for. */
export function addRequested(grant: Grant, params: Record<string, unknown>): void {
  if (typeof params.scope === 'string') grant.addOIDCScope(params.scope);
  if (typeof params.claims === 'string') {
    const claims = JSON.parse(params.claims) as { id_token?: object; userinfo?: object };
    const names = [...Object.keys(claims.id_token ?? {}), ...Object.keys(claims.userinfo ?? {})];
    if (names.length > 0) grant.addOIDCClaims(names);
  }
}

export async function createGrant(services: Services, details: Details, accountId: string): Promise<string> {
  const provider = services.holder.provider;
  const clientId = String(details.params.client_id);
  const found = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  // the session's grant for this RP is reused only when it is this person's: another person logging in in the
  // same browser (the session changes account) gets a grant of their own, else oidc-provider would drop the
  // foreign grant and ask for consent again, which is refused (CONSENT_WITHOUT_LOGIN)
  const grant = found?.accountId === accountId && found.clientId === clientId ? found : undefined;
  const g = grant ?? new provider.Grant({ accountId, clientId });
  addRequested(g, details.params);
  return g.save();
}

/**
 * A consent prompt reached without a login of this request: refused and audited, never granted around the
 * translation point (the interaction policy asks every request on a session for its own login first).
 */
export async function refuseConsent(ctx: Context, services: Services, details: Details): Promise<void> {
  const requestId = ctx.state.requestId as string;
  services.logger.warn({ loginId: details.uid, reasons: details.prompt.reasons }, 'consent prompt without a login');
  await services.audit.append({
    sessionId: details.uid,
    from: null,
    to: 'REJECTED',
    component: 'interaction',
    errorCode: 'CONSENT_WITHOUT_LOGIN',
    requestId,
  });
  await services.holder.provider.interactionFinished(
    ctx.req,
    ctx.res,
    { error: 'access_denied', error_description: 'this request needs its own sign-in' },
    { mergeWithLastSubmission: false },
  );
}
