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
 * | everyone's count of one value (Freeman) | rba_counts, Redis `rba:{rba}:global` | 90 days after its last update |
 * | per-person behavioural profiles        | behaviour_profiles  | 90 days after their last update |
 *
 * The audit log is not pruned by this job: its rows are append-only and carry no raw signal (only
 * decisions, scores and factor names). Each purge writes one audit record with what it removed, so the
 * chain stays verifiable and the purge itself is on it.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import { distinctLowered, forgetGlobalFields, GLOBAL_SCOPE } from './rba-store.ts';

export const RETENTION_DAYS = { signals: 30, aggregates: 90 } as const;

/** The global counts' fields purged per transaction (and per Redis script). */
const GLOBAL_BATCH = 1000;

/**
 * Purges what is past retention (as of `now`). Returns the number of rows removed per table. With `redis`, the
 * global counts' values purged from PostgreSQL are removed from Redis's copy too (`purgeGlobalCounts`).
 *
 * @example
 * await enforceRetention(pool, audit, new Date(), redis); // { risk_signals: 120, …, rba_counts: 40, … }
 */
export async function enforceRetention(
  pool: Pool,
  audit: AuditLog,
  now: Date = new Date(),
  redis?: Redis,
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
  removed.rba_global_values = await purgeGlobalCounts(pool, aggregatesBefore, redis);
  removed.rba_counts =
    removed.rba_global_values +
    // the global scope's totals (`t`, `u`, `d:*`) are never purged: only its values' counts, above
    ((
      await pool.query('delete from rba_counts where updated_at < $1 and scope <> $2', [aggregatesBefore, GLOBAL_SCOPE])
    ).rowCount ?? 0);
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

/**
 * The global scope's value counts (`c:<feature>:<value hash>`) not updated since `before`, a batch per transaction
 * (rows a login is updating are skipped, and one updated meanwhile is not deleted): each feature's distinct count
 * (`d:<feature>`) lowered by the values removed, and, with `redis`, the same done to Redis's copy before the
 * transaction commits (`forgetGlobalFields`; a failed Redis call rolls the batch back: the next run tries it
 * again). Redis's global hash has no expiry, so without this it kept every value ever seen. Returns the rows
 * removed.
 */
async function purgeGlobalCounts(pool: Pool, before: Date, redis: Redis | undefined): Promise<number> {
  let removed = 0;
  for (;;) {
    const client = await pool.connect();
    let purged: Array<{ field: string; count: string }>;
    try {
      await client.query('begin');
      ({ rows: purged } = await client.query<{ field: string; count: string }>(
        `delete from rba_counts where scope = $1 and updated_at < $2 and field in (
           select field from rba_counts where scope = $1 and field like 'c:%' and updated_at < $2
           limit $3 for update skip locked
         ) returning field, count::text as count`,
        [GLOBAL_SCOPE, before, GLOBAL_BATCH],
      ));
      const lowered = distinctLowered(purged.map((p) => p.field));
      if (lowered.size > 0)
        await client.query(
          `update rba_counts set count = greatest(0, count - u.n)
             from unnest($2::text[], $3::bigint[]) as u(f, n) where scope = $1 and field = u.f`,
          [GLOBAL_SCOPE, [...lowered.keys()], [...lowered.values()]],
        );
      if (redis) await forgetGlobalFields(redis, purged);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    removed += purged.length;
    if (purged.length < GLOBAL_BATCH) return removed;
  }
}
