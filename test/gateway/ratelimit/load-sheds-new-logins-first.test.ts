/**
 * Issue #15, adaptive shedding: a real stall of this process's event loop (a busy loop, here in the process
 * that serves the requests) is seen by the periodic check, which lowers the rates: new authorizations first
 * (their bucket shrinks), while requests of logins in flight (token) keep their rate; the factor is a gauge;
 * entering and leaving are logged and audited in PostgreSQL. Thresholds and periods are the configuration's,
 * shortened; nothing asserts a duration.
 */
import test from 'ava';
import { AuditLog } from '../../../gateway/audit/audit-log.ts';
import { eventually } from '../../helpers/eventually.ts';
import { migratedPool } from '../store/fixtures.ts';
import { startRateLimitBed, statuses, type RateLimitBed } from './ratelimit-bed.ts';

const SLOW = 0.01;

function level(bed: RateLimitBed, accept: (level: number) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const off = bed.shedder.onCheck((now) => {
      if (!accept(now)) return;
      off();
      resolve(now);
    });
  });
}

function stallEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until); // the induced lag: nothing else runs meanwhile
}

test('event-loop lag lowers the rates of new logins before those of logins in flight, audited both ways', async (t) => {
  const pool = await migratedPool();
  t.teardown(() => pool.end());
  const bed = await startRateLimitBed(
    {
      perIp: { capacity: 4, perSecond: SLOW },
      failures: { capacity: 1000, perSecond: SLOW },
      adaptive: {
        checkIntervalMs: 100,
        // the requests below must all run while shedding lasts: calm for this long ends it, and six requests
        // on a loaded machine must never take that long
        recoverAfterMs: 8000,
        eventLoopLagMs: 1000,
        cpuPercent: 1000, // this test induces lag only
        memoryPercent: 100,
        factor: 0.25,
      },
    },
    [],
    { audit: new AuditLog(pool) },
  );
  t.teardown(() => bed.stop());
  await level(bed, (l) => l === 0);
  stallEventLoop(2500);
  t.is(await level(bed, (l) => l > 0), 1);

  // logins in flight keep their rate (4 per address); new authorizations get a quarter of theirs (1)
  t.deepEqual(
    (await statuses(4, () => fetch(`${bed.url}/token`, { method: 'POST' }))).map((a) => a.status),
    [200, 200, 200, 200],
  );
  const authorize = await statuses(2, () => fetch(`${bed.url}/auth`, { headers: { accept: 'application/json' } }));
  t.deepEqual(
    authorize.map((a) => a.status),
    [200, 429],
  );
  t.true(Number(authorize[1]!.headers.get('retry-after')) >= 1);
  const exposition = await bed.registry.metrics();
  t.regex(exposition, /gateway_ratelimit_shed_factor\{class="new_login"\} 0.25/);
  t.regex(exposition, /gateway_ratelimit_shed_factor\{class="in_flight"\} 1/);
  t.true(bed.logs.some((l) => l.code === 'LOAD_SHEDDING' && l.msg === 'load shedding started'));

  // calm for recoverAfterMs: the rates come back
  await level(bed, (l) => l === 0);
  t.true(bed.logs.some((l) => l.msg === 'load shedding ended'));
  t.regex(await bed.registry.metrics(), /gateway_ratelimit_shed_factor\{class="new_login"\} 1/);
  let rows: Array<{ from_state: string; to_state: string; error_code: string | null }> = [];
  // the audit append runs beside the check
  await eventually(async () => {
    ({ rows } = await pool.query(
      "select from_state, to_state, error_code from audit_log where component = 'ratelimit' order by seq",
    ));
    return rows.length >= 2;
  });
  t.deepEqual(rows, [
    { from_state: 'NORMAL', to_state: 'SHEDDING', error_code: 'LOAD_SHEDDING' },
    { from_state: 'SHEDDING', to_state: 'NORMAL', error_code: null },
  ]);
});
