/**
 * Which IdPs can serve a login, and what happens when none, or one, can (issue #13 items 7 and 8):
 * - none available reaches the acr the RP requires → the RP gets `unmet_authentication_requirements`
 *   (OIDC Core §3.1.2.6) with its `state` and `iss`, never a chooser with every button greyed out;
 * - exactly one can, and the federation allows it (`federation.skipChooserWithOneIdp`, default true) →
 *   straight to that IdP, as `idp_hint` does.
 */
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { Services } from '../services.ts';
import { errorSpec } from '../error-registry.ts';
import { translationPoint } from '../completion/translation-of.ts';
import { acrOfLoa, acrRank, type Acr } from '../translate/acr.ts';
import { servesClient } from '../idps/idp-clients.ts';

/** The ids of the IdPs available now that serve `clientId` and may assert `requiredAcr`. */
export function eligibleIdps(services: Services, requiredAcr: Acr, clientId: string): string[] {
  return services.adapters
    .available()
    .filter((a) => servesClient(a, clientId) && acrRank(acrOfLoa(a.maxLoa)) >= acrRank(requiredAcr))
    .map((a) => a.id);
}

/**
 * Ends a login whose requirements cannot be met: FAILED with `code` (by the translation point), and the RP
 * told `unmet_authentication_requirements` through oidc-provider (so with `state` and `iss`).
 */
export async function endUnmet(
  ctx: Context,
  services: Services,
  loginId: string,
  code: 'ACR_UNREACHABLE' | 'STEP_UP_FAILED',
  component: string,
  refuse: (result: InteractionResults) => Promise<void>,
): Promise<void> {
  const spec = errorSpec(code);
  services.logger.info({ loginId, code }, 'authentication requirements cannot be met: back to the relying party');
  await translationPoint(services).end(loginId, code, component, ctx.state.requestId as string);
  await refuse({ error: 'unmet_authentication_requirements', error_description: spec.en });
}
