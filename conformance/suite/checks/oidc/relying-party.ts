/**
 * What a relying party written for real software meets (issue #13 items 1–6): pairwise subjects across
 * redirect hosts (`sector_identifier_uri`), visible errors (a reference, a way back), RFC 9207 `iss` on
 * errors (OIDC-ISS-02), FranceConnect's scope conventions, RFC 8176 `amr` values, and JSON errors from
 * every OAuth endpoint whatever `Accept` says.
 */
import { Browser } from '../../browser/browser.ts';
import { runLogin, idpParty } from '../../login.ts';
import { SuiteRp } from '../../parties/rp.ts';
import { describe } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { goodLogin, sharedLogin } from './flows.ts';

const BASE = 'OIDC-BASE-00';

/** The IANA "Authentication Method Reference Values" registry (RFC 8176 §2). */
const RFC8176 = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
]);
const FRANCECONNECT_SCOPES = [
  'openid',
  'profile',
  'birth',
  'identite_pivot',
  'amr',
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'email',
  'preferred_username',
];
const PERSONAL = [
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
  'preferred_username',
  'email',
];
const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** An authorization request with a redirect URI the client never registered, read as a browser does. */
async function refusedPage(
  url: URL,
): Promise<{ status: number; requestId: string | null; html: string; type: string }> {
  const response = await new Browser().request(url, { headers: { accept: HTML_ACCEPT } });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    html: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}

/** The checks of the relying-party integration group. */
export const relyingPartyChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-RPI-01',
    title: 'Redirect URIs on two hosts under one sector_identifier_uri give a person one pairwise sub',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §8.1; OpenID Connect Registration §5',
    requires: [BASE],
    run: async (ctx) => {
      const alternate = ctx.rp.client.alternateRedirectUri;
      if (alternate === undefined)
        return skip(
          'the suite client has no second redirect URI on another host (--alternate-redirect-uri): register one under a sector_identifier_uri to run this check',
        );
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id): no login can be driven');
      const { claims } = await sharedLogin(ctx);
      const other = new SuiteRp({ ...ctx.rp.client, redirectUri: alternate }, ctx.rp.discovery);
      const out = await runLogin(other, idpParty(ctx.idp));
      if (out.code === null)
        return judge(false, {
          sent: `login through ${alternate}`,
          expected: 'a code (the sector document lists both redirect URIs)',
          observed: describe(out),
        });
      const tokens = await other.exchange(out.code, out.request);
      const { payload } = await other.verifyIdToken(String(tokens.json.id_token), out.request.nonce);
      return judge(payload.sub === claims.sub, {
        sent: `the same person logs in through ${ctx.rp.client.redirectUri} and ${alternate}`,
        expected: 'the same sub (one sector: the host of the sector_identifier_uri)',
        observed: payload.sub === claims.sub ? 'same sub' : 'different subs',
      });
    },
  },
  {
    id: 'OIDC-RPI-02',
    title: "An error page shows a reference that matches the response's X-Request-Id",
    plan: 'oidc',
    source: 'issue #13 item 2 (support needs a reference a person can read out)',
    run: async (ctx) => {
      const page = await refusedPage(ctx.rp.authorization({ redirect_uri: 'https://unregistered.invalid/cb' }).url);
      const ok = page.status >= 400 && page.requestId !== null && page.html.includes(page.requestId);
      return judge(ok, {
        sent: 'authorization request with an unregistered redirect_uri, Accept: text/html',
        expected: 'an HTML error page that shows the X-Request-Id value',
        observed: `HTTP ${page.status}, X-Request-Id ${page.requestId ?? 'absent'}, ${page.requestId !== null && page.html.includes(page.requestId) ? 'shown' : 'not shown'} on the page`,
      });
    },
  },
  {
    id: 'OIDC-RPI-03',
    title: "An error page for a known RP links back to that RP's registered site, never to the URI sent",
    plan: 'oidc',
    source: 'issue #13 item 2 (no dead ends); RFC 9700 §4.11 (open redirectors)',
    run: async (ctx) => {
      const registered = new URL(ctx.rp.client.redirectUri).origin;
      const page = await refusedPage(ctx.rp.authorization({ redirect_uri: 'https://unregistered.invalid/cb' }).url);
      const linksBack = page.html.includes(`href="${registered}/"`);
      const echoes = page.html.includes('unregistered.invalid');
      return judge(linksBack && !echoes, {
        sent: 'authorization request of the suite client with an unregistered redirect_uri',
        expected: `a link to ${registered}/ and no trace of the URI sent`,
        observed: `${linksBack ? 'links back' : 'no link back'}; ${echoes ? 'echoes the unregistered URI' : 'does not echo it'}`,
      });
    },
  },
  {
    id: 'OIDC-RPI-04',
    title: "Discovery announces FranceConnect's scopes",
    plan: 'oidc',
    source: 'FranceConnect partner documentation (scopes); OpenID Connect Discovery §3',
    run: async (ctx) => {
      const supported = (ctx.rp.discovery.scopes_supported ?? []) as string[];
      const missing = FRANCECONNECT_SCOPES.filter((s) => !supported.includes(s));
      return judge(missing.length === 0, {
        sent: 'GET discovery',
        expected: `scopes_supported ⊇ ${FRANCECONNECT_SCOPES.join(' ')}`,
        observed: missing.length === 0 ? 'all announced' : `missing ${missing.join(' ')}`,
      });
    },
  },
  {
    id: 'OIDC-RPI-05',
    title: 'A single-claim scope releases exactly its claim',
    plan: 'oidc',
    source: 'FranceConnect partner documentation (given_name scope); OpenID Connect Core 1.0 §5.4',
    requires: [BASE],
    run: async (ctx) => {
      const { claims } = await goodLogin(ctx, { scope: 'openid given_name' });
      const released = PERSONAL.filter((c) => c in claims);
      return judge(released.length === 1 && released[0] === 'given_name', {
        sent: 'login with scope=openid given_name',
        expected: 'given_name and no other personal claim',
        observed: `personal claims: ${released.join(', ') || 'none'}`,
      });
    },
  },
  {
    id: 'OIDC-RPI-06',
    title: 'An unknown scope is ignored: the login succeeds and the scope is not granted',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1 (scope values not understood SHOULD be ignored)',
    requires: [BASE],
    run: async (ctx) => {
      const { tokens } = await goodLogin(ctx, { scope: 'openid conformance_unknown_scope' });
      const scope = String(tokens.json.scope ?? '');
      return judge(!scope.split(' ').includes('conformance_unknown_scope'), {
        sent: 'login with scope=openid conformance_unknown_scope',
        expected: 'a code and tokens; the unknown scope absent from the granted scope',
        observed: `granted scope "${scope}"`,
      });
    },
  },
  {
    id: 'OIDC-RPI-07',
    title: 'amr holds RFC 8176 values only (never a protocol name such as saml)',
    plan: 'oidc',
    source: 'RFC 8176 §2; OpenID Connect Core 1.0 §2 (amr)',
    requires: [BASE],
    run: async (ctx) => {
      const { claims } = await sharedLogin(ctx);
      const amr = claims.amr;
      const values = Array.isArray(amr) ? amr.map(String) : [];
      const foreign = values.filter((v) => !RFC8176.has(v));
      return judge(values.length > 0 && foreign.length === 0, {
        sent: "the positive control's ID token",
        expected: 'a non-empty amr of registered values',
        observed: Array.isArray(amr) ? `amr=${JSON.stringify(amr)}` : 'no amr',
      });
    },
  },
  {
    id: 'OIDC-RPI-08',
    title: 'Every OAuth endpoint answers a JSON error to Accept: text/html',
    plan: 'oidc',
    source: 'RFC 6749 §5.2; RFC 7662 §2.3; RFC 7009 §2.2.1; RFC 9126 §2.3; RFC 6750 §3',
    run: async (ctx) => {
      const d = ctx.rp.discovery as Record<string, unknown>;
      const form = { 'content-type': 'application/x-www-form-urlencoded', accept: HTML_ACCEPT };
      const probes: Array<[string, RequestInit]> = [
        [
          'token_endpoint',
          { method: 'POST', headers: form, body: 'grant_type=authorization_code&code=conformance-invalid' },
        ],
        ['introspection_endpoint', { method: 'POST', headers: form, body: 'token=conformance-invalid' }],
        ['revocation_endpoint', { method: 'POST', headers: form, body: 'token=conformance-invalid' }],
        ['pushed_authorization_request_endpoint', { method: 'POST', headers: form, body: 'response_type=code' }],
        ['userinfo_endpoint', { headers: { authorization: 'Bearer conformance-invalid', accept: HTML_ACCEPT } }],
      ];
      const seen: string[] = [];
      let ok = true;
      for (const [name, init] of probes) {
        if (typeof d[name] !== 'string') continue;
        const response = await fetch(String(d[name]), { ...init, signal: AbortSignal.timeout(15_000) });
        const type = response.headers.get('content-type') ?? '';
        const body = await response.text();
        let error: unknown;
        try {
          error = (JSON.parse(body) as { error?: unknown }).error;
        } catch {
          error = undefined;
        }
        const good = response.status >= 400 && /^application\/json/.test(type) && typeof error === 'string';
        ok &&= good;
        seen.push(
          `${name.replace(/_endpoint$/, '')}: HTTP ${response.status} ${type.split(';')[0] || '(no type)'}${typeof error === 'string' ? ` error=${error}` : ''}`,
        );
      }
      return judge(ok && seen.length > 0, {
        sent: 'an invalid request to each OAuth endpoint of discovery, Accept: text/html',
        expected: 'HTTP 4xx, application/json, an error member',
        observed: seen.join('; ') || 'no endpoint in discovery',
      });
    },
  },
];
