/**
 * Records the grant for an operator-registered RP: the OIDC scopes and claims it asked for, nothing more.
 * Used both for a consent prompt and when a login completes (one round trip fewer).
 */
import type { Context } from 'koa';
import type { Services } from '../services.ts';

type Details = Awaited<ReturnType<Services['holder']['provider']['interactionDetails']>>;

export async function createGrant(services: Services, details: Details, accountId: string): Promise<string> {
  const provider = services.holder.provider;
  const clientId = String(details.params.client_id);
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const g = grant ?? new provider.Grant({ accountId, clientId });
  if (typeof details.params.scope === 'string') g.addOIDCScope(details.params.scope);
  if (typeof details.params.claims === 'string') {
    const claims = JSON.parse(details.params.claims) as { id_token?: object; userinfo?: object };
    const names = [...Object.keys(claims.id_token ?? {}), ...Object.keys(claims.userinfo ?? {})];
    if (names.length > 0) g.addOIDCClaims(names);
  }
  return g.save();
}

export async function grantConsent(ctx: Context, services: Services, details: Details): Promise<void> {
  const accountId = details.session?.accountId;
  // A session born of a OneTimeUse assertion (SAML Core §2.5.1.5) is never reused: authenticate again.
  const oneTimeUse = accountId ? (await services.accounts.load(accountId))?.oneTimeUse === true : false;
  if (!accountId || oneTimeUse) {
    await services.holder.provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'login_required' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grantId = await createGrant(services, details, accountId);
  await services.holder.provider.interactionFinished(
    ctx.req,
    ctx.res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}
