/**
 * Issue #10 item 13 — loopback is not an identity. The admin API, /metrics and /ready are served on the
 * operations listener only (its own port); the public listener answers 404 for them, whatever the peer
 * and whatever credential is sent; /health stays public. On the operations listener each needs an
 * operator credential with the right role (except /ready and /health), and /ready makes at most one HSM
 * signature however many requests arrive.
 */
import test from 'ava';
import { startGatewayFixture, type GatewayFixture } from '../../helpers/gateway-fixture.ts';

let fx: GatewayFixture;
test.before(async () => {
  fx = await startGatewayFixture();
});
test.after.always(async () => {
  await fx?.stop();
});

const as = (name: 'alice' | 'bob') => ({
  authorization: `Bearer ${fx.deployment.operatorTokens[name]}`,
  accept: 'application/json',
});
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

test('the public listener does not serve /admin/*, /metrics or /ready, even to loopback with a valid credential', async (t) => {
  for (const path of [
    '/admin/reviews',
    '/admin/metrics',
    '/admin',
    '/metrics',
    '/ready',
    '/Metrics',
    '/ready/',
    '/admin/idps',
  ]) {
    const response = await fetch(`${fx.url}${path}`, { headers: as('alice') });
    t.is(response.status, 404, path);
    const body = await response.text();
    t.false(body.includes('# TYPE'), path);
    t.false(body.includes('checks'), path);
  }
  t.is((await fetch(`${fx.url}/health`)).status, 200, 'liveness stays public');
});

test('the operations listener serves them to an operator credential with the role', async (t) => {
  const noCredential = await fetch(`${fx.opsUrl}/admin/reviews`, { headers: { accept: 'application/json' } });
  t.is(noCredential.status, 401);
  t.is(await errorOf(noCredential), 'OPS_UNAUTHORIZED');
  t.regex(noCredential.headers.get('www-authenticate') ?? '', /^Bearer/);
  const metricsAsBob = await fetch(`${fx.opsUrl}/metrics`, { headers: as('bob') });
  t.is(metricsAsBob.status, 403, 'bob has no metrics role');
  t.is(await errorOf(metricsAsBob), 'OPS_FORBIDDEN');
  const metrics = await fetch(`${fx.opsUrl}/metrics`, { headers: as('alice') });
  t.is(metrics.status, 200);
  t.regex(await metrics.text(), /# TYPE gateway_logins_total counter/);
  t.is((await fetch(`${fx.opsUrl}/admin/reviews`, { headers: as('bob') })).status, 200);
  t.is((await fetch(`${fx.opsUrl}/ready`)).status, 200);
  t.is((await fetch(`${fx.opsUrl}/health`)).status, 200);
  t.is(
    (await fetch(`${fx.opsUrl}/.well-known/openid-configuration`)).status,
    404,
    'the operations listener serves nothing public',
  );
});

test('IdP status over HTTP: what the IdP CLI shows, to an operator with the admin role (issue #13 item 16)', async (t) => {
  const forbidden = await fetch(`${fx.opsUrl}/admin/idps`, { headers: as('bob') });
  t.is(forbidden.status, 403, 'bob reviews, he does not administer IdPs');
  t.is(await errorOf(forbidden), 'OPS_FORBIDDEN');
  t.is((await fetch(`${fx.opsUrl}/admin/idps`, { headers: { accept: 'application/json' } })).status, 401);
  const all = await fetch(`${fx.opsUrl}/admin/idps`, { headers: as('alice') });
  t.is(all.status, 200);
  const list = (await all.json()) as Array<Record<string, unknown>>;
  const demo = list.find((s) => s.id === 'demo-idp');
  t.like(demo, { id: 'demo-idp', availability: 'available', consecutiveFailures: 0 });
  t.true(
    Array.isArray(demo?.keyFingerprints) &&
      (demo.keyFingerprints as string[]).every((f) => /^[0-9a-f]{64}$/.test(f)) &&
      (demo.keyFingerprints as string[]).length > 0,
  );
  t.truthy(demo?.lastSuccess);
  t.deepEqual(
    list.map((s) => s.id).sort(),
    fx.gateway.services.adapters
      .list()
      .map((a) => a.id)
      .sort(),
    'every IdP the gateway knows',
  );
  const one = await fetch(`${fx.opsUrl}/admin/idps/demo-idp`, { headers: as('alice') });
  t.like(await one.json(), { id: 'demo-idp', availability: 'available' });
  const unknown = await fetch(`${fx.opsUrl}/admin/idps/nobody`, { headers: as('alice') });
  t.is(unknown.status, 404);
  t.is(await errorOf(unknown), 'IDP_UNKNOWN');
});

test('/ready on the operations listener is cached: thirty requests make at most one HSM canary signature', async (t) => {
  const services = fx.gateway.services;
  const original = services.hsmReady;
  let canaries = 0;
  services.hsmReady = async () => {
    canaries += 1;
    return original();
  };
  t.teardown(() => {
    services.hsmReady = original;
  });
  const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${fx.opsUrl}/ready`)));
  for (const answer of answers) t.is(answer.status, 200);
  t.true(canaries <= 1, `${canaries} HSM signatures for 30 readiness requests`);
});

test('the operations listener answers every error as JSON with its code, whatever the client accepts', async (t) => {
  const curl = { authorization: `Bearer ${fx.deployment.operatorTokens.alice}`, accept: '*/*' };
  const cases: Array<[string, RequestInit, number, string]> = [
    [
      '/admin/revocations',
      { method: 'POST', headers: { ...curl, 'content-type': 'application/json' }, body: '{"scope":"x"}' },
      400,
      'REVOCATION_SCOPE_UNKNOWN',
    ],
    ['/admin/reviews', { headers: { accept: '*/*' } }, 401, 'OPS_UNAUTHORIZED'],
    ['/admin/revocations', { headers: curl }, 405, 'METHOD_NOT_ALLOWED'],
    ['/admin/nothing-here', { headers: curl }, 404, 'NOT_FOUND'],
  ];
  for (const [path, init, status, code] of cases) {
    const response = await fetch(`${fx.opsUrl}${path}`, init);
    t.is(response.status, status, path);
    t.regex(response.headers.get('content-type') ?? '', /^application\/json/, path);
    t.is(await errorOf(response), code, path);
  }
  const refused = await fetch(`${fx.opsUrl}/admin/revocations`, { headers: curl });
  t.is(refused.headers.get('allow'), 'POST', 'a 405 still says what is allowed');
});
