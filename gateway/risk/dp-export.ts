/**
 * The export of fraud aggregates for the national pattern database, with central differential privacy:
 * each count gets Laplace noise of scale b = Δ₁/ε with sensitivity Δ₁ = 1 and ε = 0.1, so b = 10.
 *
 * - sensitivity 1 holds because one person adds at most 1 to any exported count: the export counts
 *   distinct accounts per (day, metric, key) from `risk_signals`/`risk_assessments`, not logins;
 * - noise is drawn from `node:crypto` (not Math.random) by inverse CDF; results are rounded and clamped at 0
 *   (post-processing does not weaken the guarantee);
 * - each export spends ε = 0.1 for the period it covers; exporting the same period twice spends it twice
 *   (the caller keeps the budget; the noised counts are never fed back into the detectors).
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export const EPSILON = 0.1;
export const SENSITIVITY = 1;
export const LAPLACE_SCALE = SENSITIVITY / EPSILON;

/** A uniform draw in (0, 1) from the CSPRNG (53 bits). */
function uniform(): number {
  const bytes = randomBytes(8);
  const n = (bytes.readUInt32BE(0) >>> 5) * 67108864 + (bytes.readUInt32BE(4) >>> 6);
  return (n + 0.5) / 9007199254740992;
}

/**
 * One draw of Laplace(0, b).
 *
 * @example
 * laplace(10) // e.g. -3.71
 */
export function laplace(scale: number = LAPLACE_SCALE): number {
  const u = uniform() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

export interface NoisedCount {
  day: string;
  decision: string;
  idp: string;
  count: number;
}

/**
 * Distinct accounts per (day, decision, IdP) between two days, noised. Days are ISO dates.
 *
 * @example
 * const rows = await exportAggregates(pool, '2030-01-01', '2030-01-31');
 */
export async function exportAggregates(pool: Pool, from: string, to: string): Promise<NoisedCount[]> {
  const { rows } = await pool.query<{ day: string; decision: string; idp: string; n: number }>(
    `select to_char(a.at, 'YYYY-MM-DD') as day, a.decision, coalesce(a.assessment->>'idp', 'unknown') as idp, count(distinct a.account_id)::int as n
     from risk_assessments a where a.at >= $1::date and a.at < $2::date + 1 group by 1, 2, 3 order by 1, 2, 3`,
    [from, to],
  );
  return rows.map((r) => ({
    day: r.day,
    decision: r.decision,
    idp: r.idp,
    count: Math.max(0, Math.round(r.n + laplace())),
  }));
}
