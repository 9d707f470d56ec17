/** Runs `count` logins at `concurrency`, timing each one and sampling the gateway's RSS meanwhile. */
import type { ProbeCounts } from './gateway-probe.ts';
import { withGatewayClock } from './gateway-time.ts';
import type { ThreadGroup } from './proc-stats.ts';

export interface PhaseResult {
  name: string;
  ok: number;
  failures: number;
  firstError?: string;
  seconds: number;
  latencies: number[];
  /** Per login: the time spent waiting for the gateway (`gateway-time.ts`), ms. */
  gatewayLatencies: number[];
  rssMaxMiB: number;
  gatewayCpuMs: number;
  /** Of which in the kernel (stime). */
  gatewaySystemMs: number;
  /** By thread group (`proc-stats.ts` `threadCpuMs`; threads that ended during the phase are not counted). */
  gatewayThreadsMs: Record<ThreadGroup, number>;
  pgCpuMs: number;
  redisCpuMs: number;
  redisCallsServer: number;
  pgXacts: number;
  /** What the gateway logged per login (its stdout + stderr file). */
  logBytes: number;
  logLines: number;
  /** Lines logged by pino level and message. */
  logByMessage: Record<string, number>;
  probe: ProbeCounts;
}

export async function runPhase(
  name: string,
  count: number,
  concurrency: number,
  work: () => Promise<void>,
  rss: () => number,
  /** Open loop: start a login every 1/ratePerSecond s whatever is in flight (`concurrency` is then ignored). */
  ratePerSecond?: number,
): Promise<
  Omit<
    PhaseResult,
    | 'gatewayCpuMs'
    | 'gatewaySystemMs'
    | 'gatewayThreadsMs'
    | 'pgCpuMs'
    | 'redisCpuMs'
    | 'redisCallsServer'
    | 'pgXacts'
    | 'logBytes'
    | 'logLines'
    | 'logByMessage'
    | 'probe'
  >
> {
  const latencies: number[] = [];
  const gatewayLatencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let rssMaxMiB = rss();
  const sampler = setInterval(() => {
    rssMaxMiB = Math.max(rssMaxMiB, rss());
  }, 250);
  let next = 0;
  const started = performance.now();
  const one = async () => {
    const t = performance.now();
    try {
      const atGateway = await withGatewayClock(work);
      latencies.push(performance.now() - t);
      gatewayLatencies.push(atGateway);
    } catch (error) {
      failures += 1;
      firstError ??= (error as Error).message;
    }
  };
  if (ratePerSecond) {
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(one());
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next += 1;
          await one();
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return { name, ok: latencies.length, failures, firstError, seconds, latencies, gatewayLatencies, rssMaxMiB };
}
