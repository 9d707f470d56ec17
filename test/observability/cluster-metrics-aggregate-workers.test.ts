/**
 * Several worker processes, one exposition (issue #11 item 7): with `node:cluster`, each worker shares its
 * gateway registry and the primary's ClusterMetrics merges them — counters and histogram buckets summed,
 * the IdP availability gauge not multiplied, process metrics present.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseExposition, valueOf } from './parse-exposition.ts';

const FIXTURE = fileURLToPath(new URL('./cluster-aggregation-fixture.ts', import.meta.url));

test('three workers: the primary exposes their sum', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE, '3'], { encoding: 'utf8', timeout: 60_000 });
  const parsed = parseExposition(stdout);
  t.is(valueOf(parsed, 'gateway_logins_total', { outcome: 'completed' }), 3);
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_count', { outcome: 'completed' }), 3);
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_bucket', { outcome: 'completed', le: '0.5' }), 3);
  t.is(valueOf(parsed, 'gateway_login_duration_seconds_bucket', { outcome: 'completed', le: '0.25' }), 0);
  t.is(valueOf(parsed, 'gateway_http_request_duration_seconds_count', { method: 'POST', route: '/saml/acs' }), 3);
  t.is(valueOf(parsed, 'gateway_idp_available', { idp: 'idp-a' }), 1, 'a gauge of state is not summed');
  t.true(parsed.types.has('process_cpu_seconds_total'));
});

test('a worker that restarts its gateway in place answers with the new registry alone, through the same listeners', async (t) => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [FIXTURE, '2', 'restarted'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const parsed = parseExposition(stdout);
  t.is(
    valueOf(parsed, 'gateway_logins_total', { outcome: 'completed' }),
    2,
    "the closed gateway's login is not counted",
  );
  t.is(valueOf(parsed, 'gateway_idp_available', { idp: 'idp-a' }), 1);
  const { listeners } = JSON.parse(stderr.slice(stderr.indexOf('{"listeners"'))) as {
    listeners: { afterFirstBoot: number; now: number }[];
  };
  t.is(listeners.length, 2);
  for (const worker of listeners) t.is(worker.now, worker.afterFirstBoot, 'no IPC listener added by the restart');
});
