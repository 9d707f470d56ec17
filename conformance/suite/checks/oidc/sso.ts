/**
 * Single sign-on must not be a silent path to a token (issue #12 item 1): an authorization answered from an
 * existing session must still meet the RP's requirements, and be decided on its own. Judged over HTTP from a
 * browser that holds a session:
 *
 * - OIDC-SSO-01: `prompt=none` asking for a higher acr than the session's (as `acr_values`, and as an
 *   essential `acr` claim), or with a `max_age` the session is older than, gets no code (`login_required`,
 *   `interaction_required` or another error), never a code from the weaker or older session;
 * - OIDC-SSO-02: a code given silently (`prompt=none`) on a session comes from an assessment of its own: the
 *   deployment's signed risk assessment (`/risk/assessment`, verified against its JWKS) for that code's access
 *   token is dated at or after the silent request, not the first login's. Skipped when the deployment offers
 *   no signed assessment.
 *
 * - OIDC-SSO-03: the cookies of a browser holding a session, copied into a fresh browser as a sibling site of the
 *   deployment's domain can plant them (every cookie whose name is not `__Host-` prefixed, with its path), give
 *   that browser no code silently: otherwise an attacker's own session, planted so, logs a person in to an RP as
 *   the attacker (a login CSRF the RP's `state` cannot see, as the person's own request gets the code). Judged
 *   on an https issuer only (an http one cannot set `__Host-` cookies), against a control: a fresh browser given
 *   every cookie of the session does get a code (otherwise inconclusive, skipped). Each `__Host-X` cookie's value
 *   is planted as well under `X` and `__Secure-X` (names a sibling can set), to catch a deployment that reads a
 *   fallback name when its prefixed cookie is missing.
 *
 * The suite has one registered RP: "a second RP's SSO" is observed as the same RP's silent request, which the
 * gateway treats the same way (every request on a session is a login of its own).
 */
import { compactVerify, createLocalJWKSet } from 'jose';
import { Browser } from '../../browser/browser.ts';
import { describe } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import { goodLogin } from './flows.ts';

const BASE = 'OIDC-BASE-00';

/** The acr values of discovery above `held`, in the deployment's order (eidas1 < eidas2 < eidas3 by convention). */
function higherThan(offered: readonly string[], held: string): string | undefined {
  const index = offered.indexOf(held);
  return index === -1 ? undefined : offered[index + 1];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HeldCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * What a sibling site can plant of `held`: every cookie not `__Host-` prefixed (RFC 6265bis §5.4: matched without
 * regard to case), and each `__Host-X` one's value under `X` and `__Secure-X` (which a sibling can set, with its
 * `Domain`) unless the session holds that name already.
 */
function plantableCopies(held: readonly HeldCookie[]): HeldCookie[] {
  const isHost = (name: string) => name.toLowerCase().startsWith('__host-');
  const plantable = held.filter((c) => !isHost(c.name));
  const taken = new Set(plantable.map((c) => c.name));
  for (const c of held.filter((h) => isHost(h.name))) {
    const base = c.name.slice('__Host-'.length);
    for (const name of [base, `__Secure-${base}`])
      if (base !== '' && !taken.has(name)) {
        taken.add(name);
        plantable.push({ name, value: c.value, path: '/' });
      }
  }
  return plantable;
}

/** The SSO checks. */
export const ssoChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-SSO-01',
    title: 'prompt=none on a session weaker or older than the request asks gets no code',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1 (acr_values, max_age), §3.1.2.6, §5.5.1.1 (essential acr)',
    requires: [BASE],
    run: async (ctx) => {
      const offered = Array.isArray(ctx.rp.discovery.acr_values_supported)
        ? ctx.rp.discovery.acr_values_supported.map(String)
        : [];
      const browser = new Browser();
      const { claims } = await goodLogin(ctx, {}, browser);
      const held = String(claims.acr);
      const higher = higherThan(offered, held);
      if (higher === undefined)
        return skip(`the session's acr (${held}) is the highest the deployment offers (${offered.join(' ')})`, {
          sent: 'an honest login',
          expected: 'a session below the highest acr',
        });
      // a second later, so that max_age=0 is exceeded however the deployment rounds auth_time
      await sleep(1_100);
      const variants: Array<[string, Record<string, string>]> = [
        [`acr_values=${higher}`, { acr_values: higher }],
        [
          `claims with an essential acr ${higher}`,
          { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [higher] } } }) },
        ],
        ['max_age=0', { max_age: '0' }],
      ];
      const observed: string[] = [];
      let ok = true;
      for (const [name, extra] of variants) {
        const out = await ctx.login({ authorize: { prompt: 'none', ...extra }, browser });
        const refused = out.code === null && (out.at !== 'rp' || out.error !== null);
        ok &&= refused && out.authnRequestXml === undefined;
        observed.push(`${name}: ${describe(out)}`);
      }
      return judge(ok, {
        sent: `prompt=none in a browser whose session holds ${held}: ${variants.map(([n]) => n).join('; ')}`,
        expected: 'each: an error at the RP (login_required, interaction_required, …) and no code',
        observed: observed.join('; '),
      });
    },
  },
  {
    id: 'OIDC-SSO-02',
    title: 'A code given silently on a session comes from an assessment of its own',
    plan: 'oidc',
    source: 'Product brief: every authorization decided again (zero trust after the login); issue #12 item 1',
    requires: [BASE],
    run: async (ctx) => {
      const browser = new Browser();
      const first = await goodLogin(ctx, {}, browser);
      const endpoint = new URL('risk/assessment', ctx.target.href.endsWith('/') ? ctx.target : `${ctx.target.href}/`);
      const assessedAt = async (accessToken: unknown): Promise<number | null> => {
        if (typeof accessToken !== 'string') return null;
        const response = await fetch(endpoint, {
          headers: { authorization: `Bearer ${accessToken}` },
          signal: AbortSignal.timeout(15_000),
        });
        if (!response.ok) return null;
        const { payload } = await compactVerify(await response.text(), createLocalJWKSet(await ctx.rp.jwks()));
        const claims = JSON.parse(new TextDecoder().decode(payload)) as { assessed_at?: unknown };
        return typeof claims.assessed_at === 'number' ? claims.assessed_at : null;
      };
      const firstAt = await assessedAt(first.tokens.json.access_token);
      if (firstAt === null)
        return skip('the deployment offers no signed risk assessment for an access token (/risk/assessment)', {
          sent: `GET ${endpoint.pathname} with the first login's access token`,
          expected: 'a signed assessment',
        });
      // the next second: an assessment made for the silent request is dated after the first login's
      await sleep(1_100);
      const asked = Math.floor(Date.now() / 1000);
      const again = await goodLogin(ctx, { prompt: 'none' }, browser);
      const againAt = await assessedAt(again.tokens.json.access_token);
      return judge(againAt !== null && againAt >= asked && again.out.authnRequestXml === undefined, {
        sent: 'an honest login, then prompt=none in the same browser a second later; GET /risk/assessment with each access token',
        expected: `the silent code's assessment dated at or after the silent request (≥ ${asked})`,
        observed: `${describe(again.out)}; first login assessed at ${firstAt}, silent request's token assessed at ${againAt ?? 'none'}`,
      });
    },
  },
  {
    id: 'OIDC-SSO-03',
    title: "A session's cookies that a sibling site can plant log no other browser in",
    plan: 'oidc',
    source: 'RFC 6265bis §4.1.3.2 (the __Host- prefix); RFC 9700 §4.4.1 (login CSRF); OWASP session fixation',
    requires: [BASE],
    run: async (ctx) => {
      if (ctx.target.protocol !== 'https:')
        return skip('an http issuer cannot set __Host- cookies: judged against an https deployment', {
          sent: 'nothing',
          expected: 'an https issuer',
        });
      const owner = new Browser();
      await goodLogin(ctx, {}, owner);
      // the session's cookies as they are once it answered silently (an SSO may give the session a new id)
      const own = await ctx.login({ authorize: { prompt: 'none' }, browser: owner });
      if (own.code === null)
        return skip('the session gives no code silently even to its own browser: nothing to plant', {
          sent: 'an honest login, then prompt=none in the same browser',
          expected: 'a code',
        });
      const held = owner.cookiesOf(ctx.target);
      // RFC 6265bis §5.4: the prefixes are matched without regard to case
      const plantable = plantableCopies(held);
      const names = plantable.map((c) => c.name).join(', ') || 'none';
      const sent = `an honest login; its browser's cookies a sibling site can plant, and each __Host- one's value under its fallback names (${names}), copied into a fresh browser; prompt=none there`;
      const victim = new Browser();
      for (const c of plantable) victim.plant(ctx.target, c.name, c.value, c.path);
      // stopped before any IdP: a deployment that sends prompt=none upstream (IsPassive) is not judged on the IdP
      const out = await ctx.login({ authorize: { prompt: 'none' }, browser: victim, stopAtAuthnRequest: true });
      const planted = out.code !== null || out.params.has('code');
      if (!planted) {
        // the control: every cookie copied (as the site set them) does give a code, so the planted ones' failure
        // above is theirs, not a refusal of any fresh browser (a new device stepped up, say)
        const control = new Browser();
        for (const c of held) control.adopt(ctx.target, c.name, c.value, c.path);
        const copied = await ctx.login({ authorize: { prompt: 'none' }, browser: control, stopAtAuthnRequest: true });
        if (copied.code === null)
          return skip(
            'a fresh browser holding every cookie of the session gets no code silently either: inconclusive',
            {
              sent,
              expected: 'a code for the control browser',
              observed: `planted: ${describe(out)}; control: ${describe(copied)}`,
            },
          );
      }
      const refused = !planted && out.status < 500 && (out.at === 'page' || out.error !== null);
      return judge(refused, {
        sent,
        expected: 'no code in the fresh browser: an error at the RP (login_required) or a page asking to log in',
        observed: describe(out),
      });
    },
  },
];
