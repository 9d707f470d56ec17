/** Printing of the gateway-only benchmark's figures. */
import { summarize } from '../stats.ts';
import type { PhaseResult } from './run-phase.ts';

const sum = (table: Record<string, number>) => Object.values(table).reduce((a, b) => a + b, 0);

export function printPhase(r: PhaseResult): void {
  const s = summarize(r.latencies);
  const per = (n: number) => (n / r.ok).toFixed(2);
  console.log(`${r.name}: ${r.ok} ok, ${r.failures} failed${r.firstError ? ` (first: ${r.firstError})` : ''}`);
  console.log(
    `  ${(r.ok / r.seconds).toFixed(1)} logins/s; latency ms p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)}`,
  );
  const g = summarize(r.gatewayLatencies);
  console.log(
    `  gateway-added latency per login (its requests' time, summed) ms p50 ${g.p50.toFixed(1)} p99 ${g.p99.toFixed(1)}`,
  );
  const counting =
    r.probe.level === 'detail'
      ? ' [probe counting in detail (regex per command): CPU not the benchmark figure, read it from the phases above]'
      : '';
  console.log(
    `  CPU ms per login${counting}: gateway ${r.gatewayCpuMs.toFixed(2)} (of which kernel ${r.gatewaySystemMs.toFixed(2)}) | PostgreSQL ${r.pgCpuMs.toFixed(2)} | Redis ${r.redisCpuMs.toFixed(2)}; gateway RSS max ${r.rssMaxMiB.toFixed(0)} MiB`,
  );
  const threads = r.gatewayThreadsMs;
  console.log(
    `  gateway CPU ms per login by thread: main ${threads.main.toFixed(2)} | thread pool (HSM signing) ${threads['thread pool'].toFixed(2)} | V8 workers (GC, compiling) ${threads['V8 workers'].toFixed(2)} | other ${threads.other.toFixed(2)}`,
  );
  console.log(
    `  per login: PostgreSQL queries ${per(r.probe.pgQueryCount)} (transactions ${r.pgXacts.toFixed(2)}), Redis commands ${per(r.probe.redisCommandCount)} in ${per(r.probe.redisRoundTrips)} round trips, ${per(r.probe.redisSocketWrites ?? 0)} socket writes (server-side calls ${r.redisCallsServer.toFixed(2)}), HSM signatures ${per(sum(r.probe.hsmSignatures))}`,
  );
  const top = (table: Record<string, number>) =>
    Object.entries(table)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${per(n)}`)
      .join('; ');
  if (r.probe.level === 'detail') {
    console.log(`    PostgreSQL: ${top(r.probe.pgQueries)}`);
    console.log(`    Redis: ${top(r.probe.redisCommands)}`);
    console.log(`    Redis by key: ${top(r.probe.redisByKey)}`);
    console.log(`    Redis round trips by what they carried (per login):`);
    for (const [k, n] of Object.entries(r.probe.redisByRoundTrip ?? {}).sort(
      (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
    ))
      console.log(`      ${per(n).padStart(6)}  ${k}`);
  }
  const byOrigin = (title: string, table: Record<string, number>) => {
    if (Object.keys(table).length === 0) return;
    console.log(`    ${title} by origin (per login):`);
    for (const [k, n] of Object.entries(table).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
      console.log(`      ${per(n).padStart(6)}  ${k}`);
    }
  };
  byOrigin('PostgreSQL', r.probe.pgByOrigin ?? {});
  byOrigin('Redis', r.probe.redisByOrigin ?? {});
  console.log(
    `    log: ${r.logLines.toFixed(2)} lines, ${r.logBytes.toFixed(0)} bytes per login (level message: ${top(r.logByMessage)})`,
  );
  console.log(`    HSM: ${top(r.probe.hsmSignatures) || 'none'}`);
}

/** min–max over the rounds and the median, for the figures that matter. */
export function printSpread(name: string, rounds: PhaseResult[]): void {
  const spread = (values: number[], digits: number) => {
    const s = [...values].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 2)]!.toFixed(digits)} [${s[0]!.toFixed(digits)}–${s.at(-1)!.toFixed(digits)}]`;
  };
  console.log(`${name}, median [min–max] of ${rounds.length} rounds:`);
  console.log(
    `  logins/s ${spread(
      rounds.map((r) => r.ok / r.seconds),
      1,
    )}; p50 ms ${spread(
      rounds.map((r) => summarize(r.latencies).p50),
      1,
    )}; p99 ms ${spread(
      rounds.map((r) => summarize(r.latencies).p99),
      1,
    )}`,
  );
  console.log(
    `  CPU ms per login: gateway ${spread(
      rounds.map((r) => r.gatewayCpuMs),
      2,
    )} (kernel ${spread(
      rounds.map((r) => r.gatewaySystemMs),
      2,
    )}); PostgreSQL ${spread(
      rounds.map((r) => r.pgCpuMs),
      2,
    )}; Redis ${spread(
      rounds.map((r) => r.redisCpuMs),
      2,
    )}`,
  );
}

/** CPU per route (meaningful at concurrency 1 only, where requests do not overlap). */
export function printRoutes(r: PhaseResult): void {
  const rows = Object.entries(r.probe.routes).sort((a, b) => b[1].cpuMs - a[1].cpuMs);
  const inRequests = rows.reduce((n, [, v]) => n + v.cpuMs, 0) / r.ok;
  console.log(
    `  CPU per route (from arrival to the end of the response; ${inRequests.toFixed(2)} of ${r.gatewayCpuMs.toFixed(2)} ms per login; the rest runs outside requests):`,
  );
  for (const [route, v] of rows) {
    console.log(
      `    ${route.padEnd(36)} ${(v.requests / r.ok).toFixed(2)} per login × ${(v.cpuMs / v.requests).toFixed(2)} ms = ${(v.cpuMs / r.ok).toFixed(2)} ms per login`,
    );
  }
}
