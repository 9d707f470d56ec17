/**
 * Every OAuth endpoint answers its errors as JSON whatever the `Accept` header (RFC 6749 §5.2): a browser-ish
 * `Accept: text/html` on /token, introspection, revocation, PAR or userinfo gets the JSON error body, never
 * an HTML page. The front channel (the authorization endpoint) still shows a page to a person.
 */
import test from 'ava';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
let discovery: Record<string, string>;
test.before(async () => {
  fx = await startGatewayFixture();
  discovery = (await (await fetch(`${fx.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
});
test.after.always(async () => {
  await fx?.stop();
});

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const basic = () =>
  `Basic ${Buffer.from(`${fx.deployment.client.client_id}:${fx.deployment.client.client_secret}`).toString('base64')}`;

const cases: Array<{ name: string; endpoint: string; init: () => RequestInit; error: string }> = [
  {
    name: 'token, bad code',
    endpoint: 'token_endpoint',
    init: () => ({
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body:
        'grant_type=authorization_code&code=nope&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&code_verifier=' +
        'a'.repeat(43),
    }),
    error: 'invalid_grant',
  },
  {
    name: 'token, wrong client secret',
    endpoint: 'token_endpoint',
    init: () => ({
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('demo-rp:wrong').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=authorization_code&code=nope',
    }),
    error: 'invalid_client',
  },
  {
    name: 'introspection, no client',
    endpoint: 'introspection_endpoint',
    init: () => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' }),
    error: 'invalid_request',
  },
  {
    name: 'revocation, no token',
    endpoint: 'revocation_endpoint',
    init: () => ({
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    }),
    error: 'invalid_request',
  },
  {
    name: 'PAR, no client',
    endpoint: 'pushed_authorization_request_endpoint',
    init: () => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'response_type=code',
    }),
    error: 'invalid_request',
  },
  {
    name: 'userinfo, bad token',
    endpoint: 'userinfo_endpoint',
    init: () => ({ headers: { authorization: 'Bearer not-a-token' } }),
    error: 'invalid_token',
  },
];

for (const c of cases) {
  test(`${c.name}: JSON error to Accept: text/html`, async (t) => {
    const url = discovery[c.endpoint];
    t.truthy(url, `${c.endpoint} in discovery`);
    const init = c.init();
    const response = await fetch(url!, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), accept: HTML },
    });
    t.true(response.status >= 400, `status ${response.status}`);
    t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as { error?: string };
    t.is(body.error, c.error);
  });
}

test('the authorization endpoint still shows a person a page', async (t) => {
  const response = await fetch(`${discovery.authorization_endpoint}?client_id=nobody&response_type=code&scope=openid`, {
    headers: { accept: HTML },
  });
  t.is(response.status, 400);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
  await response.body?.cancel();
});
