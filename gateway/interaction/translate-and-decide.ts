/**
 * After the ACS verified the IdP's answer: the translation point decides the login (`translation/`:
 * translate → risk stages → policy → decision, the login in FRAUD_CHECK meanwhile). The outcome is kept for
 * /interaction/:uid/complete to act on; no token exists yet.
 */
import type { Context } from 'koa';
import type { UpstreamIdentity } from '../../adapters/contract.ts';
import { requestContextOf, translationPoint } from '../completion/translation-of.ts';
import type { Services } from '../services.ts';

export async function translateAndDecide(
  ctx: Context,
  services: Services,
  loginId: string,
  identity: UpstreamIdentity,
): Promise<void> {
  // what the RP said is at stake is in its authorization request (RFC 9396 `authorization_details`)
  const interaction = await services.holder.provider.Interaction.find(loginId);
  await translationPoint(services).decide(
    loginId,
    { kind: 'upstream', identity },
    requestContextOf(ctx, services, interaction?.params),
  );
}
