/**
 * The RPs of revoked sessions still to be told (back channel, CAEP), kept in PostgreSQL (`session_revocations`,
 * migration 0870), so that no revocation's notice depends on the process that made it:
 *
 * - a revocation that ended sessions is written with `notified_at` null; made by a gateway, under that gateway's
 *   lease (`notify_claimed_by` its holder id, `notify_claimed_until`), which it renews while it tells the RPs;
 *   made by the session CLI, under none;
 * - any gateway's sweeper takes a row no lease holds (`for update skip locked`, then a lease of its own), one at a
 *   time: the CLI's revocations, and those whose gateway stopped before it was done;
 * - only the lease's holder renews it or marks the row told, once every listener ran for its sessions without an
 *   error of ours (a back-channel endpoint that refused three times is an RP's failure, audited: told); an error of
 *   ours (a record PostgreSQL or the HSM could not open) leaves the row to be taken again when the lease runs out:
 *   at least once, a logout token or a SET twice rather than none;
 * - an attempt that failed for some sessions keeps only those (`notify_pending`) and is taken again after a backoff
 *   ({@link retryDelayMs}: 1 minute, doubling, 1 hour at most), so that a long outage of ours does not spend every
 *   attempt in minutes, and the RPs already told are not told again;
 * - a row taken {@link MAX_NOTICE_ATTEMPTS} times is left for an operator (logged `REVOCATION_RPS_NOT_TOLD`; the
 *   rows: `notified_at is null and notify_attempts >= 10`; set `notify_attempts = 0` to try again), never retried
 *   forever.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { COLUMNS, toRecord, type Row, type StoredRecord } from './stored-record.ts';

/** How long a gateway holds a revocation it tells the RPs of before another may take it (renewed while it works). */
export const NOTICE_LEASE_MS = 120_000;
/** Times a revocation's RPs are tried before the row is left for an operator. */
export const MAX_NOTICE_ATTEMPTS = 10;

export interface DueNotice {
  id: string;
  actor: string;
  reason: string;
  /** How many times it was taken, this one included. */
  attempts: number;
  /** The sessions the revocation ended, as their current rows (expired or not). */
  records: StoredRecord[];
}

const CLAIM = `
  update session_revocations s
  set notify_claimed_by = $2, notify_claimed_until = clock_timestamp() + make_interval(secs => $3 / 1000.0),
    notify_attempts = s.notify_attempts + 1
  where s.id = (
    select id from session_revocations
    where notified_at is null and notify_attempts < $1
      and (notify_claimed_until is null or notify_claimed_until < clock_timestamp())
    order by id limit 1
    for update skip locked)
  returning s.id::text as id, s.actor, s.reason, coalesce(s.notify_pending, s.record_keys) as record_keys,
    s.notify_attempts`;

/** How long after its `attempts`-th failed attempt a revocation is taken again. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

export class RevocationNotices {
  readonly #pool: Pool;
  /** This process's name on the leases it holds. */
  readonly holder = `${process.pid}:${randomUUID()}`;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Takes the oldest revocation whose RPs no gateway is telling, under a lease of `leaseMs`; null when none. */
  async claimNext(leaseMs = NOTICE_LEASE_MS): Promise<DueNotice | null> {
    const { rows } = await this.#pool.query<{
      id: string;
      actor: string;
      reason: string;
      record_keys: Buffer[];
      notify_attempts: number;
    }>(CLAIM, [MAX_NOTICE_ATTEMPTS, this.holder, leaseMs]);
    const row = rows[0];
    if (!row) return null;
    const { rows: current } = await this.#pool.query<Row>(
      `select ${COLUMNS} from session_records where record_key = any($1) and valid_to is null`,
      [row.record_keys],
    );
    return {
      id: row.id,
      actor: row.actor,
      reason: row.reason,
      attempts: row.notify_attempts,
      records: current.map(toRecord),
    };
  }

  /** Holds a revocation being told for `leaseMs` more; false when this process no longer holds it. */
  async renew(id: string, leaseMs = NOTICE_LEASE_MS): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `update session_revocations set notify_claimed_until = clock_timestamp() + make_interval(secs => $3 / 1000.0)
       where id = $1 and notified_at is null and notify_claimed_by = $2`,
      [id, this.holder, leaseMs],
    );
    return rowCount === 1;
  }

  /**
   * The attempt failed for the sessions `pending` (all when null): only they are told at the next attempt, taken
   * after {@link retryDelayMs}.
   */
  async retryLater(id: string, pending: readonly Buffer[] | null, attempts: number): Promise<void> {
    await this.#pool.query(
      `update session_revocations
       set notify_pending = coalesce($3::bytea[], notify_pending),
         notify_claimed_until = clock_timestamp() + make_interval(secs => $4 / 1000.0)
       where id = $1 and notified_at is null and notify_claimed_by = $2`,
      [id, this.holder, pending, retryDelayMs(attempts)],
    );
  }

  /** Every RP of the revocation's sessions was told (by this holder). */
  async told(id: string): Promise<void> {
    await this.#pool.query(
      'update session_revocations set notified_at = clock_timestamp() where id = $1 and notified_at is null and notify_claimed_by = $2',
      [id, this.holder],
    );
  }
}
