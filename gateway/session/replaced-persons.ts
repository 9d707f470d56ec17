/**
 * The persons whose session another person's save replaced (a merge across persons, `session-save-merger.ts`: two
 * people's logins at once on one browser). Their grants end (`grant-end.ts`, through the handler `boot-sessions.ts`
 * sets) once the merged save and both requests' Redis writes have surely landed or failed: after the delay of the
 * merged session's own Redis eviction (`evictAfterMergeMs`), never while a write or its lock is under way.
 *
 * Kept in PostgreSQL (`session_grants_to_end`, migration 0820), not in an instance's memory: the merge writes the
 * row before its merged save, and the sweeper of any instance (every second, with the other store timers) takes a
 * due row (`for update skip locked`, then a lease of the same delay), ends its grants and deletes it. An instance
 * stopping meanwhile loses none. While the session still names that person (the merged write not committed yet, or
 * it failed), or when the end failed (PostgreSQL or the audit not answering), the row is taken again at the end of
 * its lease, {@link REPLACED_CHECKS} times in all, then deleted (logged). One row per (session, person) until swept:
 * a later merge round, or another save of theirs replaced meanwhile, adds its grants to it and counts its looks
 * afresh. A few rows per sweep (each under a lease of the delay). Not kept: rows no instance sweeps (`session/cli.ts`
 * runs no timers; a rollback to a version before this one) stay in the table, harmless.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './durable-tier.ts';
import type { RecordKeys } from './record-keys.ts';
import type { SessionPayload } from './session-merge.ts';
import type { ReplacedOutcome, ReplacedPerson } from './session-store-types.ts';

/** How many times a replaced person's grants are looked at while the session still names them (then left). */
export const REPLACED_CHECKS = 3;

const ADD = `insert into session_grants_to_end (record_key, account_key, grants, due_at)
  values ($1, $2, $3::jsonb, now() + make_interval(secs => $4::float8 / 1000))
  on conflict (record_key, account_key) do update
    set grants = session_grants_to_end.grants || excluded.grants,
        due_at = greatest(session_grants_to_end.due_at, excluded.due_at),
        version = session_grants_to_end.version + 1, checks = 0`;
const CLAIM = `update session_grants_to_end t
  set due_at = now() + make_interval(secs => $2::float8 / 1000), checks = t.checks + 1
  where t.id in (select id from session_grants_to_end where due_at <= now() order by due_at limit $1
                 for update skip locked)
  returning t.id, t.record_key, t.account_key, t.grants, t.checks, t.version`;
// the row as it was taken: a merge that added to it meanwhile keeps it, for the next sweep
const DONE = 'delete from session_grants_to_end where id = $1 and version = $2';

interface Due {
  id: string;
  record_key: Buffer;
  account_key: Buffer;
  grants: Record<string, string>;
  checks: number;
  version: string;
}

export class ReplacedPersons {
  readonly #pool: Pool;
  readonly #keys: RecordKeys;
  readonly #delayMs: number;
  readonly #logger: Logger;
  #handler: (replaced: ReplacedPerson) => Promise<ReplacedOutcome> = () => Promise.resolve('ended');
  #sweeping = false;

  /** `delayMs`: from a merge to the end of its replaced person's grants, and between two looks at them. */
  constructor(deps: { pool: Pool; keys: RecordKeys; delayMs: number; logger: Logger }) {
    this.#pool = deps.pool;
    this.#keys = deps.keys;
    this.#delayMs = deps.delayMs;
    this.#logger = deps.logger;
  }

  handle(handler: (replaced: ReplacedPerson) => Promise<ReplacedOutcome>): void {
    this.#handler = handler;
  }

  /**
   * A merge of a save of the session `recordKey` replaced the person of `session` (as that person saved it): their
   * grants to end once it has landed. Written before the merged save (a failure fails that save), in its
   * transaction when it has one (`db`: under the record's lock, where no second connection is taken).
   */
  async replaced(recordKey: Buffer, session: SessionPayload, db: Queryable = this.#pool): Promise<void> {
    if (typeof session.accountId !== 'string') return;
    const grants: Record<string, string> = {};
    for (const [clientId, authorization] of Object.entries(
      (session.authorizations ?? {}) as Record<string, { grantId?: unknown } | undefined>,
    ))
      if (typeof authorization?.grantId === 'string')
        grants[this.#keys.key('Grant', authorization.grantId).toString('hex')] = clientId;
    if (Object.keys(grants).length === 0) return;
    const account = this.#keys.key('account', session.accountId);
    await db.query(ADD, [recordKey, account, JSON.stringify(grants), this.#delayMs]);
  }

  /** Ends the grants of the due rows (at most `limit`); the number of rows taken. One sweep at a time. */
  async sweep(limit = 5): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    try {
      const { rows } = await this.#pool.query<Due>(CLAIM, [limit, this.#delayMs]);
      for (const row of rows) await this.#endDue(row);
      return rows.length;
    } finally {
      this.#sweeping = false;
    }
  }

  async #endDue(row: Due): Promise<void> {
    let outcome: ReplacedOutcome | 'failed';
    try {
      outcome = await this.#handler({
        recordKey: row.record_key,
        accountKey: row.account_key,
        grants: new Map(Object.entries(row.grants)),
      });
    } catch (err) {
      outcome = 'failed';
      this.#logger.warn({ err, checks: row.checks }, 'the grants of a replaced person not ended yet');
    }
    if (outcome !== 'ended' && row.checks < REPLACED_CHECKS) return; // taken again at the end of its lease
    if (outcome === 'failed')
      // their tokens are still refused when presented while the session names the other person (token-guard.ts)
      this.#logger.error({ checks: row.checks }, "the grants of a person another person's save replaced: left");
    await this.#pool.query(DONE, [row.id, row.version]);
  }
}
