/**
 * OIDF Basic OP plan, code flow (`oidcc-server`, `-idtoken-signature`, `-userinfo-*`, `-prompt-none-*`,
 * `-ensure-request-without-nonce-succeeds-for-code-flow`, `-ensure-request-with-unknown-parameter-succeeds`,
 * `-ensure-request-with-acr-values-succeeds`, `-response-type-missing`), RFC 9207 `iss`, client authentication,
 * and the front channel carrying no tokens (RFC 9700 §2.1.2).
 */
import { Browser } from '../../browser/browser.ts';
import { describe } from '../../verdicts.ts';
import { judge, skip, type CheckDefinition } from '../../types.ts';
import {
  describeHop,
  describeTokenAnswer,
  firstHop,
  goodLogin,
  refusedHop,
  sessionBrowser,
  sharedLogin,
} from './flows.ts';

const BASE = 'OIDC-BASE-00';

/** The Basic OP checks. */
export const basicChecks: readonly CheckDefinition[] = [
  {
    id: BASE,
    title: 'Positive control: code flow with PKCE gives a code, tokens and a valid ID token',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1; oidcc-server',
    run: async (ctx) => {
      if (ctx.idp === undefined) return skip('no suite IdP is registered (--idp-id): no login can be driven');
      const { out, tokens, claims } = await sharedLogin(ctx);
      const ok =
        out.params.get('state') === out.request.state &&
        typeof tokens.json.access_token === 'string' &&
        typeof claims.sub === 'string';
      return judge(ok, {
        sent: 'authorization request (code, S256, state, nonce, idp_hint), honest SAML login, token request',
        expected:
          'code with the same state; token response with access_token and an ID token valid for this client and nonce',
        observed: `${describe(out)}; ${describeTokenAnswer(tokens)}; ID token sub ${claims.sub === undefined ? 'missing' : 'present'}, acr=${String(claims.acr)}`,
      });
    },
  },
  {
    id: 'OIDC-IDT-01',
    title: 'ID token of a client registered without an alg is RS256 with a kid',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §15.1; oidcc-idtoken-signature',
    requires: [BASE],
    run: async (ctx) => {
      const { header } = await sharedLogin(ctx);
      return judge(header.alg === 'RS256' && typeof header.kid === 'string', {
        sent: "the positive control's ID token",
        expected: 'JWS header alg=RS256 with a kid',
        observed: `alg=${String(header.alg)}, kid=${header.kid === undefined ? 'absent' : 'present'}`,
      });
    },
  },
  {
    id: 'OIDC-ISS-01',
    title: 'A successful authorization response carries iss = the issuer',
    plan: 'oidc',
    source: 'RFC 9207 §2',
    requires: [BASE],
    run: async (ctx) => {
      const { out } = await sharedLogin(ctx);
      return judge(out.params.get('iss') === ctx.rp.discovery.issuer, {
        sent: "the positive control's authorization response",
        expected: `iss=${ctx.rp.discovery.issuer}`,
        observed: `iss=${out.params.get('iss') ?? '(absent)'}`,
      });
    },
  },
  {
    id: 'OIDC-ISS-02',
    title: 'An error authorization response carries iss too',
    plan: 'oidc',
    source: 'RFC 9207 §2; oidcc-prompt-none-not-logged-in',
    run: async (ctx) => {
      const hop = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none' }).url);
      return judge(hop.params.has('error') && hop.params.get('iss') === ctx.rp.discovery.issuer, {
        sent: 'prompt=none from a browser without a session',
        expected: `error redirect with iss=${ctx.rp.discovery.issuer}`,
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-BASIC-01',
    title: 'UserInfo answers a GET with the access token in the header, same sub',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §5.3; oidcc-userinfo-get',
    requires: [BASE],
    run: async (ctx) => {
      const { tokens, claims } = await sharedLogin(ctx);
      const answer = await ctx.rp.userinfo(String(tokens.json.access_token));
      return judge(answer.status === 200 && answer.json.sub === claims.sub, {
        sent: 'GET userinfo, Authorization: Bearer',
        expected: "HTTP 200 with the ID token's sub",
        observed: `HTTP ${answer.status}, sub ${answer.json.sub === claims.sub ? 'matches' : 'differs'}`,
      });
    },
  },
  {
    id: 'OIDC-BASIC-02',
    title: 'UserInfo answers a POST with the access token in the header',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §5.3.1; oidcc-userinfo-post-header',
    requires: [BASE],
    run: async (ctx) => {
      const { tokens } = await sharedLogin(ctx);
      const answer = await ctx.rp.userinfo(String(tokens.json.access_token), { method: 'POST' });
      return judge(answer.status === 200, {
        sent: 'POST userinfo, Authorization: Bearer',
        expected: 'HTTP 200',
        observed: `HTTP ${answer.status}`,
      });
    },
  },
  {
    id: 'OIDC-BASIC-03',
    title: 'A code-flow request without nonce succeeds',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1; oidcc-ensure-request-without-nonce-succeeds-for-code-flow',
    requires: [BASE],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const out = await ctx.login({ authorize: { nonce: null, prompt: 'none' }, browser });
      return judge(out.code !== null, {
        sent: 'authorization request without nonce (prompt=none, existing session)',
        expected: 'a code',
        observed: describe(out),
      });
    },
  },
  {
    id: 'OIDC-BASIC-04',
    title: 'A request without response_type is refused without a code',
    plan: 'oidc',
    source: 'RFC 6749 §4.1.2.1; oidcc-response-type-missing',
    run: async (ctx) => {
      const hop = await firstHop(ctx, ctx.rp.authorization({ response_type: null }).url);
      return judge(refusedHop(hop, ctx.rp.client.redirectUri), {
        sent: 'authorization request without response_type',
        expected: 'error redirect (invalid_request / unsupported_response_type) or an error page, no code',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-BASIC-05',
    title: 'An unknown parameter is ignored',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1; oidcc-ensure-request-with-unknown-parameter-succeeds',
    requires: [BASE],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const out = await ctx.login({ authorize: { extra: 'foobar', prompt: 'none' }, browser });
      return judge(out.code !== null, {
        sent: 'authorization request with extra=foobar',
        expected: 'a code',
        observed: describe(out),
      });
    },
  },
  {
    id: 'OIDC-BASIC-06',
    title: 'prompt=none without a session answers login_required',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.6; oidcc-prompt-none-not-logged-in',
    run: async (ctx) => {
      const hop = await firstHop(ctx, ctx.rp.authorization({ prompt: 'none' }).url);
      return judge(hop.params.get('error') === 'login_required' && !hop.params.has('code'), {
        sent: 'prompt=none from a fresh browser',
        expected: 'redirect with error=login_required',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-BASIC-07',
    title: 'prompt=none with a session succeeds silently with the same sub',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1; oidcc-prompt-none-logged-in',
    requires: [BASE],
    run: async (ctx) => {
      const { browser, login } = await sessionBrowser(ctx);
      const again = await goodLogin(ctx, { prompt: 'none' }, browser);
      return judge(again.claims.sub === login.claims.sub && again.out.authnRequestXml === undefined, {
        sent: 'prompt=none in the browser that just logged in',
        expected: 'a code without a new SAML authentication, same sub',
        observed: `${describe(again.out)}; sub ${again.claims.sub === login.claims.sub ? 'same' : 'different'}`,
      });
    },
  },
  {
    id: 'OIDC-BASIC-08',
    title: 'acr_values from discovery is honoured and acr is returned',
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.2.1, §2; oidcc-ensure-request-with-acr-values-succeeds',
    requires: [BASE],
    run: async (ctx) => {
      const offered = Array.isArray(ctx.rp.discovery.acr_values_supported)
        ? ctx.rp.discovery.acr_values_supported.map(String)
        : [];
      const acr = offered[0] ?? 'eidas1';
      const { claims } = await goodLogin(ctx, { acr_values: acr });
      return judge(offered.includes(String(claims.acr)), {
        sent: `acr_values=${acr}`,
        expected: `a code; ID token acr among ${JSON.stringify(offered)}`,
        observed: `acr=${String(claims.acr)}`,
      });
    },
  },
  {
    id: 'OIDC-NONCE-01',
    title: "The ID token carries this request's nonce, never an earlier one",
    plan: 'oidc',
    source: 'OpenID Connect Core 1.0 §3.1.3.7 (11), §15.5.2',
    requires: [BASE],
    run: async (ctx) => {
      const { browser, login } = await sessionBrowser(ctx);
      const again = await goodLogin(ctx, { prompt: 'none' }, browser).catch((e: Error) => e);
      if (again instanceof Error)
        return judge(false, {
          sent: 'second request in the same session with a new nonce',
          expected: 'ID token nonce = the new nonce',
          observed: again.message,
        });
      return judge(again.claims.nonce === again.out.request.nonce && again.claims.nonce !== login.claims.nonce, {
        sent: 'second request in the same session with a new nonce',
        expected: 'ID token nonce = the new nonce',
        observed: `nonce ${again.claims.nonce === again.out.request.nonce ? 'is the new one' : 'is NOT the new one'}`,
      });
    },
  },
  {
    id: 'OIDC-RT-01',
    title: 'response_type=token is refused: no token in the front channel',
    plan: 'oidc',
    source: 'RFC 9700 §2.1.2',
    run: async (ctx) => {
      const hop = await firstHop(ctx, ctx.rp.authorization({ response_type: 'token' }).url);
      const leaked = hop.location !== null && /access_token|id_token/.test(hop.location.hash + hop.location.search);
      return judge(!leaked && refusedHop(hop, ctx.rp.client.redirectUri), {
        sent: 'response_type=token',
        expected: 'unsupported_response_type (redirect or page), no token',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-RT-02',
    title: 'response_type=code id_token (hybrid) is refused',
    plan: 'oidc',
    source: 'RFC 9700 §2.1.2; OIDF hybrid plans not offered',
    run: async (ctx) => {
      const hop = await firstHop(ctx, ctx.rp.authorization({ response_type: 'code id_token' }).url);
      const leaked = hop.location !== null && /id_token|code=/.test(hop.location.hash);
      return judge(!leaked && refusedHop(hop, ctx.rp.client.redirectUri), {
        sent: 'response_type=code id_token',
        expected: 'unsupported_response_type, no code or token',
        observed: describeHop(hop),
      });
    },
  },
  {
    id: 'OIDC-CLI-01',
    title: 'The token endpoint refuses a wrong client secret (invalid_client)',
    plan: 'oidc',
    source: 'RFC 6749 §5.2',
    run: async (ctx) => {
      const answer = await ctx.rp.token(
        {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: ctx.rp.client.redirectUri,
          code_verifier: 'x'.repeat(43),
        },
        { secret: `${ctx.rp.client.clientSecret}-wrong` },
      );
      return judge(answer.status === 401 && answer.json.error === 'invalid_client', {
        sent: 'token request, client_secret_basic with a wrong secret',
        expected: 'HTTP 401 invalid_client',
        observed: describeTokenAnswer(answer),
      });
    },
  },
  {
    id: 'OIDC-CLI-02',
    title: 'The token endpoint refuses a confidential client without authentication',
    plan: 'oidc',
    source: 'RFC 6749 §3.2.1, §5.2',
    run: async (ctx) => {
      const answer = await ctx.rp.token(
        {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: ctx.rp.client.redirectUri,
          code_verifier: 'x'.repeat(43),
        },
        { auth: 'none' },
      );
      return judge(answer.status === 401 || answer.json.error === 'invalid_client', {
        sent: 'token request with client_id only',
        expected: 'invalid_client',
        observed: describeTokenAnswer(answer),
      });
    },
  },
  {
    id: 'OIDC-STATE-01',
    title: 'A long state value comes back unchanged',
    plan: 'oidc',
    source: 'RFC 6749 §4.1.2; fapi2 …-with-long-state',
    requires: [BASE],
    run: async (ctx) => {
      const { browser } = await sessionBrowser(ctx);
      const state = 'S'.repeat(384);
      const out = await ctx.login({ authorize: { state, prompt: 'none' }, browser: browser ?? new Browser() });
      return judge(out.code !== null && out.params.get('state') === state, {
        sent: 'state of 384 characters',
        expected: 'the same state with the code',
        observed: `${describe(out)}; state ${out.params.get('state') === state ? 'unchanged' : 'changed'}`,
      });
    },
  },
];
