/**
 * One transaction of a session revocation (`DurableTier.revoke`): the heads of the sessions the scope matches locked in
 * key order, at most a batch of them, closed and their revoked successors inserted in one statement, and the outbox
 * row, in one transaction. Rounds look again for sessions that began to match while it ran.
 */
import type { Pool } from 'pg';
import { INSERT_REVOCATION, REVOKED_SUCCESSOR } from './durable-statements.ts';
import { inTransaction } from './pg-transaction.ts';
import { COLUMNS, toRecord, type RevocationScope, type Row, type StoredRecord } from './stored-record.ts';

/**
 * How many times a revocation looks again for sessions that began to match while it ran (each round locks and
 * revokes those it finds). A session still beginning to match after the last round is left active: a busy scope
 * (an IdP's every session) may keep gaining sessions, and the revocation must end.
 */
const REVOKE_ROUNDS = 20;
/**
 * The most sessions one revocation transaction ends: a scope matching more (an IdP's every session, a key-compromise
 * instant) is ended in several (`more`), each with its outbox row. In one, a national IdP's million sessions were held
 * in memory, sent in one message, and past about 125,000 threw (an array spread): nothing was revoked.
 */
export const REVOKE_BATCH = 1_000;
/** How one transaction of a revocation is cut (`DurableTier.revoke`). */
export interface RevokeBatch {
  /** The most sessions it ends (default {@link REVOKE_BATCH}). */
  batch?: number;
  /** A transaction after the first: one that finds no session writes no outbox row (its id is ''). */
  later?: boolean;
  /** Only sessions created at or before this instant (a revocation under way ends those of its start, then stops). */
  createdBefore?: Date | null;
}
/** What a revocation matches, who asks and why (`DurableTier.revoke`). */
export interface RevokeTarget {
  match: Buffer | string | Date;
  target: string;
  actor: string;
  reason: string;
  revoke: boolean;
  /** Its RPs told by the caller under its lease (holder id, ms), or left to the gateways' sweepers (null). */
  notice: { holder: string; leaseMs: number } | null;
}

/** One transaction of `DurableTier.revoke` (its `where`: the scope's match, `durable-statements.ts` `SCOPE_MATCH`). */
export function revokeInTransaction(
  pool: Pool,
  where: string,
  scope: RevocationScope,
  { match, target, actor, reason, revoke, notice }: RevokeTarget,
  { batch, later, createdBefore }: Required<RevokeBatch>,
): Promise<{ id: string; records: StoredRecord[]; more: boolean }> {
  return inTransaction(pool, async (client) => {
    // the current, not yet revoked, unexpired sessions of the scope (`r`: the rows of `session_records`)
    const matched = `r.kind = 'Session' and ${where} and r.valid_to is null and r.state <> 'revoked' and r.expires_at > now()`;
    const records: StoredRecord[] = [];
    const done: Buffer[] = [];
    for (let round = 0; round < REVOKE_ROUNDS && records.length < batch; round += 1) {
      // the heads of the sessions matched, locked in key order as their writers lock them (migration 0760): a
      // write or end under way commits first, and the update below sees the row it made; one that starts now
      // waits for this revocation and then finds the session revoked
      const { rows: locked } = await client.query<{ record_key: Buffer }>(
        `select h.record_key from session_record_heads h where h.record_key in (
           select r.record_key from session_records r
           where ${matched} and r.record_key <> all($2::bytea[])
             and ($4::timestamptz is null or r.created_at <= $4::timestamptz))
         order by h.record_key limit $3 for update`,
        [match, done, batch - records.length, createdBefore],
      );
      if (locked.length === 0) break;
      const keys = locked.map((r) => r.record_key);
      // only the sessions whose heads are held: one that began to match after the lock's snapshot (a login
      // committing meanwhile) is locked and revoked in the next round, never revoked unheld (a writer holding
      // its head would then write it again over the revocation). Closed and their successors inserted in one
      // statement: one round trip however many sessions match.
      const { rows } = await client.query<Row>(
        `with closed as (
           update session_records r set valid_to = clock_timestamp()
           where ${matched} and r.record_key = any($3::bytea[])
           returning ${COLUMNS})
         insert into session_records (${COLUMNS}) select ${REVOKED_SUCCESSOR} from closed returning ${COLUMNS}`,
        [match, revoke, keys],
      );
      // one by one: spreading a large array into push() throws past about 125,000 items
      for (const row of rows) records.push(toRecord(row));
      for (const key of keys) done.push(key);
    }
    if (later && records.length === 0) return { id: '', records, more: false };
    const {
      rows: [outbox],
    } = await client.query<{ id: string }>(INSERT_REVOCATION, [
      scope,
      target,
      actor,
      reason,
      records.map((r) => r.recordKey),
      revoke && records.length > 0,
      notice?.holder ?? null,
      notice?.leaseMs ?? null,
    ]);
    // only a wide revocation may match more: one session is one batch, and a session whose tokens were only invalidated
    // stays active, and would match every next batch again
    return { id: outbox!.id, records, more: revoke && scope !== 'session' && records.length >= batch };
  });
}
