/**
 * Fault: the HSM saturated by real signing load. A relying party (the bench, with the access token of a
 * login of its own) floods `GET /risk/assessment` through the balancer: every answer is a JWS signed in the
 * token (the `risk_assessment` key), so signatures queue for the processes' HSM sessions (one each in this
 * bed, topology.ts). Past `hsm.shedQueueDepth` waiting, new logins are shed at the door (503 `HSM_BUSY` +
 * Retry-After; back to the RP as `temporarily_unavailable`) and `/ready` says not ready; past `maxWaiting`
 * or `acquireTimeoutMs` a signature fails with `HSM_BUSY` (503), never a 500. The load is held for
 * CHAOS_HOLD_MS (default 8000), then removed; recovery counts from its end.
 */
import type { ChaosBed, Fault } from './bed.ts';
import { codeOfRequest, linesSince } from './gateway-logs.ts';
import { accessToken, gauge, readyStatus, sampleEvery } from './probes.ts';
import { BENCH_HSM } from './topology.ts';

const HOLD_MS = Number(process.env.CHAOS_HOLD_MS ?? 8_000);
const FLOOD = Number(process.env.CHAOS_HSM_FLOOD ?? 24);

export function hsmSaturation(): Fault {
  let token = '';
  const flood: Record<string, number> = {};
  const refused: string[] = [];
  let depths: number[][] = [];
  let ready: number[][] = [];
  return {
    what: `${FLOOD} concurrent signed-assessment requests (one HSM signature each) for ${HOLD_MS / 1000} s`,
    recoveryFrom: 'end',
    async prepare(bed) {
      token = await accessToken(bed);
    },
    async inject(bed) {
      const stopDepths = sampleEvery(100, () =>
        Promise.all(bed.processes.map((p) => gauge(bed, p, 'gateway_hsm_queue_depth'))),
      );
      const stopReady = sampleEvery(500, () => Promise.all(bed.processes.map(readyStatus)));
      const until = Date.now() + HOLD_MS;
      const worker = async () => {
        while (Date.now() < until) {
          let key: string;
          try {
            const answer = await fetch(`${bed.deployment.gatewayUrl}/risk/assessment`, {
              headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
              signal: AbortSignal.timeout(10_000),
            });
            await answer.arrayBuffer();
            // a 503 body names no code (none at or above 500 is exposed): the log has it, under X-Request-Id
            const id = answer.headers.get('x-request-id');
            if (answer.status !== 200 && id) refused.push(id);
            key = String(answer.status);
          } catch {
            key = 'no answer';
          }
          flood[key] = (flood[key] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: FLOOD }, worker));
      depths = await stopDepths();
      ready = await stopReady();
      return async () => undefined;
    },
    async settled(bed: ChaosBed) {
      return (await Promise.all(bed.processes.map(readyStatus))).every((s) => s === 200);
    },
    async report(bed, phase) {
      const lines = linesSince(bed.dir, phase.logOffsets);
      const codes: Record<string, number> = {};
      for (const id of refused) {
        const code = codeOfRequest(lines, id) ?? 'not in the log';
        codes[code] = (codes[code] ?? 0) + 1;
      }
      const deepest = depths.reduce<number[]>((max, s) => s.map((d, i) => Math.max(d || 0, max[i] ?? 0)), []);
      const notReady = ready.filter((s) => s.some((status) => status === 503)).length;
      const notes = [
        `signing load: ${Object.entries(flood)
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${n} × ${k}`)
          .join(', ')}; the refusals' codes in the log: ${
          Object.entries(codes)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ') || 'none'
        }`,
        `HSM queue depth (gateway_hsm_queue_depth, sampled every 100 ms): max ${deepest.join(' / ')} per process; ` +
          `/ready 503 in ${notReady} of ${ready.length} samples during the load`,
      ];
      return { notes, took: deepest.some((d) => d > BENCH_HSM.shedQueueDepth) };
    },
  };
}
