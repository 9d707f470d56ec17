/**
 * The registry writes valid Prometheus text (format 0.0.4): HELP and TYPE before samples, label values
 * escaped, special values spelled as the spec says; labels are checked against the declaration.
 */
import test from 'ava';
import { MetricsRegistry, escapeLabelValue, formatValue } from '../../gateway/observability/metrics.ts';
import { RiskMetrics } from '../../gateway/risk/metrics.ts';
import { routeLabel } from '../../gateway/observability/route-label.ts';
import { parseExposition, valueOf } from './parse-exposition.ts';

test('counters and gauges round-trip through the parser, escaped values included', (t) => {
  const registry = new MetricsRegistry();
  const c = registry.counter('demo_total', 'A demo\ncounter with a \\ backslash.', ['kind']);
  c.inc({ kind: 'plain' });
  c.inc({ kind: 'plain' }, 2);
  c.inc({ kind: 'quote " backslash \\ newline \n end' });
  registry.gauge('demo_gauge', 'A gauge.').set({}, Infinity);
  const parsed = parseExposition(registry.text());
  t.is(parsed.types.get('demo_total'), 'counter');
  t.is(parsed.types.get('demo_gauge'), 'gauge');
  t.is(parsed.help.get('demo_total'), 'A demo\\ncounter with a \\\\ backslash.');
  t.is(valueOf(parsed, 'demo_total', { kind: 'plain' }), 3);
  t.is(valueOf(parsed, 'demo_total', { kind: 'quote " backslash \\ newline \n end' }), 1);
  t.is(valueOf(parsed, 'demo_gauge'), Infinity);
});

test('escaping and special values follow the spec', (t) => {
  t.is(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  t.is(formatValue(NaN), 'NaN');
  t.is(formatValue(-Infinity), '-Inf');
  t.is(formatValue(1.5), '1.5');
});

test('wrong labels, bad names and decreasing counters are refused', (t) => {
  const registry = new MetricsRegistry();
  const c = registry.counter('x_total', 'x', ['a']);
  t.throws(() => c.inc({ b: '1' }), { instanceOf: TypeError });
  t.throws(() => c.inc({}), { instanceOf: TypeError });
  t.throws(() => c.inc({ a: '1' }, -1), { instanceOf: RangeError });
  t.throws(() => registry.counter('bad-name', 'x'), { instanceOf: TypeError });
  t.throws(() => registry.counter('y_total', 'x', ['__reserved']), { instanceOf: TypeError });
  t.throws(() => registry.gauge('x_total', 'x', ['a']), { instanceOf: TypeError });
});

test('included registries and collectors appear in one exposition', (t) => {
  const main = new MetricsRegistry();
  const risk = new RiskMetrics();
  main.include(risk.registry);
  risk.inc('risk_stage_total', { stage: 'device', outcome: 'ok', degraded: false });
  risk.inc('policy_decision_total', { kind: 'allow', level: '0' });
  let live = 0;
  const g = main.gauge('live', 'live value');
  main.collect(() => g.set({}, ++live));
  const parsed = parseExposition(main.text());
  t.is(valueOf(parsed, 'gateway_risk_stage_total', { stage: 'device', outcome: 'ok', degraded: 'false' }), 1);
  t.is(valueOf(parsed, 'gateway_policy_decisions_total', { kind: 'allow' }), 1);
  t.is(valueOf(parsed, 'live'), 1);
});

test('the route label is a pattern or other, never a raw path', (t) => {
  t.is(routeLabel('/interaction/AbC_123-x/complete'), '/interaction/:uid/complete');
  t.is(routeLabel('/interaction/AbC_123-x'), '/interaction/:uid');
  t.is(routeLabel('/authorize'), '/authorize');
  t.is(routeLabel('/admin/reviews/123/approve'), '/admin/*');
  t.is(routeLabel('/wp-login.php'), 'other');
  t.is(routeLabel('/interaction/a/b/c/d'), 'other');
});
