/**
 * Where oidc-provider sends the browser once an authorization request needs an interaction
 * (`interactions.url`): the gateway's interaction page, `/interaction/:uid`, unless the SSO gate decided the
 * request's login while answering it (issue #14: an interactive request on a session goes from /auth
 * straight to the resume, one request less; `SsoGate.atAuthorization`).
 *
 * oidc-provider scopes its interaction cookie to the path of the destination. When the destination is not the
 * interaction page, the cookie is set for the interaction's pages too (`/interaction/:uid`, same options and
 * lifetime), so that a decision needing the person (a step-up, a manual review) still reaches them.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { PendingInteraction, SsoGate } from './session-reuse.ts';

/** The short cookies' options oidc-provider uses for its interaction cookie (provider.ts `cookies.short`). */
export interface ShortCookie {
  httpOnly: boolean;
  sameSite: 'lax';
  secure: boolean;
  signed: boolean;
}

export function interactionUrl(
  gate: SsoGate,
  short: ShortCookie,
): (ctx: KoaContextWithOIDC, interaction: PendingInteraction) => Promise<string> {
  return async (ctx, interaction) => {
    const page = `/interaction/${encodeURIComponent(interaction.uid)}`;
    const decided = gate.atAuthorization ? await gate.atAuthorization(ctx, interaction) : undefined;
    if (decided === undefined) return page;
    const seconds = typeof interaction.exp === 'number' ? interaction.exp - Math.floor(Date.now() / 1000) : 0;
    ctx.cookies.set(ctx.oidc.provider.cookieName('interaction'), interaction.uid, {
      ...short,
      path: page,
      maxAge: Math.max(seconds, 0) * 1000,
    });
    return decided;
  };
}
