/**
 * GET /metrics is secure by default: served to loopback peers only, judged on the socket address (never
 * X-Forwarded-For); other peers get 403 METRICS_FORBIDDEN unless GW_METRICS_ALLOW names them.
 */
import test from 'ava';
import type { Context } from 'koa';
import { GatewayError } from '../../gateway/errors.ts';
import { isLoopback, metricsAllowed, parseMetricsAllow } from '../../gateway/observability/metrics-access.ts';
import { metricsRoute } from '../../gateway/observability/metrics-route.ts';
import { MetricsRegistry } from '../../gateway/observability/metrics.ts';

const loopbackOnly = parseMetricsAllow(undefined);

test('loopback peers are allowed, others are not', (t) => {
  for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) t.true(metricsAllowed(a, loopbackOnly), a);
  for (const a of ['10.0.0.5', '192.168.1.1', '::ffff:10.0.0.5', 'fd00::1', '', undefined]) t.false(metricsAllowed(a, loopbackOnly), String(a));
  t.false(isLoopback('128.0.0.1'));
});

test('an allow list adds exact addresses; * opens the endpoint; garbage stops the boot', (t) => {
  const access = parseMetricsAllow('10.0.0.5, fd00::9');
  t.true(metricsAllowed('10.0.0.5', access));
  t.true(metricsAllowed('::ffff:10.0.0.5', access));
  t.true(metricsAllowed('fd00::9', access));
  t.false(metricsAllowed('10.0.0.6', access));
  t.true(metricsAllowed('203.0.113.1', parseMetricsAllow(['*'])));
  t.throws(() => parseMetricsAllow('10.0.0.0/8'), { code: 'CONFIG_INVALID' } as never);
});

function fakeContext(remoteAddress: string, forwardedFor?: string): Context {
  const headers: Record<string, string> = {};
  return {
    path: '/metrics',
    method: 'GET',
    req: { socket: { remoteAddress }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} },
    set: (k: string, v: string) => { headers[k] = v; },
    get: (k: string) => (k.toLowerCase() === 'x-forwarded-for' ? forwardedFor ?? '' : ''),
    headers,
  } as unknown as Context;
}

test('the route answers 403 METRICS_FORBIDDEN to a non-loopback peer, even claiming loopback in X-Forwarded-For', async (t) => {
  const route = metricsRoute(new MetricsRegistry(), loopbackOnly);
  const error = await t.throwsAsync(route(fakeContext('203.0.113.7', '127.0.0.1'), async () => undefined), { instanceOf: GatewayError });
  t.is(error?.code, 'METRICS_FORBIDDEN');
  t.is((error as GatewayError).status, 403);
});

test('the route serves the exposition to a loopback peer', async (t) => {
  const registry = new MetricsRegistry();
  registry.counter('a_total', 'a').inc();
  const ctx = fakeContext('127.0.0.1') as Context & { body?: unknown; type?: string };
  await metricsRoute(registry, loopbackOnly)(ctx, async () => undefined);
  t.is(ctx.body, '# HELP a_total a\n# TYPE a_total counter\na_total 1\n');
  t.regex(String(ctx.type), /version=0\.0\.4/);
});
