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
  /**
   * `code` when the RP got a code; else the error the person saw and the HTTP status of that last page, the
   * request id the page gave as its reference (a 503 page's code is in the log under it), and for a page the
   * journey did not expect, what it was.
   */
  ended: 'code' | { code: string; status: number; requestId?: string; detail?: string };
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
  /**
   * Failed logins that had reached the gateway's chooser (they have a login id), and how many of them have a
   * failure in the audit log (a record with an error code on their login) once the phase settled.
   */
  failedWithLoginId: number;
  failedAudited: number;
  /** ms from the fault's start (or end) to the end of the first login begun after it that completed; null if none. */
  recoveryMs: number | null;
  codes: Record<string, number>;
}

/** The error a finished journey shows: the RP's `error` parameter, or the gateway page's `Error code:`. */
export function errorOf(pageOrError: string): string {
  if (/^[a-z_]+$/.test(pageOrError)) return pageOrError;
  return /Error code: <code>([^<]+)<\/code>/.exec(pageOrError)?.[1] ?? 'UNRECOGNISED_PAGE';
}

/**
 * The request id a gateway error page gives as its reference: after its code on the gateway's own page
 * (http/error-handler.ts), as `<code id="reference">` on oidc-provider's (oidc/error-page.ts).
 */
export function referenceOf(page: string): string | undefined {
  return (
    /<code id="reference">([0-9a-f-]{36})<\/code>/.exec(page)?.[1] ??
    /Error code: <code>[^<]+<\/code>[^<]*<code>([0-9a-f-]{36})<\/code>/.exec(page)?.[1]
  );
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
    failedWithLoginId: 0,
    failedAudited: 0,
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
      if (r.loginId) {
        figures.failedWithLoginId += 1;
        const { rows } = await pool.query(
          'select 1 from audit_log where session_id = $1 and error_code is not null limit 1',
          [r.loginId],
        );
        if (rows.length) figures.failedAudited += 1;
      }
    }
  }
  return figures;
}
