/**
 * Fault: the risk pipeline made slow by CPU starvation. Every gateway process is stopped and continued by
 * the kernel in turn — SIGSTOP for 600 ms, SIGCONT for 100 ms, for CHAOS_RISK_HOLD_MS (default 20000), as a
 * host's noisy neighbour or a CPU quota starves a process — so a whole assessment that spans a stop takes over
 * 600 ms of wall clock: its stages' budgets expire meanwhile (a budget is wall clock), they fall back to their
 * degraded modes, and the window's p99 goes over the production threshold (500 ms): the pipeline goes
 * rule-only (audited `RISK_PIPELINE_SLOW`, `NORMAL` → `RULE_ONLY`, on the session `risk:pipeline`). Once the
 * stops end, the probes are fast again and each process leaves rule-only mode (`RULE_ONLY` → `NORMAL`) once
 * their p99 stayed under 200 ms for `recoverAfterMs` (10 s in this bed, topology.ts).
 *
 * Why not a slow Redis: the stages' budgets bound a whole assessment to about 450 ms even with every Redis
 * call held (behaviour 50 + device 100 + correlation 300 ms; the transaction stage is CPU only), under the
 * 500 ms threshold; and holding Redis long enough fails the logins' own Redis commands first (1 s command
 * timeout, `FLOW_STORE_UNAVAILABLE`), before any of them reaches the pipeline.
 *
 * Reported: logins of the phase that completed with a rule-only assessment (`risk_assessments`, factor
 * `pipeline:rule_only`), the degradation records of the audit log, and the time from the end of the pauses to
 * the last process leaving rule-only mode.
 */
import type { ChaosBed, Fault } from './bed.ts';
import { gauge } from './probes.ts';

const HOLD_MS = Number(process.env.CHAOS_RISK_HOLD_MS ?? 20_000);
const STOP_MS = 600;
const RUN_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function slowRisk(): Fault {
  let stops = 0;
  let atStart: number[] = [];
  return {
    what: `every gateway process stopped ${STOP_MS} ms of every ${STOP_MS + RUN_MS} ms (SIGSTOP/SIGCONT) for ${HOLD_MS / 1000} s`,
    recoveryFrom: 'end',
    async prepare(bed) {
      // a previous phase may have left a process rule-only (the bed's windows are short): said in the notes
      atStart = await Promise.all(bed.processes.map((p) => gauge(bed, p, 'gateway_risk_rule_only')));
    },
    async inject(bed) {
      const children = bed.processes.map((p) => p.child);
      const signal = (s: NodeJS.Signals) => {
        for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(s);
      };
      try {
        const until = Date.now() + HOLD_MS;
        while (Date.now() < until) {
          signal('SIGSTOP');
          stops += 1;
          await sleep(STOP_MS);
          signal('SIGCONT');
          await sleep(RUN_MS);
        }
      } finally {
        signal('SIGCONT');
      }
      return async () => undefined;
    },
    async settled(bed: ChaosBed) {
      const modes = await Promise.all(bed.processes.map((p) => gauge(bed, p, 'gateway_risk_rule_only')));
      return modes.every((m) => m === 0);
    },
    async report(bed, phase) {
      const { rows: records } = await bed.pool.query<{ to_state: string; error_code: string | null; at: Date }>(
        `select to_state, error_code, at from audit_log where session_id = 'risk:pipeline' and at >= to_timestamp($1 / 1000.0) order by id`,
        [phase.startedAt],
      );
      const completed = phase.results.filter((r) => r.ended === 'code' && r.loginId).map((r) => r.loginId!);
      const { rows } = await bed.pool.query<{ n: number }>(
        `select count(*)::int as n from risk_assessments where login_id = any($1) and assessment->'factors' ? 'pipeline:rule_only'`,
        [completed],
      );
      const { rows: stages } = await bed.pool.query<{ name: string; outcome: string; n: number; max: number }>(
        `select s->>'name' as name, s->>'outcome' as outcome, count(*)::int as n, max((s->>'ms')::float)::int as max
           from risk_assessments, jsonb_array_elements(assessment->'stages') s
          where login_id = any($1) group by 1, 2 order by 1, 2`,
        [phase.results.filter((r) => r.loginId).map((r) => r.loginId!)],
      );
      const entered = records.filter((r) => r.to_state === 'RULE_ONLY');
      const left = records.filter((r) => r.to_state === 'NORMAL');
      const lastLeft = left.at(-1)?.at.getTime();
      const notes = [
        `rule-only at the phase's start (per process): ${atStart.join(' / ')}`,
        `stage outcomes of the phase's assessments: ${stages.map((r) => `${r.name} ${r.outcome} ${r.n} (max ${r.max} ms)`).join(', ')}`,
        `${stops} stops; logins completed with a rule-only assessment: ${rows[0]!.n} of ${completed.length}`,
        `degradation audit records: ${entered.length} × NORMAL → RULE_ONLY (${entered.map((r) => r.error_code).join(', ')}), ` +
          `${left.length} × RULE_ONLY → NORMAL; rule-only left ${
            lastLeft === undefined || entered.length === 0
              ? 'never (not entered, or not left within the phase)'
              : `${((lastLeft - phase.faultEnd) / 1000).toFixed(1)} s after the stops ended (by the last process)`
          }`,
      ];
      return { notes, took: entered.length > 0 };
    },
  };
}
