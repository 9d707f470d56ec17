/**
 * Renders the chooser for one login: only IdPs that are available now (metadata valid, not disabled),
 * those below the level the RP requires shown disabled with the reason, the one used last on this
 * device first, in the person's language.
 */
import type { Context } from 'koa';
import { GatewayError } from '../errors.ts';
import type { Services } from '../services.ts';
import { acrOfLoa, acrRank } from '../translate/acr.ts';
import { pickLanguage } from './chooser-i18n.ts';
import { lastIdp } from './chooser-memory.ts';
import { chooserPage, type ChooserEntry } from './chooser-page.ts';
import { servesClient } from '../idps/idp-clients.ts';
import type { LoginContext } from '../session/login-context.ts';

export function renderChooser(ctx: Context, services: Services, login: LoginContext, clientName: string): void {
  // an IdP registered for other RPs only is not shown at all (idp-clients.ts)
  const available = services.adapters.available().filter((a) => servesClient(a, login.clientId));
  const last = lastIdp(
    ctx,
    available.map((a) => a.id),
  );
  const entries: ChooserEntry[] = available.map((a) => {
    const enough = acrRank(acrOfLoa(a.maxLoa)) >= acrRank(login.requiredAcr);
    return { id: a.id, displayName: a.displayName, available: enough, lastUsed: enough && a.id === last };
  });
  entries.sort((a, b) => Number(b.lastUsed ?? false) - Number(a.lastUsed ?? false));
  ctx.set('Cache-Control', 'no-store');
  const lang = pickLanguage(ctx, services.config.cookies.secure);
  ctx.set('Content-Language', lang);
  ctx.type = 'html';
  ctx.body = chooserPage({ uid: login.loginId, clientName, entries, requiredAcr: login.requiredAcr, lang });
}

/**
 * Refuses an IdP that cannot be chosen now (from `idp_hint` or a stale chooser page): unknown, or registered for other
 * RPs only (`onlyClients`) → `IDP_UNKNOWN`, metadata expired or invalid, or disabled → `IDP_UNAVAILABLE` (HTTP 400,
 * never a 500).
 */
export function assertSelectable(services: Services, idpId: string, clientId: string): void {
  const adapter = services.adapters.list().find((a) => a.id === idpId);
  if (!adapter || !servesClient(adapter, clientId))
    throw new GatewayError('IDP_UNKNOWN', 400, 'unknown identity provider', { detail: idpId });
  if ((adapter.availability?.() ?? 'available') !== 'available') {
    throw new GatewayError(
      'IDP_UNAVAILABLE',
      400,
      'this identity provider is unavailable at the moment; choose another one',
      { detail: idpId },
    );
  }
}
