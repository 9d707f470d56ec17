/**
 * An existing oidc-provider session must never stand in for the translation point (gateway/README.md:
 * "No token before the translation point has run"). Every request on a session is a login of its own
 * (issue #12 item 1; the whole journey with its audit records: test/e2e/sso-is-a-login-of-its-own.test.ts):
 * - another RP in the same browser goes through the gateway's interaction (its own login, policy and audit)
 *   before it gets a code, and never without a risk assessment of its own;
 * - the same RP asking for a higher acr than the session holds goes upstream (the chooser);
 * - the same RP stating a transaction (RFC 9396 `authorization_details`) is assessed with it (here: flagged
 *   for review by the transaction tier), never answered from the session;
 * - the same RP asking again for nothing more gets its code silently (`prompt=none`, OIDC Core §3.1.2.1),
 *   through a login of its own.
 * And the claims an RP receives are bounded by the scopes it is registered for, also when it names claims
 * with the `claims` parameter (a claim of another scope is refused with `invalid_request`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { Browser } from '../../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../../helpers/gateway-fixture.ts';
import { loginJourney } from '../../helpers/login-journey.ts';

// Many logins of one person in a row: a policy that lets them through, so the tests see only the session rules.
const policyFile = join(mkdtempSync(join(tmpdir(), 'gw-policy-')), 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    default: {
      thresholds: { stepUp: 0.99, biometric: 0.99, token: 0.99, review: 0.995, deny: 1 },
      tierLevels: [0, 0, 2, 3, 3],
    },
  }),
);

let fx: GatewayFixture;
let other: oidc.Configuration;
let narrow: oidc.Configuration;
test.before(async () => {
  fx = await startGatewayFixture({
    riskPolicyFile: policyFile,
    extraClients: [
      { client_id: 'other-rp', client_secret: { env: 'GW_DEMO_RP_SECRET' }, redirect_uris: [RP_REDIRECT] },
      {
        client_id: 'narrow-rp',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        scope: 'openid',
      },
    ],
  });
  const secret = fx.deployment.env.GW_DEMO_RP_SECRET!;
  const insecure = { execute: [oidc.allowInsecureRequests] };
  other = await oidc.discovery(new URL(fx.url), 'other-rp', secret, undefined, insecure);
  narrow = await oidc.discovery(new URL(fx.url), 'narrow-rp', secret, undefined, insecure);
});
test.after.always(async () => {
  await fx?.stop();
});

const atRp = (u: URL) => u.toString().startsWith(RP_REDIRECT);

/** A browser with a session: marie (LoA substantial → eidas2) logged in to demo-rp. */
async function loggedIn(): Promise<Browser> {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  if (!journey.url.searchParams.get('code'))
    throw new Error(`first login failed: ${journey.url} ${journey.html.slice(0, 600)}`);
  return journey.browser;
}

async function landing(browser: Browser, url: URL): Promise<URL> {
  const hop = await browser.follow(url, {}, atRp);
  await hop.response.body?.cancel();
  return hop.url;
}

/** The risk assessments recorded for a client's logins. */
async function assessed(clientId: string): Promise<number> {
  const { rows } = await fx.gateway.services.pool.query<{ n: string }>(
    'select count(*) as n from risk_assessments where client_id = $1',
    [clientId],
  );
  return Number(rows[0]!.n);
}

test.serial('another RP in the same browser goes through its own gateway login before any code', async (t) => {
  const browser = await loggedIn();
  const before = await assessed('other-rp');
  const request = await authorizationRequest(other);
  // the authorization request decides the RP's own login and sends the browser to the resume (issue #14)
  const first = await browser.follow(request.url, {}, (u) => atRp(u) || /^\/auth\/[\w-]+$/.test(u.pathname));
  await first.response.body?.cancel();
  t.false(first.url.searchParams.has('code'), 'no code straight from the session');
  t.regex(first.url.pathname, /^\/auth\/[\w-]+$/, 'the resume of the gateway login of this RP');
  t.is(await assessed('other-rp'), before + 1, "the RP's login was assessed by the risk pipeline before any code");
  const url = await landing(browser, first.url);
  t.truthy(url.searchParams.get('code'), `then its code (landed on ${url})`);
  t.is(await assessed('other-rp'), before + 1, 'assessed once');
});

test.serial('another RP asking silently (prompt=none) gets a code only through a login of its own', async (t) => {
  const browser = await loggedIn();
  const before = await assessed('other-rp');
  const request = await authorizationRequest(other, { prompt: 'none' });
  const url = await landing(browser, request.url);
  t.truthy(url.searchParams.get('code'), `landed on ${url}`);
  t.is(url.searchParams.get('state'), request.state);
  t.is(await assessed('other-rp'), before + 1, 'assessed before the code was issued');
});

test.serial('the same RP asking for a higher acr than the session holds gets the gateway login', async (t) => {
  const browser = await loggedIn();
  const request = await authorizationRequest(fx.rp, { acr_values: 'eidas3' });
  const url = await landing(browser, request.url);
  t.false(url.searchParams.has('code'), 'an eidas2 session does not answer an eidas3 request');
  t.regex(url.pathname, /^\/interaction\/[\w-]+$/);
});

test.serial('the same RP stating a transaction gets the gateway login (the risk pipeline assesses it)', async (t) => {
  const browser = await loggedIn();
  const details = JSON.stringify([
    { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '9000.00' } },
  ]);
  const request = await authorizationRequest(fx.rp, { authorization_details: details });
  const url = await landing(browser, request.url);
  t.false(url.searchParams.has('code'), 'no token carries a transaction no assessment saw');
  // tier 4 (> 5000 €) asks level 3 of this policy: without a security key enrolled, manual review
  t.regex(url.pathname, /^\/interaction\/[\w-]+\/review$/);
});

test.serial('positive control: the same RP asking again for nothing more gets its code silently', async (t) => {
  const browser = await loggedIn();
  const request = await authorizationRequest(fx.rp, { prompt: 'none' });
  const url = await landing(browser, request.url);
  t.truthy(url.searchParams.get('code'), `silent re-authorization for the same RP (landed on ${url})`);
});

async function narrowRequest(claims: object) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(narrow, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    claims: JSON.stringify(claims),
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url, verifier, state, nonce };
}

test.serial('the claims parameter cannot name claims beyond the scopes the RP is registered for', async (t) => {
  for (const claims of [
    { id_token: { email: null } },
    { userinfo: { given_name: { essential: true } } },
    { userinfo: { legal_person_identifier: null } },
  ]) {
    const request = await narrowRequest(claims);
    const url = await landing(new Browser(), request.url);
    t.false(url.searchParams.has('code'), `no login for ${JSON.stringify(claims)} (landed on ${url.pathname})`);
    t.is(url.searchParams.get('error'), 'invalid_request', JSON.stringify(claims));
    t.is(url.searchParams.get('state'), request.state);
  }
});

test.serial('positive control: claims of its own scopes may be named, and no other claim is released', async (t) => {
  const request = await narrowRequest({ id_token: { auth_time: { essential: true } } });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.truthy(journey.url.searchParams.get('code'), `login completed (${journey.url})`);
  const tokens = await oidc.authorizationCodeGrant(narrow, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const idToken = tokens.claims()!;
  t.is(typeof idToken.auth_time, 'number');
  t.is(idToken.email, undefined);
  t.is(idToken.given_name, undefined);
  const userinfo = await oidc.fetchUserInfo(narrow, tokens.access_token, idToken.sub);
  t.is(userinfo.email, undefined);
  t.is(userinfo.family_name, undefined);
});
