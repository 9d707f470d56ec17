/**
 * A per-client compatibility switch: `compatibility.errorResponseIss = "omit"` removes RFC 9207's `iss`
 * from the *error* authorization responses sent to that client. Success responses keep `iss`, and every
 * other client keeps it on errors too (the default, "send").
 *
 * Why it exists: mod_auth_openidc up to 2.4.12 reads a request to its redirect URI that carries `iss`
 * but no `code` as a third-party-initiated login (OIDC Core §4: `iss` + `target_link_uri`) and answers
 * "SSO to this module without specifying a target_link_uri" instead of showing the real error
 * (`access_denied`, `login_required`, …). A later mod_auth_openidc (RFC 9207 support) needs no switch.
 *
 * - Applies to the routes that answer the RP's redirect URI (`authorization`, `resume`), response modes
 *   `query`, `fragment` (the Location header) and `form_post` (the hidden input).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

const FRONT_CHANNEL: ReadonlySet<string> = new Set(['authorization', 'resume']);

function withoutIss(location: string): string {
  // the gateway's own pages (/interaction/…) are relative: only an absolute URL is the RP's redirect URI
  const url = URL.parse(location);
  if (url === null) return location;
  const query = url.searchParams;
  if (query.has('error') && query.has('iss')) {
    query.delete('iss');
    return url.href;
  }
  const fragment = new URLSearchParams(url.hash.slice(1));
  if (fragment.has('error') && fragment.has('iss')) {
    fragment.delete('iss');
    url.hash = fragment.toString();
    return url.href;
  }
  return location;
}

/**
 * oidc-provider middleware (`provider.use`).
 *
 * @example
 * provider.use(omitIssOnErrors(new Set(['legacy-apache-rp'])));
 */
export function omitIssOnErrors(clientIds: ReadonlySet<string>) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    const clientId = ctx.oidc?.client?.clientId;
    if (clientId === undefined || !clientIds.has(clientId) || !FRONT_CHANNEL.has(String(ctx.oidc.route))) return;
    const location = ctx.response.get('location');
    if (location) {
      ctx.response.set('location', withoutIss(location));
      return;
    }
    if (typeof ctx.body === 'string' && ctx.body.includes('name="error"')) {
      ctx.body = ctx.body.replace(/\n?\s*<input type="hidden" name="iss" value="[^"]*"\/>/, '');
    }
  };
}
