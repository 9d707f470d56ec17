/**
 * Every absolute URL the gateway emits comes from its configuration, never from the request (issue #10
 * item 3): a spoofed Host is refused with 421 HOST_NOT_CONFIGURED before any handler runs, and
 * X-Forwarded-Host / X-Forwarded-Proto change nothing unless a configured trusted proxy sent them.
 */
import test from 'ava';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../../harness/deployment.ts';
import { authorizationRequest } from '../../helpers/gateway-fixture.ts';
import { freshDatabase, freshToken, redisPrefix, redisUrl } from '../../helpers/services.ts';
import * as oidc from 'openid-client';

const ATTACKER = 'attacker.example';
let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let issuer: URL;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch would not let us write Host). */
function get(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: issuer.port, path, method, headers: { host: issuer.host, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every absolute http(s) URL in a text (JSON or XML). */
function urlsIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^"'<>\s]+/g)]
    .map((m) => m[0])
    .filter((u) => !u.startsWith('http://www.w3.org/') && !u.includes('oasis') && !u.includes('eidas.europa.eu'));
}

const SPOOFS: Record<string, Record<string, string>> = {
  'X-Forwarded-Host': { 'x-forwarded-host': ATTACKER },
  'X-Forwarded-Proto': { 'x-forwarded-proto': 'https' },
  Forwarded: { forwarded: `host=${ATTACKER};proto=https` },
  'all three': { 'x-forwarded-host': ATTACKER, 'x-forwarded-proto': 'https', forwarded: `host=${ATTACKER}` },
};

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-host-'));
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redisUrl(),
    redisKeyPrefix: redisPrefix(),
    token: freshToken(),
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    logLevel: 'silent',
  });
  gateway = await startGatewayInProcess(deployment);
  issuer = new URL(gateway.url);
});
test.after.always(async () => {
  await gateway?.stop().catch(() => undefined);
  await deployment?.stop();
});

for (const path of [
  '/.well-known/openid-configuration',
  '/saml/metadata',
  '/jwks',
  '/auth?client_id=x',
  '/interaction/abc',
]) {
  test(`a request for another host is refused before any handler: ${path} → 421 HOST_NOT_CONFIGURED`, async (t) => {
    const answer = await get(path, { host: ATTACKER, accept: 'application/json' });
    t.is(answer.status, 421);
    t.is(JSON.parse(answer.body).error, 'HOST_NOT_CONFIGURED');
    t.false(answer.body.includes(ATTACKER));
  });
}

test('a request target in absolute form (another host in the request line) is refused: discovery never names it', async (t) => {
  const answer = await get(`http://${ATTACKER}/.well-known/openid-configuration`, { accept: 'application/json' });
  t.is(answer.status, 400);
  t.is(JSON.parse(answer.body).error, 'REQUEST_INVALID');
  t.false(answer.body.includes(ATTACKER));
});

test('a percent-encoded path is not found, before the limits: the routers would decode what the limiter reads as written', async (t) => {
  for (const path of ['/interaction/%41bc/idp', '/interaction/%41bc', '/interaction/abc/webauthn/%61uthenticate']) {
    const answer = await get(
      path,
      {},
      path.endsWith('/idp') ? 'POST' : 'GET',
      path.endsWith('/idp') ? 'idp=x' : undefined,
    );
    t.is(answer.status, 404, path);
  }
});

for (const probe of ['/health']) {
  test(`the probe ${probe} answers whatever the Host (orchestrators probe by address; it emits no URL)`, async (t) => {
    const answer = await get(probe, { host: '10.1.2.3:8080' });
    t.is(answer.status, 200);
  });
}

for (const [name, spoof] of Object.entries(SPOOFS)) {
  test(`discovery URLs are the configured issuer's under a spoofed ${name} from an untrusted peer`, async (t) => {
    const answer = await get('/.well-known/openid-configuration', spoof);
    t.is(answer.status, 200);
    const document = JSON.parse(answer.body) as Record<string, unknown>;
    const urls = Object.values(document).filter((v): v is string => typeof v === 'string' && /^https?:/.test(v));
    t.true(urls.length >= 5, 'discovery lists its endpoints');
    for (const url of urls) t.true(url.startsWith(gateway.url), `${url} starts with ${gateway.url}`);
  });

  test(`SP metadata URLs are the configured ones under a spoofed ${name}`, async (t) => {
    const answer = await get('/saml/metadata', spoof);
    t.is(answer.status, 200);
    const urls = urlsIn(answer.body);
    t.true(urls.length >= 2, 'entityID and ACS location');
    for (const url of urls) t.true(url.startsWith(gateway.url), `${url} starts with ${gateway.url}`);
  });

  test(`the authorization redirect to the interaction is relative or on the issuer under a spoofed ${name}`, async (t) => {
    const rp = await oidc.discovery(issuer, deployment.client.client_id, deployment.client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const auth = await authorizationRequest(rp, { redirect_uri: deployment.client.redirect_uri });
    const answer = await get(auth.url.pathname + auth.url.search, spoof);
    t.is(answer.status, 303);
    const location = new URL(String(answer.headers.location), gateway.url);
    t.is(location.origin, issuer.origin);
  });

  test(`an error sent back to the RP carries the configured iss under a spoofed ${name}`, async (t) => {
    const rp = await oidc.discovery(issuer, deployment.client.client_id, deployment.client.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const auth = await authorizationRequest(rp, { redirect_uri: deployment.client.redirect_uri, prompt: 'none' });
    const answer = await get(auth.url.pathname + auth.url.search, spoof);
    const location = new URL(String(answer.headers.location));
    t.is(location.searchParams.get('iss'), gateway.url);
    t.false(String(answer.headers.location).includes(ATTACKER));
  });
}
