/**
 * The RPs of revoked sessions still to be told (back channel, CAEP), kept in PostgreSQL (`session_revocations`,
 * migration 0870), so that no revocation's notice depends on the process that made it:
 *
 * - a revocation that ended sessions is written with `notified_at` null; made by a gateway, under that gateway's
 *   lease (`notify_claimed_until`), which it renews while it tells the RPs; made by the session CLI, under none;
 * - any gateway's sweeper takes a row no lease holds (`for update skip locked`, then a lease of its own): the
 *   CLI's revocations, and those whose gateway stopped before it was done;
 * - the row is marked told once every listener ran for its sessions. At least once: a gateway stopping midway
 *   leaves its lease to run out, and the sessions are told again (a logout token or a SET twice, never none).
 */
import type { Pool } from 'pg';
import { COLUMNS, toRecord, type Row, type StoredRecord } from './stored-record.ts';

/** How long a gateway holds a revocation it tells the RPs of before another may take it (renewed while it works). */
export const NOTICE_LEASE_MS = 120_000;

export interface DueNotice {
  id: string;
  actor: string;
  reason: string;
  /** The sessions the revocation ended, as their current rows. */
  records: StoredRecord[];
}

const CLAIM = `
  update session_revocations s set notify_claimed_until = clock_timestamp() + make_interval(secs => $2 / 1000.0)
  where s.id in (
    select id from session_revocations
    where notified_at is null and (notify_claimed_until is null or notify_claimed_until < clock_timestamp())
    order by id limit $1
    for update skip locked)
  returning s.id::text as id, s.actor, s.reason, s.record_keys`;

export class RevocationNotices {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Takes up to `limit` revocations whose RPs no gateway is telling, each under a lease of `leaseMs`. */
  async claimDue(limit: number, leaseMs = NOTICE_LEASE_MS): Promise<DueNotice[]> {
    const { rows } = await this.#pool.query<{ id: string; actor: string; reason: string; record_keys: Buffer[] }>(
      CLAIM,
      [limit, leaseMs],
    );
    const due: DueNotice[] = [];
    for (const row of rows) {
      const { rows: current } = await this.#pool.query<Row>(
        `select ${COLUMNS} from session_records where record_key = any($1) and valid_to is null`,
        [row.record_keys],
      );
      due.push({ id: row.id, actor: row.actor, reason: row.reason, records: current.map(toRecord) });
    }
    return due;
  }

  /** Holds a revocation being told for `leaseMs` more; false when it is not this holder's to tell any more. */
  async renew(id: string, leaseMs = NOTICE_LEASE_MS): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `update session_revocations set notify_claimed_until = clock_timestamp() + make_interval(secs => $2 / 1000.0)
       where id = $1 and notified_at is null`,
      [id, leaseMs],
    );
    return rowCount === 1;
  }

  /** Every RP of the revocation's sessions was told. */
  async told(id: string): Promise<void> {
    await this.#pool.query(
      'update session_revocations set notified_at = clock_timestamp() where id = $1 and notified_at is null',
      [id],
    );
  }
}
