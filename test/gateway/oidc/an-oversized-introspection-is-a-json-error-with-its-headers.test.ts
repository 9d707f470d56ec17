/**
 * An introspection (or revocation) body over 56 KiB is refused 413 by a middleware of ours mounted inside
 * oidc-provider. It threw, and the throw reached Koa's default handler inside oidc-provider: a bare text/plain
 * "Payload Too Large", every header already set dropped (the security headers, `Cache-Control: no-store`, the
 * request id) (reviewer finding, twenty-seventh round). Now it is an OAuth JSON error with those headers.
 */
import test from 'ava';
import { startGatewayFixture } from '../../helpers/gateway-fixture.ts';

test('an introspection body over 56 KiB is a 413 invalid_request in JSON, with the security headers and request id', async (t) => {
  const fx = await startGatewayFixture();
  t.teardown(() => fx.stop());
  const response = await fetch(`${fx.url}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${'a'.repeat(60 * 1024)}`,
  });
  t.is(response.status, 413);
  t.regex(response.headers.get('content-type') ?? '', /application\/json/);
  t.like(await response.json(), { error: 'invalid_request' });
  t.is(response.headers.get('cache-control'), 'no-store');
  t.is(response.headers.get('x-content-type-options'), 'nosniff');
  t.truthy(response.headers.get('x-request-id'));
});
