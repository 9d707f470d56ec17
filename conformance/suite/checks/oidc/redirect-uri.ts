/**
 * Redirect URIs are compared as exact strings (RFC 9700 §2.1, §4.1.3; RFC 6749 §4.1.2.1): an unregistered
 * or altered URI gets an error page and never a redirect; the token endpoint requires the same URI
 * as the authorization request (`oidcc-ensure-registered-redirect-uri`).
 */
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';
import { describeHop, describeTokenAnswer, firstHop, freshCode } from './flows.ts';

async function notRedirected(ctx: SuiteContext, variant: (registered: URL) => string, sent: string): Promise<Outcome> {
  const bad = variant(new URL(ctx.rp.client.redirectUri));
  const hop = await firstHop(ctx, ctx.rp.authorization({ redirect_uri: bad }).url);
  return judge(hop.location === null && hop.status >= 400 && hop.status < 500, {
    sent: `${sent}: redirect_uri=${bad}`,
    expected: 'an error page (4xx), no redirect anywhere',
    observed: describeHop(hop),
  });
}

/** The redirect-URI checks. */
export const redirectUriChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-RU-01',
    title: 'An unregistered redirect_uri gets an error page, not a redirect',
    plan: 'oidc',
    source: 'RFC 6749 §4.1.2.1; RFC 9700 §4.1.3; oidcc-ensure-registered-redirect-uri',
    run: (ctx) => notRedirected(ctx, () => 'https://attacker.example/callback', 'another origin'),
  },
  {
    id: 'OIDC-RU-02',
    title: 'A trailing-slash variant of the redirect_uri is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1 (exact string matching)',
    run: (ctx) => notRedirected(ctx, (u) => `${u.href}/`, 'registered URI + "/"'),
  },
  {
    id: 'OIDC-RU-03',
    title: 'A redirect_uri with an added query is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1; oidcc-redirect-uri-query-added',
    run: (ctx) =>
      notRedirected(
        ctx,
        (u) => `${u.href}${u.search === '' ? '?' : '&'}next=https://attacker.example`,
        'registered URI + query',
      ),
  },
  {
    id: 'OIDC-RU-04',
    title: 'A redirect_uri differing only in path case is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1; RFC 3986 §6.2.1',
    run: (ctx) => notRedirected(ctx, (u) => `${u.origin}${u.pathname.toUpperCase()}${u.search}`, 'path upper-cased'),
  },
  {
    id: 'OIDC-RU-05',
    title: "The token request must repeat the authorization request's redirect_uri",
    plan: 'oidc',
    source: 'RFC 6749 §4.1.3',
    requires: ['OIDC-BASE-00'],
    run: async (ctx) => {
      const { code, request } = await freshCode(ctx);
      const answer = await ctx.rp.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${ctx.rp.client.redirectUri}/other`,
        code_verifier: request.verifier,
      });
      return judge(answer.status === 400 && !('access_token' in answer.json), {
        sent: 'token request with another redirect_uri',
        expected: 'HTTP 400 invalid_grant, no token',
        observed: describeTokenAnswer(answer),
      });
    },
  },
];
