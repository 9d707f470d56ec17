/**
 * The chaos run's accounting of one fault's phase: every login attempted under the fault ends as
 * completed (the RP got a code), failed with a code (an OAuth error at the RP, or a gateway page naming its
 * code, with its HTTP status: a 503 is a shed request), a 500, or lost — a login that got a code without its audit trail.
 * The audit side: for each completed login the five transitions of a login (INITIATED → AUTHENTICATING →
 * FRAUD_CHECK → TOKEN_GENERATION → COMPLETED) are expected, and counted as found in `audit_log`.
 */
import type { Pool } from 'pg';

export const TRAIL = ['INITIATED', 'AUTHENTICATING', 'FRAUD_CHECK', 'TOKEN_GENERATION', 'COMPLETED'] as const;

export interface LoginResult {
  startedAt: number;
  endedAt: number;
  loginId?: string;
  /** `code` when the RP got a code; else the error the person saw and the HTTP status of that last page. */
  ended: 'code' | { code: string; status: number };
}

export interface PhaseFigures {
  fault: string;
  attempted: number;
  completed: number;
  failedWithCode: number;
  internal: number;
  lost: number;
  auditExpected: number;
  auditFound: number;
  /** ms from the fault's start to the end of the first login begun after it that completed; null if none. */
  recoveryMs: number | null;
  codes: Record<string, number>;
}

/** The error a finished journey shows: the RP's `error` parameter, or the gateway page's `Error code:`. */
export function errorOf(pageOrError: string): string {
  if (/^[a-z_]+$/.test(pageOrError)) return pageOrError;
  return /Error code: <code>([^<]+)<\/code>/.exec(pageOrError)?.[1] ?? 'UNRECOGNISED_PAGE';
}

export async function tally(
  pool: Pool,
  fault: string,
  faultAt: number,
  results: readonly LoginResult[],
): Promise<PhaseFigures> {
  const figures: PhaseFigures = {
    fault,
    attempted: results.length,
    completed: 0,
    failedWithCode: 0,
    internal: 0,
    lost: 0,
    auditExpected: 0,
    auditFound: 0,
    recoveryMs: null,
    codes: {},
  };
  for (const r of results) {
    if (r.ended === 'code') {
      figures.completed += 1;
      figures.auditExpected += TRAIL.length;
      const { rows } = await pool.query<{ to_state: string }>(
        'select to_state from audit_log where session_id = $1 order by seq',
        [r.loginId ?? ''],
      );
      const states = new Set(rows.map((row) => row.to_state));
      const found = TRAIL.filter((s) => states.has(s)).length;
      figures.auditFound += found;
      if (found < TRAIL.length) figures.lost += 1;
      if (r.startedAt >= faultAt) {
        const since = r.endedAt - faultAt;
        figures.recoveryMs = figures.recoveryMs === null ? since : Math.min(figures.recoveryMs, since);
      }
    } else {
      const key = `${r.ended.status} ${r.ended.code}`;
      figures.codes[key] = (figures.codes[key] ?? 0) + 1;
      if (r.ended.status === 500) figures.internal += 1;
      else figures.failedWithCode += 1;
    }
  }
  return figures;
}
