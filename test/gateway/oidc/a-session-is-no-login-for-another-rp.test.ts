/**
 * An existing oidc-provider session must never stand in for the translation point (gateway/README.md:
 * "No token before the translation point has run"). A code is issued without a new gateway login only
 * when the same RP asks again for no more than that login established:
 * - another RP in the same browser goes through the gateway's login (its own policy, acr and audit);
 * - the same RP asking for a higher acr than the session holds goes through the gateway's login;
 * - the same RP stating a transaction (RFC 9396 `authorization_details`) goes through the gateway's login
 *   (the risk pipeline must assess what is at stake);
 * - the same RP asking again for nothing more gets its code silently (`prompt=none`, OIDC Core §3.1.2.1).
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

test.serial('another RP in the same browser gets the gateway login, not a code from the session', async (t) => {
  const browser = await loggedIn();
  const request = await authorizationRequest(other);
  const url = await landing(browser, request.url);
  t.false(url.searchParams.has('code'), `no code without a login for this RP (landed on ${url.pathname})`);
  t.regex(url.pathname, /^\/interaction\/[\w-]+$/, 'the gateway login starts for this RP');
});

test.serial('another RP asking silently (prompt=none) gets login_required, not a code', async (t) => {
  const browser = await loggedIn();
  const request = await authorizationRequest(other, { prompt: 'none' });
  const url = await landing(browser, request.url);
  t.false(url.searchParams.has('code'));
  t.is(url.searchParams.get('error'), 'login_required');
  t.is(url.searchParams.get('state'), request.state);
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
  t.regex(url.pathname, /^\/interaction\/[\w-]+$/);
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
