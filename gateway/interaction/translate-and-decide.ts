/**
 * After the ACS verified the IdP's answer: the translation point decides the login (`translation/`:
 * translate → risk stages → policy → decision, the login in FRAUD_CHECK meanwhile). The outcome is kept for
 * the completion step to act on (in the resume request, resume-completion.ts); no token exists yet.
 */
import type { Context } from 'koa';
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { requestContextOf, translationPoint } from '../completion/translation-of.ts';
import type { HeldClaim } from '../flow/login-flow.ts';
import type { DeviceClass } from '../risk/device-cookie.ts';
import type { Services } from '../services.ts';

export async function translateAndDecide(
  ctx: Context,
  services: Services,
  loginId: string,
  identity: UpstreamIdentity,
  { held, issueDevice }: { held?: HeldClaim; issueDevice: DeviceClass },
): Promise<void> {
  // what the RP said is at stake is in its authorization request (RFC 9396 `authorization_details`): kept in
  // the login's context when the login started (read again by the translation point: once per request), else
  // (a context written before it kept them) in oidc-provider's interaction
  const kept = (await services.logins.load(loginId))?.params;
  const params = kept ?? (await services.holder.provider.Interaction.find(loginId))?.params;
  await translationPoint(services).decide(
    loginId,
    { kind: 'upstream', identity },
    // the IdP's answer was verified: a browser without a device cookie gets one here, and only here (`issueDevice`:
    // laned within its account's share, `rateLimit.perIdentityNewDevices`; past it risk-only, risk/device-cookie.ts)
    requestContextOf(ctx, services, params, { issueDevice }),
    'kept',
    undefined,
    held,
  );
}

/** The part of the RP's authorization request the translation point reads, as a login's context keeps it. */
export function requestParams(params: Record<string, unknown>): { authorization_details?: unknown } {
  const details = params.authorization_details;
  return details === undefined ? {} : { authorization_details: details };
}
