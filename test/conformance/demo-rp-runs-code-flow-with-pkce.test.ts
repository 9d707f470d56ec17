/**
 * The demo RP: its page renders, /login sends the browser to the OP's authorization endpoint with PKCE S256,
 * state and nonce, and the callback exchanges the code (client_secret_basic), verifies the ID token against the
 * JWKS and shows the claims; an OP error is shown. The OP here is a minimal fake (fake-op.ts); the end-to-end
 * run against the real gateway belongs to the gateway's own flow tests.
 */
import test, { type ExecutionContext } from 'ava';
import { startDemoRp } from '../../conformance/oidc-rp/index.ts';
import { startFakeOp } from './fake-op.ts';

const clientId = 'demo-rp';
const clientSecret = 'demo-rp-secret-with-enough-entropy';

async function setUp(t: ExecutionContext) {
  const op = await startFakeOp(clientId, clientSecret);
  const rp = await startDemoRp({ port: 0, issuer: op.issuer, clientId, clientSecret, acrValues: 'eidas2' });
  t.teardown(async () => {
    await rp.stop();
    await op.stop();
  });
  return { op, rp };
}

async function startLogin(rpUrl: string): Promise<{ location: URL; cookie: string }> {
  const response = await fetch(`${rpUrl}/login`, { redirect: 'manual' });
  const location = new URL(response.headers.get('location') as string);
  const cookie = (response.headers.get('set-cookie') as string).split(';')[0] as string;
  return { location, cookie };
}

test('GET / renders the login button', async (t) => {
  const { rp } = await setUp(t);
  const response = await fetch(`${rp.url}/`);
  t.is(response.status, 200);
  t.regex(await response.text(), /<button type="submit">Log in with the gateway<\/button>/);
});

test('GET /login redirects to the authorization endpoint with code + PKCE S256 + state + nonce', async (t) => {
  const { op, rp } = await setUp(t);
  const response = await fetch(`${rp.url}/login`, { redirect: 'manual' });
  t.is(response.status, 302);
  t.regex(response.headers.get('set-cookie') ?? '', /^demo_rp_sid=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
  const location = new URL(response.headers.get('location') as string);
  t.is(`${location.origin}${location.pathname}`, `${op.issuer}/authorize`);
  const q = location.searchParams;
  t.is(q.get('response_type'), 'code');
  t.is(q.get('client_id'), clientId);
  t.is(q.get('redirect_uri'), `${rp.url}/callback`);
  t.is(q.get('code_challenge_method'), 'S256');
  t.regex(q.get('code_challenge') ?? '', /^[\w-]{43}$/);
  t.truthy(q.get('state'));
  t.truthy(q.get('nonce'));
  t.is(q.get('acr_values'), 'eidas2');
  t.true((q.get('scope') ?? '').split(' ').includes('openid'));
});

test('the callback exchanges the code and shows the verified claims with alg and kid', async (t) => {
  const { op, rp } = await setUp(t);
  const { location, cookie } = await startLogin(rp.url);
  const q = location.searchParams;
  op.grants.set('code-1', {
    code: 'code-1',
    codeChallenge: q.get('code_challenge') as string,
    nonce: q.get('nonce') as string,
    claims: { given_name: 'Marie', acr: 'eidas2' },
  });
  const callback = await fetch(`${rp.url}/callback?code=code-1&state=${encodeURIComponent(q.get('state') as string)}`, {
    headers: { cookie },
    redirect: 'manual',
  });
  t.is(callback.status, 302, await callback.text());
  t.is(op.tokenRequests[0]?.authorization?.startsWith('Basic '), true);
  t.is(op.tokenRequests[0]?.form.get('client_secret'), null);
  const home = await (await fetch(`${rp.url}/`, { headers: { cookie } })).text();
  t.regex(home, /<code>alg<\/code><\/th><td>ES256<\/td>/);
  t.regex(home, /<code>kid<\/code><\/th><td>fake-op-es256<\/td>/);
  t.regex(home, /<code>given_name<\/code><\/th><td>Marie<\/td>/);
  t.regex(home, /<code>acr<\/code><\/th><td>eidas2<\/td>/);
});

test('an OP error on the callback is shown: RP_AUTHORIZATION_ERROR', async (t) => {
  const { rp } = await setUp(t);
  const { location, cookie } = await startLogin(rp.url);
  const state = encodeURIComponent(location.searchParams.get('state') as string);
  const response = await fetch(
    `${rp.url}/callback?error=access_denied&error_description=The+user+said+no&state=${state}`,
    { headers: { cookie } },
  );
  t.is(response.status, 400);
  t.is(response.headers.get('x-error-code'), 'RP_AUTHORIZATION_ERROR');
  const body = await response.text();
  t.regex(body, /<code>access_denied<\/code>/);
  t.regex(body, /The user said no/);
});

test('a callback without a login in progress is refused: RP_STATE_UNKNOWN', async (t) => {
  const { rp } = await setUp(t);
  const response = await fetch(`${rp.url}/callback?code=x&state=y`);
  t.is(response.status, 400);
  t.is(response.headers.get('x-error-code'), 'RP_STATE_UNKNOWN');
});

test('an ID token whose signature does not match the JWKS is refused: RP_CALLBACK_FAILED', async (t) => {
  const { op, rp } = await setUp(t);
  op.serveUnrelatedJwks = true;
  const { location, cookie } = await startLogin(rp.url);
  const q = location.searchParams;
  op.grants.set('code-2', {
    code: 'code-2',
    codeChallenge: q.get('code_challenge') as string,
    nonce: q.get('nonce') as string,
    claims: {},
  });
  const callback = await fetch(`${rp.url}/callback?code=code-2&state=${encodeURIComponent(q.get('state') as string)}`, {
    headers: { cookie },
  });
  t.is(callback.headers.get('x-error-code'), 'RP_CALLBACK_FAILED');
  t.is(op.tokenRequests.length, 1);
});
