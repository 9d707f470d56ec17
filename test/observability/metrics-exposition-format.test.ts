/**
 * The metrics come from prom-client (issue #11 item 7) and keep every name dashboards know: the exposition
 * parses strictly (format 0.0.4), carries the latency histograms the benchmarks and budgets name and the
 * default process metrics; labels are checked against the declaration.
 */
import test from 'ava';
import { GatewayMetrics } from '../../gateway/observability/gateway-metrics.ts';
import {
  declareCounter,
  declareHistogram,
  EXPOSITION_CONTENT_TYPE,
  newRegistry,
  REQUEST_BUCKETS,
} from '../../gateway/observability/metrics.ts';
import { RiskMetrics } from '../../gateway/risk/metrics.ts';
import { routeLabel } from '../../gateway/observability/route-label.ts';
import { parseExposition, valueOf } from './parse-exposition.ts';

/** Every metric name the hand-written registry exposed before prom-client (dashboards and tests use them). */
const NAMES_BEFORE = [
  'gateway_logins_total',
  'gateway_saml_rejections_total',
  'gateway_http_requests_total',
  'gateway_idp_metadata_events_total',
  'gateway_idp_available',
  'process_start_time_seconds',
  'gateway_risk_stage_total',
  'gateway_policy_decisions_total',
  'gateway_review_decisions_total',
  'gateway_risk_late_verdicts_total',
];

function everyMetric() {
  const metrics = new GatewayMetrics(newRegistry({ processMetrics: true }));
  const risk = new RiskMetrics(metrics.registry);
  metrics.watchIdps(() => [
    { id: 'idp-a', availability: 'available' },
    { id: 'idp-b', availability: 'unavailable' },
  ]);
  metrics.transition('COMPLETED');
  metrics.loginEnded('COMPLETED', 0.42);
  metrics.upstreamRejected('SAML_SIGNATURE_INVALID');
  metrics.httpRequest('POST', '/saml/acs', 303, 0.031);
  metrics.httpRequest('POST', '/token', 200, 0.012);
  metrics.hsmSigned({ alg: 'PS256', mechanism: 'CKM_SHA256_RSA_PKCS_PSS', seconds: 0.004, ok: true });
  metrics.metadataEvent({ idp: 'idp-a', type: 'refreshed' } as never);
  risk.inc('risk_stage_total', { stage: 'device', outcome: 'ok', degraded: false });
  risk.inc('policy_decision_total', { kind: 'allow', level: '0' });
  risk.inc('review_decision_total', { verdict: 'approved' });
  risk.inc('risk_late_verdict_total', { suspicious: false });
  risk.stageTime('device', 'ok', 12);
  risk.budgets({ device: 100, behaviour: 50 });
  return metrics;
}

test('every name exposed before prom-client is still exposed, with its type', async (t) => {
  const parsed = parseExposition(await everyMetric().registry.metrics());
  for (const name of NAMES_BEFORE) t.true(parsed.types.has(name), name);
  t.is(parsed.types.get('gateway_logins_total'), 'counter');
  t.is(parsed.types.get('gateway_idp_available'), 'gauge');
  t.is(valueOf(parsed, 'gateway_logins_total', { outcome: 'completed' }), 1);
  t.is(valueOf(parsed, 'gateway_risk_stage_total', { stage: 'device', outcome: 'ok', degraded: 'false' }), 1);
  t.is(valueOf(parsed, 'gateway_idp_available', { idp: 'idp-a' }), 1, 'mirrored at scrape time');
  t.is(valueOf(parsed, 'gateway_idp_available', { idp: 'idp-b' }), 0);
});

test('latency histograms: whole login, ACS and token server time, each risk stage against its budget, HSM sign per mechanism', async (t) => {
  const parsed = parseExposition(await everyMetric().registry.metrics());
  for (const name of [
    'gateway_login_duration_seconds',
    'gateway_http_request_duration_seconds',
    'gateway_risk_stage_duration_seconds',
    'gateway_hsm_sign_duration_seconds',
  ]) {
    t.is(parsed.types.get(name), 'histogram', name);
  }
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_count', { outcome: 'completed' }), 1);
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_bucket', { outcome: 'completed', le: '0.5' }), 1);
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_bucket', { outcome: 'completed', le: '0.25' }), 0);
  t.is(valueOf(parsed, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/saml/acs' }), 1);
  t.is(valueOf(parsed, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/token' }), 1);
  t.is(valueOf(parsed, 'gateway_risk_stage_duration_seconds_sum', { stage: 'device' }), 0.012);
  t.is(valueOf(parsed, 'gateway_risk_stage_budget_seconds', { stage: 'device' }), 0.1);
  t.is(
    valueOf(parsed, 'gateway_hsm_sign_duration_seconds_count', {
      alg: 'PS256',
      mechanism: 'CKM_SHA256_RSA_PKCS_PSS',
      outcome: 'ok',
    }),
    1,
  );
});

test('default process metrics are exposed; a registry without them has none', async (t) => {
  const parsed = parseExposition(await everyMetric().registry.metrics());
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
  ])
    t.true(parsed.types.has(name), name);
  t.false(parseExposition(await new RiskMetrics().registry.metrics()).types.has('process_cpu_seconds_total'));
  t.is(EXPOSITION_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
});

test('every registry of a process shares one set of process metrics (one event-loop monitor, one GC observer)', async (t) => {
  const first = newRegistry({ processMetrics: true });
  const second = newRegistry({ processMetrics: true });
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'process_cpu_seconds_total']) {
    t.truthy(first.getSingleMetric(name), name);
    t.is(second.getSingleMetric(name), first.getSingleMetric(name), `${name}: the same metric, not a second collector`);
  }
  t.true(parseExposition(await second.metrics()).types.has('nodejs_eventloop_lag_seconds'));
});

test('label values are escaped and parse back', async (t) => {
  const registry = newRegistry({ processMetrics: false });
  declareCounter(registry, 'demo_total', 'A demo counter.', ['kind']).inc({
    kind: 'quote " backslash \\ newline \n end',
  });
  t.is(
    valueOf(parseExposition(await registry.metrics()), 'demo_total', { kind: 'quote " backslash \\ newline \n end' }),
    1,
  );
});

test('unknown labels, decreasing counters and a name declared twice differently are refused', (t) => {
  const registry = newRegistry({ processMetrics: false });
  const c = declareCounter(registry, 'x_total', 'x', ['a']);
  t.throws(() => c.inc({ b: '1' } as never));
  t.throws(() => c.inc({ a: '1' }, -1));
  t.is(declareCounter(registry, 'x_total', 'x', ['a']), c, 'declared once');
  t.throws(() => declareCounter(registry, 'x_total', 'x', ['b']), { instanceOf: TypeError });
  t.throws(() => declareHistogram(registry, 'x_total', 'x', ['a'], REQUEST_BUCKETS), { instanceOf: TypeError });
  t.throws(() => declareCounter(registry, 'bad-name', 'x', []));
});

test('the route label is a pattern or other, never a raw path', (t) => {
  t.is(routeLabel('/interaction/AbC_123-x/complete'), '/interaction/:uid/complete');
  t.is(routeLabel('/auth/AbC_123-x'), '/auth/:uid');
  t.is(routeLabel('/interaction/AbC_123-x'), '/interaction/:uid');
  t.is(routeLabel('/authorize'), '/authorize');
  t.is(routeLabel('/admin/reviews/123/approve'), '/admin/*');
  t.is(routeLabel('/wp-login.php'), 'other');
  t.is(routeLabel('/interaction/a/b/c/d'), 'other');
});
