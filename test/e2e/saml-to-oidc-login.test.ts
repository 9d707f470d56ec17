/**
 * The whole login over HTTP: openid-client RP → gateway → samlify demo IdP → gateway → RP.
 * The ID token verifies with jose against /jwks, carries the pivot claims and the acr of the asserted
 * LoA, and was signed by a key that the token reports non-extractable.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Pkcs11Signer } from '../../hsm/pkcs11-signer.ts';
import { Browser } from '../helpers/browser.ts';
import {
  authorizationRequest,
  RP_REDIRECT,
  startGatewayFixture,
  type GatewayFixture,
} from '../helpers/gateway-fixture.ts';
import { continueAfterStepUp, loginJourney } from '../helpers/login-journey.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture({
    extraClients: [
      {
        client_id: 'es256-rp',
        client_secret: { env: 'GW_DEMO_RP_SECRET' },
        redirect_uris: [RP_REDIRECT],
        id_token_signed_response_alg: 'ES256',
      },
    ],
  });
});
test.after.always(async () => {
  await fx?.stop();
});

test.serial('a person logs in through the demo IdP and the RP gets verified pivot claims', async (t) => {
  const request = await authorizationRequest(fx.rp, { scope: 'openid profile birth email' });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.is(journey.url.searchParams.get('state'), request.state);
  t.is(journey.url.searchParams.get('iss'), fx.url, 'RFC 9207 iss in the authorization response');
  t.truthy(journey.url.searchParams.get('code'));

  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  const idToken = tokens.id_token!;
  const jwks = createRemoteJWKSet(new URL(`${fx.url}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(idToken, jwks, { issuer: fx.url, audience: 'demo-rp' });
  t.is(protectedHeader.alg, 'RS256', 'RS256 is the default id_token alg');
  t.is(payload.acr, 'eidas2', 'LoA substantial → eidas2');
  t.is(payload.given_name, 'Marie');
  t.is(payload.family_name, 'Dupont');
  t.is(payload.birthdate, '1985-04-12');
  t.is(payload.gender, 'female');
  t.is(payload.birthplace, '75056');
  t.is(payload.birthcountry, '99100');
  t.is(payload.email, 'marie.dupont@example.org');
  t.is(payload.nonce, request.nonce);
  t.regex(String(payload.sub), /^[A-Za-z0-9_-]{43}$/);

  const kid = protectedHeader.kid!;
  const signer = fx.gateway.services.keys.activeSigners('id_token').find((s) => s.kid === kid) as
    Pkcs11Signer | undefined;
  t.truthy(signer, 'the signing key is an HSM key of the id_token purpose');
  const flags = await signer!.keyFlags();
  t.deepEqual(flags, { sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true });

  const { rows } = await fx.gateway.services.pool.query(
    'select from_state, to_state from audit_log where session_id = $1 order by id',
    [journey.loginId],
  );
  t.deepEqual(
    rows.map((r) => `${r.from_state ?? '∅'}→${r.to_state}`),
    [
      '∅→INITIATED',
      'INITIATED→AUTHENTICATING',
      'AUTHENTICATING→FRAUD_CHECK',
      'FRAUD_CHECK→TOKEN_GENERATION',
      'TOKEN_GENERATION→COMPLETED',
    ],
    'every transition of the login is audited once',
  );
});

test.serial('a client registered for ES256 gets an ES256 ID token from the HSM key', async (t) => {
  const rp = await oidc.discovery(
    new URL(fx.url),
    'es256-rp',
    { client_secret: fx.deployment.env.GW_DEMO_RP_SECRET!, id_token_signed_response_alg: 'ES256' },
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const request = await authorizationRequest(rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const tokens = await oidc.authorizationCodeGrant(rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const { protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${fx.url}/jwks`)), {
    issuer: fx.url,
    audience: 'es256-rp',
  });
  t.is(protectedHeader.alg, 'ES256');
});

test.serial("an RP can introspect its own access token but not another RP's", async (t) => {
  const request = await authorizationRequest(fx.rp);
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  const introspect = async (clientId: string, secret: string) => {
    const response = await fetch(fx.rp.serverMetadata().introspection_endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    return (await response.json()) as { active: boolean };
  };
  t.true((await introspect('demo-rp', fx.deployment.client.client_secret)).active);
  t.false((await introspect('es256-rp', fx.deployment.env.GW_DEMO_RP_SECRET!)).active);
});

test.serial('an authorization request without PKCE is refused before any login starts', async (t) => {
  const url = new URL(`${fx.url}/auth`);
  url.search = new URLSearchParams({
    client_id: 'demo-rp',
    redirect_uri: RP_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    state: 'xyz',
    nonce: 'n',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const location = new URL(response.headers.get('location')!);
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.regex(location.searchParams.get('error_description') ?? '', /PKCE/);
});

test.serial('the same person gets the same pairwise sub on a second login', async (t) => {
  const subs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const request = await authorizationRequest(fx.rp);
    const journey = await loginJourney(request.url, { username: 'jean', redirectUri: RP_REDIRECT });
    const tokens = await oidc.authorizationCodeGrant(fx.rp, journey.url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    subs.push(String(tokens.claims()!.sub));
    t.is(tokens.claims()!.acr, 'eidas3');
  }
  t.is(subs[0], subs[1]);
});

test.serial('the jwks publishes public keys only, RS256 and ES256', async (t) => {
  const jwks = (await (await fetch(`${fx.url}/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
  t.deepEqual(new Set(jwks.keys.map((k) => k.alg)), new Set(['RS256', 'ES256']));
  for (const key of jwks.keys) {
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.false(priv in key, `no ${priv}`);
  }
});

test.serial(
  'an LoA still below the required acr after the step-up ends with unmet_authentication_requirements',
  async (t) => {
    const request = await authorizationRequest(fx.rp, { acr_values: 'eidas2' });
    // alex authenticates at LoA low; the demo IdP answers the step-up with the same level again
    const journey = await loginJourney(request.url, { username: 'alex', redirectUri: RP_REDIRECT });
    let url = journey.url;
    if (!url.toString().startsWith(RP_REDIRECT)) {
      // step-up: the gateway asked the IdP again with ForceAuthn; log in once more as alex
      url = (await continueAfterStepUp(journey, { username: 'alex', redirectUri: RP_REDIRECT })).url;
    }
    t.is(url.searchParams.get('error'), 'unmet_authentication_requirements');
    t.is(url.searchParams.get('state'), request.state);
    t.is(url.searchParams.get('code'), null);
  },
);

test.serial('idp_hint skips the chooser; an unknown idp_hint is IDP_UNKNOWN', async (t) => {
  const request = await authorizationRequest(fx.rp, { idp_hint: 'demo-idp' });
  const journey = await loginJourney(request.url, { username: 'marie', redirectUri: RP_REDIRECT });
  t.false(
    journey.browser.trail.some((line) => line.startsWith('POST') && line.endsWith('/idp')),
    'no chooser submission',
  );
  t.truthy(journey.url.searchParams.get('code'));

  const unknown = await authorizationRequest(fx.rp, { idp_hint: 'no-such-idp' });
  const browser = new Browser();
  const step = await browser.follow(unknown.url);
  t.is(step.response.status, 400);
  t.regex(await step.response.text(), /IDP_UNKNOWN/);
});

test.serial('discovery advertises code flow, S256 PKCE, pairwise subjects and eidas acr values', async (t) => {
  const meta = fx.rp.serverMetadata();
  t.deepEqual(meta.response_types_supported, ['code']);
  t.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  t.deepEqual(meta.subject_types_supported, ['pairwise']);
  t.deepEqual(meta.acr_values_supported, ['eidas1', 'eidas2', 'eidas3']);
  t.true(meta.authorization_response_iss_parameter_supported);
});
