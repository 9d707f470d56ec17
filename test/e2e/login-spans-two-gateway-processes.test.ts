/**
 * Instances are stateless: two `node gateway/main.ts` processes share one PostgreSQL, Redis and HSM
 * token. Every step of a login alternates between them (authorize and chooser on A, ACS on B, completion
 * on A, token on B) and the login succeeds; then one process is stopped and the other still serves.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { prepareDeployment, startGatewayProcess, type Deployment } from '../harness/deployment.ts';
import { freePort } from '../harness/services/free-port.ts';
import { Browser } from '../helpers/browser.ts';
import { loginJourney } from '../helpers/login-journey.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../helpers/services.ts';

const RP = 'http://127.0.0.1:9/callback';
let deployment: Deployment;
let a: Awaited<ReturnType<typeof startGatewayProcess>>;
let b: Awaited<ReturnType<typeof startGatewayProcess>>;
let portA: number;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-two-'));
  portA = await freePort();
  deployment = await prepareDeployment({ dir, pgUrl: await freshDatabase(), redisUrl: redisUrl(), redisKeyPrefix: redisPrefix(), token: freshToken(), gatewayPort: portA, rpRedirectUri: RP, logLevel: 'warn' });
  a = await startGatewayProcess(deployment, portA, join(dir, 'a.log'));
  b = await startGatewayProcess(deployment, await freePort(), join(dir, 'b.log'));
});
test.after.always(async () => {
  await a?.stop();
  await b?.stop();
  await deployment?.stop();
});

/** A browser whose every other request to the gateway goes to instance B (same issuer, another port). */
class AlternatingBrowser extends Browser {
  #n = 0;
  override async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}) {
    const target = new URL(url);
    if (target.port === String(portA) && this.#n++ % 2 === 1) target.port = new URL(b.url).port;
    return super.request(target, init);
  }
}

test('a login started on one gateway process finishes on the other', async (t) => {
  const rp = await oidc.discovery(new URL(deployment.gatewayUrl), deployment.client.client_id, deployment.client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: RP, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const browser = new AlternatingBrowser();
  const journey = await loginJourney(url, { username: 'jean', redirectUri: RP, browser });
  const hosts = new Set(browser.trail.filter((l) => l.includes('127.0.0.1') && !l.includes(new URL(deployment.idp.url).host)).map((l) => new URL(l.split(' ')[1]!).port));
  t.is(hosts.size, 2, 'both processes served steps of the login');
  t.truthy(journey.url.searchParams.get('code'));

  // the token request goes to B
  const rpOnB = await oidc.discovery(new URL(deployment.gatewayUrl), deployment.client.client_id, deployment.client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const tokenUrl = new URL(rpOnB.serverMetadata().token_endpoint!);
  tokenUrl.port = new URL(b.url).port;
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${deployment.client.client_id}:${deployment.client.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: journey.url.searchParams.get('code')!, redirect_uri: RP, code_verifier: verifier }),
  });
  t.is(response.status, 200);
  const body = (await response.json()) as { id_token: string };
  const { payload } = await jwtVerify(body.id_token, createRemoteJWKSet(new URL(`${b.url}/jwks`)), { issuer: deployment.gatewayUrl, audience: 'demo-rp' });
  t.is(payload.acr, 'eidas3');
  t.is(payload.given_name, 'Jean Pierre');

  await b.stop();
  const health = await fetch(`${a.url}/ready`);
  t.is(health.status, 200);
});
