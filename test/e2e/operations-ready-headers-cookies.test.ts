/**
 * Operations from day one: /health (public) and /ready (operations listener; ready only when PostgreSQL, Redis and the HSM answer),
 * security headers on the gateway's pages, cookies HttpOnly, a request id carried through.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeployment, startGatewayInProcess, type Deployment } from '../harness/deployment.ts';
import { type RedisHandle, startRedisOnFreePort } from '../harness/services/redis.ts';
import { authorizationRequest } from '../helpers/gateway-fixture.ts';
import { READY_CACHE_MS } from '../../gateway/observability/health.ts';
import { freshDatabase, freshToken } from '../helpers/services.ts';
import * as oidc from 'openid-client';

let deployment: Deployment;
let gateway: Awaited<ReturnType<typeof startGatewayInProcess>>;
let redis: RedisHandle;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-ops-'));
  redis = await startRedisOnFreePort(join(dir, 'redis'));
  deployment = await prepareDeployment({
    dir,
    pgUrl: await freshDatabase(),
    redisUrl: redis.url,
    redisKeyPrefix: 'ops:',
    token: freshToken(),
    rpRedirectUri: 'http://127.0.0.1:9/callback',
    logLevel: 'silent',
  });
  gateway = await startGatewayInProcess(deployment);
});
test.after.always(async () => {
  await gateway?.stop().catch(() => undefined);
  await deployment?.stop();
  await redis?.stop();
});

test.serial(
  'the chooser page carries the security headers, an HttpOnly binding cookie and the request id',
  async (t) => {
    const rp = await oidc.discovery(
      new URL(gateway.url),
      deployment.client.client_id,
      deployment.client.client_secret,
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    const request = await authorizationRequest(rp, { redirect_uri: deployment.client.redirect_uri });
    const auth = await fetch(request.url, { redirect: 'manual', headers: { 'x-request-id': 'ops-test-request-0001' } });
    const id = auth.headers.get('x-request-id');
    t.regex(id ?? '', /^[0-9a-f-]{36}$/, 'a request id of ours');
    t.not(id, 'ops-test-request-0001', "a client's own id is not kept (it names audit trails): only a proxy's is");
    const cookies = auth.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const chooser = await fetch(new URL(auth.headers.get('location')!, gateway.url), { headers: { cookie: cookies } });
    t.is(chooser.status, 200);
    t.is(chooser.headers.get('x-frame-options'), 'DENY');
    t.is(chooser.headers.get('x-content-type-options'), 'nosniff');
    t.is(chooser.headers.get('referrer-policy'), 'no-referrer');
    t.regex(chooser.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    t.is(chooser.headers.get('cache-control'), 'no-store');
    for (const cookie of auth.headers.getSetCookie()) t.regex(cookie.toLowerCase(), /httponly/, cookie.split('=')[0]);
  },
);

test.serial(
  '/ready is cached: 20 probes at once make one HSM canary signature, not 20 (issue #10 item 13)',
  async (t) => {
    const services = gateway.gateway.services;
    const original = services.hsmReady;
    let signatures = 0;
    services.hsmReady = async () => {
      signatures += 1;
      return original();
    };
    t.teardown(() => {
      services.hsmReady = original;
    });
    await new Promise((resolve) => setTimeout(resolve, READY_CACHE_MS + 100)); // past any earlier answer
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${gateway.opsUrl}/ready`)));
    t.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    t.is(signatures, 1);
  },
);

test.serial('/ready reports each dependency and turns 503 when Redis is gone, while /health stays up', async (t) => {
  await new Promise((resolve) => setTimeout(resolve, READY_CACHE_MS + 100));
  const ready = await fetch(`${gateway.opsUrl}/ready`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), {
    status: 'ready',
    checks: { postgres: true, redis: true, hsm: true, hsm_capacity: true, hsm_session: true },
  });
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, READY_CACHE_MS + 100)); // the cached answer expires
  const notReady = await fetch(`${gateway.opsUrl}/ready`);
  t.is(notReady.status, 503);
  const body = (await notReady.json()) as { checks: Record<string, boolean> };
  t.false(body.checks.redis);
  t.true(body.checks.postgres);
  t.true(body.checks.hsm);
  t.is((await fetch(`${gateway.url}/health`)).status, 200);
});
