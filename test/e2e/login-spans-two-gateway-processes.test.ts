/**
 * Instances are stateless: two `node gateway/main.ts` processes share one PostgreSQL, Redis and HSM
 * token behind a round-robin load balancer (the issuer's host). Every step of a login alternates between
 * them and the login succeeds; then one process is stopped and the other still serves.
 */
import test from 'ava';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { RoundRobinProxy } from '../harness/services/round-robin-proxy.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { startTwoGateways, type TwoGateways } from '../helpers/two-gateways.ts';

const RP = 'http://127.0.0.1:9/callback';
let pair: TwoGateways<'process'>;
let deployment: TwoGateways<'process'>['deployment'];
let a: TwoGateways<'process'>['a'];
let b: TwoGateways<'process'>['b'];
let balancer: RoundRobinProxy;

test.before(async () => {
  pair = await startTwoGateways({
    name: 'gw-two-',
    first: 'process',
    balanced: true,
    rpRedirectUri: RP,
    logLevel: 'warn',
  });
  ({ deployment, a, b } = pair);
  balancer = pair.balancer!;
});
test.after.always(async () => {
  await pair?.stop();
});

test('a login started on one gateway process finishes on the other', async (t) => {
  const rp = await oidc.discovery(
    new URL(deployment.gatewayUrl),
    deployment.client.client_id,
    deployment.client.client_secret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const journey = await loginJourney(url, { username: 'jean', redirectUri: RP });
  t.true(
    (balancer.served.get(a.url) ?? 0) > 0 && (balancer.served.get(b.url) ?? 0) > 0,
    'both processes served steps of the login',
  );
  t.truthy(journey.url.searchParams.get('code'));

  // the token request and the JWKS go through the balancer too (each to the next process in turn)
  const tokenUrl = new URL(rp.serverMetadata().token_endpoint!);
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${deployment.client.client_id}:${deployment.client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: journey.url.searchParams.get('code')!,
      redirect_uri: RP,
      code_verifier: verifier,
    }),
  });
  t.is(response.status, 200);
  const body = (await response.json()) as { id_token: string };
  const { payload } = await jwtVerify(body.id_token, createRemoteJWKSet(new URL(rp.serverMetadata().jwks_uri!)), {
    issuer: deployment.gatewayUrl,
    audience: 'demo-rp',
  });
  t.is(payload.acr, 'eidas3');
  t.is(payload.given_name, 'Jean Pierre');

  // one process goes away: the balancer sends everything to the other, which still serves
  await b.stop();
  pair.backends = [a.url];
  const discovery = await fetch(`${deployment.gatewayUrl}/.well-known/openid-configuration`);
  t.is(discovery.status, 200);
  const health = await fetch(`${a.opsUrl}/ready`);
  t.is(health.status, 200);
});
