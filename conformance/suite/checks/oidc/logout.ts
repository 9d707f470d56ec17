/**
 * OIDF RP-Initiated Logout OP plan: a valid logout redirects to the registered post_logout_redirect_uri
 * with the state and ends the session (`prompt=none` then fails); a bad post_logout_redirect_uri, an
 * `alg: none` or foreign id_token_hint, or a redirect URI without any client identification never
 * redirects (error page or confirmation page instead). After a logout, the session's access token is refused
 * at UserInfo and inactive at introspection (OIDC-RPL-08: the revocation is enforced where the RP uses it).
 */
import { decodeJwt } from 'jose';
import { Browser } from '../../browser/browser.ts';
import { formsIn } from '../../browser/forms.ts';
import type { SuiteContext } from '../../context.ts';
import { judge, type CheckDefinition, type Outcome } from '../../types.ts';
import { describeHop, firstHop, goodLogin, type GoodLogin } from './flows.ts';
import { attackerJwt, unsignedJwt } from './jwt.ts';

const SOURCE = 'OpenID Connect RP-Initiated Logout 1.0 §2, §3';

/** Where a logout request ended: at the post-logout redirect URI (with its query) or on a page. */
interface LogoutLanding {
  redirected: boolean;
  url: URL;
  status: number;
}

/**
 * Sends the end-session request, confirms on the OP's page (`logout=yes`) when asked, follows the auto-posted
 * forms of a SAML Single Logout round trip with the IdP when the deployment does one, and reports where it ended.
 */
async function endSession(ctx: SuiteContext, browser: Browser, params: Record<string, string>): Promise<LogoutLanding> {
  const plru = ctx.rp.client.postLogoutRedirectUri;
  const atPlru = (u: URL): boolean =>
    u.href.startsWith(plru) && u.pathname === new URL(plru).pathname && u.origin === new URL(plru).origin;
  const endpoint = new URL(String(ctx.rp.discovery.end_session_endpoint));
  for (const [k, v] of Object.entries(params)) endpoint.searchParams.set(k, v);
  let step = await browser.follow(endpoint, {}, atPlru);
  for (let i = 0; i < 6 && !atPlru(step.url) && step.response.status === 200; i++) {
    const form = formsIn(await step.response.text()).find((f) => f.method === 'POST');
    if (form === undefined) break;
    step = await browser.submit(form, step.url, { logout: 'yes' }, atPlru);
  }
  return { redirected: atPlru(step.url), url: step.url, status: step.response.status };
}

function describeLanding(l: LogoutLanding): string {
  return l.redirected
    ? `redirected to the post_logout_redirect_uri${l.url.search === '' ? '' : ` with ${l.url.search}`}`
    : `HTTP ${l.status} at ${l.url.pathname}, no redirect`;
}

async function loggedIn(ctx: SuiteContext): Promise<{ browser: Browser; login: GoodLogin }> {
  const browser = new Browser();
  return { browser, login: await goodLogin(ctx, {}, browser) };
}

async function mustNotRedirect(
  ctx: SuiteContext,
  sent: string,
  params: (login: GoodLogin) => Promise<Record<string, string>>,
): Promise<Outcome> {
  const { browser, login } = await ctx.memo('logout-negative-session', () => loggedIn(ctx));
  const landing = await endSession(ctx, browser, await params(login));
  // a rate limit, an overload or a server error refuses nothing it was sent: not judged a pass
  const notJudged = !landing.redirected && (landing.status === 429 || landing.status >= 500);
  return judge(!landing.redirected && !notJudged, {
    sent,
    expected: "an error page or the OP's own logout page; never a redirect to the given URI",
    observed: `${describeLanding(landing)}${notJudged ? '; a rate limit or a server error, not a refusal: not judged' : ''}`,
  });
}

/** The RP-initiated logout checks. */
export const logoutChecks: readonly CheckDefinition[] = [
  {
    id: 'OIDC-RPL-01',
    title: 'Logout with id_token_hint redirects with state and ends the session',
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00'],
    run: async (ctx) => {
      const { browser, login } = await loggedIn(ctx);
      const state = 'logout-state-123';
      const landing = await endSession(ctx, browser, {
        id_token_hint: login.idToken,
        post_logout_redirect_uri: ctx.rp.client.postLogoutRedirectUri,
        state,
      });
      const after = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none' }).url, browser);
      const ok =
        landing.redirected &&
        landing.url.searchParams.get('state') === state &&
        after.params.get('error') === 'login_required';
      return judge(ok, {
        sent: 'end_session with id_token_hint, the registered post_logout_redirect_uri and state; then prompt=none',
        expected: 'redirect to the URI with the same state; then login_required',
        observed: `${describeLanding(landing)}; then ${describeHop(after)}`,
      });
    },
  },
  {
    id: 'OIDC-RPL-02',
    title: 'An unregistered post_logout_redirect_uri is not redirected to',
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout-bad-post-logout-redirect-uri`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00', 'OIDC-RPL-01'],
    run: (ctx) =>
      mustNotRedirect(ctx, 'id_token_hint + post_logout_redirect_uri=https://attacker.example/', async (login) => ({
        id_token_hint: login.idToken,
        post_logout_redirect_uri: 'https://attacker.example/',
      })),
  },
  {
    id: 'OIDC-RPL-03',
    title: 'A post_logout_redirect_uri with an added query is not redirected to',
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00', 'OIDC-RPL-01'],
    run: (ctx) =>
      mustNotRedirect(ctx, 'registered post_logout_redirect_uri + ?x=1', async (login) => ({
        id_token_hint: login.idToken,
        post_logout_redirect_uri: `${ctx.rp.client.postLogoutRedirectUri}${ctx.rp.client.postLogoutRedirectUri.includes('?') ? '&' : '?'}x=1`,
      })),
  },
  {
    id: 'OIDC-RPL-04',
    title: 'An alg:none id_token_hint does not authorise a redirect',
    plan: 'oidc',
    source: `${SOURCE}; RFC 8725 §3.1; oidcc-rp-initiated-logout-modified-id-token-hint`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00', 'OIDC-RPL-01'],
    run: (ctx) =>
      mustNotRedirect(
        ctx,
        'id_token_hint re-encoded with alg none + registered post_logout_redirect_uri',
        async (login) => ({
          id_token_hint: unsignedJwt(decodeJwt(login.idToken)),
          post_logout_redirect_uri: ctx.rp.client.postLogoutRedirectUri,
        }),
      ),
  },
  {
    id: 'OIDC-RPL-05',
    title: 'An id_token_hint signed by someone else does not authorise a redirect',
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout-bad-id-token-hint`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00', 'OIDC-RPL-01'],
    run: (ctx) =>
      mustNotRedirect(
        ctx,
        'id_token_hint signed by an attacker key + registered post_logout_redirect_uri',
        async (login) => ({
          id_token_hint: await attackerJwt(ctx, decodeJwt(login.idToken)),
          post_logout_redirect_uri: ctx.rp.client.postLogoutRedirectUri,
        }),
      ),
  },
  {
    id: 'OIDC-RPL-06',
    title: 'A post_logout_redirect_uri without id_token_hint or client_id is not redirected to',
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout-no-id-token-hint`,
    requires: ['OIDC-RPL-00', 'OIDC-RPL-01'],
    run: (ctx) =>
      mustNotRedirect(ctx, 'post_logout_redirect_uri alone', async () => ({
        post_logout_redirect_uri: ctx.rp.client.postLogoutRedirectUri,
      })),
  },
  {
    id: 'OIDC-RPL-07',
    title: "Logout without parameters ends the session on the OP's own page",
    plan: 'oidc',
    source: `${SOURCE}; oidcc-rp-initiated-logout-no-params`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00'],
    run: async (ctx) => {
      const { browser } = await loggedIn(ctx);
      const landing = await endSession(ctx, browser, {});
      const after = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none' }).url, browser);
      return judge(!landing.redirected && landing.status === 200 && after.params.get('error') === 'login_required', {
        sent: 'end_session without parameters, confirmed; then prompt=none',
        expected: "the OP's logged-out page; then login_required",
        observed: `${describeLanding(landing)}; then ${describeHop(after)}`,
      });
    },
  },
  {
    id: 'OIDC-RPL-08',
    title: 'After logout, the session’s access token is refused at UserInfo and inactive at introspection',
    plan: 'oidc',
    source: `${SOURCE}; OpenID Connect Core 1.0 §5.3.3; RFC 7662 §2.2; issue #12 item 4 (revocation enforced)`,
    requires: ['OIDC-BASE-00', 'OIDC-RPL-00'],
    run: async (ctx) => {
      const { browser, login } = await loggedIn(ctx);
      const token = String(login.tokens.json.access_token ?? '');
      const before = await ctx.rp.userinfo(token);
      const landing = await endSession(ctx, browser, {
        id_token_hint: login.idToken,
        post_logout_redirect_uri: ctx.rp.client.postLogoutRedirectUri,
      });
      const after = await ctx.rp.userinfo(token);
      const introspection = ctx.rp.discovery.introspection_endpoint;
      const active =
        typeof introspection === 'string' ? (await ctx.rp.introspect(token)).json.active : 'no introspection endpoint';
      // a target without introspection is judged on UserInfo alone (the observation says so)
      const inactive = active === false || active === 'no introspection endpoint';
      return judge(before.status === 200 && landing.redirected && after.status === 401 && inactive, {
        sent: 'UserInfo with the access token; end_session (confirmed); UserInfo and introspection with the same token',
        expected: 'UserInfo 200 before; after the logout UserInfo 401 and introspection active: false',
        observed: `UserInfo ${before.status} before; ${describeLanding(landing)}; UserInfo ${after.status} after; introspection active: ${String(active)}`,
      });
    },
  },
];
