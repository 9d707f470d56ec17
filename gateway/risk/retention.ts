/**
 * Retention of the fraud pipeline's data, enforced by a job:
 *
 * | data                                   | table               | kept    |
 * |----------------------------------------|---------------------|---------|
 * | raw signals (hashed features, vectors) | risk_signals        | 30 days |
 * | assessments (per login)                | risk_assessments    | 30 days |
 * | reprocessed stage-4 work               | risk_reprocess      | 30 days |
 * | aggregates (daily counts)              | risk_aggregates     | 90 days |
 * | per-person feature counts (Freeman)    | rba_counts          | 90 days after their last update |
 * | per-person behavioural profiles        | behaviour_profiles  | 90 days after their last update |
 *
 * The audit log is not pruned by this job: its rows are append-only and carry no raw signal (only
 * decisions, scores and factor names). Each purge writes one audit record with what it removed, so the
 * chain stays verifiable and the purge itself is on it.
 */
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';

export const RETENTION_DAYS = { signals: 30, aggregates: 90 } as const;

/**
 * Purges what is past retention (as of `now`). Returns the number of rows removed per table.
 *
 * @example
 * await enforceRetention(pool, audit); // { risk_signals: 120, risk_assessments: 120, risk_reprocess: 3, risk_aggregates: 40 }
 */
export async function enforceRetention(
  pool: Pool,
  audit: AuditLog,
  now: Date = new Date(),
): Promise<Record<string, number>> {
  const signalsBefore = new Date(now.getTime() - RETENTION_DAYS.signals * 86_400_000);
  const aggregatesBefore = new Date(now.getTime() - RETENTION_DAYS.aggregates * 86_400_000);
  const removed: Record<string, number> = {};
  removed.risk_signals = (await pool.query('delete from risk_signals where at < $1', [signalsBefore])).rowCount ?? 0;
  removed.risk_assessments =
    (await pool.query('delete from risk_assessments where at < $1', [signalsBefore])).rowCount ?? 0;
  removed.risk_reprocess =
    (await pool.query('delete from risk_reprocess where enqueued_at < $1', [signalsBefore])).rowCount ?? 0;
  removed.risk_aggregates =
    (
      await pool.query('delete from risk_aggregates where day < $1::date', [
        aggregatesBefore.toISOString().slice(0, 10),
      ])
    ).rowCount ?? 0;
  removed.rba_counts =
    (await pool.query('delete from rba_counts where updated_at < $1', [aggregatesBefore])).rowCount ?? 0;
  removed.behaviour_profiles =
    (await pool.query('delete from behaviour_profiles where updated_at < $1', [aggregatesBefore])).rowCount ?? 0;
  await audit.append({
    sessionId: 'retention',
    from: null,
    to: 'RETENTION_PURGE',
    component: 'risk',
    details: { removed, signalsBefore: signalsBefore.toISOString(), aggregatesBefore: aggregatesBefore.toISOString() },
  });
  return removed;
}
