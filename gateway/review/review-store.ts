/**
 * The manual-review queue (PostgreSQL `review_queue`; the verified outcome waits sealed in Redis meanwhile,
 * `LoginContextStore.holdSealed`).
 *
 * - FLAGGED → MANUAL_REVIEW enqueues the login with its score and reasons and a deadline (900 s, the
 *   state's timeout); the person's browser waits on a page that polls;
 * - an operator approves or denies it once (`REVIEW_NOT_PENDING` otherwise): a denial moves the login to
 *   DENIED at once; an approval lets the waiting browser finish (MANUAL_REVIEW → COMPLETED);
 * - a level-3 review (the policy's highest level, and any flag by the review threshold) needs `requiredApprovals` distinct operators: each
 *   approval is recorded (audit `REVIEW_APPROVAL_RECORDED`), the last one approves; the same operator
 *   twice gets `REVIEW_SAME_OPERATOR` (409). One UPDATE decides, so concurrent approvals count exactly;
 * - the timeout is the flow sweeper's (MANUAL_REVIEW → DENIED, `FLOW_TIMEOUT`); a row still pending past
 *   its deadline reads as `expired`;
 * - every step writes an audit record (component `review`).
 */
import { prepared } from '../store/prepared.ts';
import type { LaggingReads } from '../store/replica-router.ts';
import type { Pool, PoolClient } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import { GatewayError } from '../errors.ts';
import { inTransaction } from '../session/pg-transaction.ts';

export type ReviewStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface ReviewItem {
  loginId: string;
  clientId: string;
  idp: string;
  accountId: string;
  score: number;
  reasons: string[];
  status: ReviewStatus;
  createdAt: Date;
  deadline: Date;
  decidedBy: string | null;
  note: string | null;
  /** The policy level that flagged the login (0 when none was given). */
  level: number;
  /** Operators who approved so far (a level-3 review needs several). */
  approvals: string[];
}

interface Row {
  login_id: string;
  client_id: string;
  idp: string;
  account_id: string;
  score: number;
  reasons: string[];
  status: ReviewStatus;
  created_at: Date;
  deadline: Date;
  decided_by: string | null;
  note: string | null;
  level: number;
  approvals: string[];
}

const toItem = (r: Row): ReviewItem => ({
  loginId: r.login_id,
  clientId: r.client_id,
  idp: r.idp,
  accountId: r.account_id,
  score: r.score,
  reasons: r.reasons,
  status: r.status === 'pending' && r.deadline.getTime() <= Date.now() ? 'expired' : r.status,
  createdAt: r.created_at,
  deadline: r.deadline,
  decidedBy: r.decided_by,
  note: r.note,
  level: r.level,
  approvals: r.approvals,
});

export const REVIEW_TIMEOUT_SECONDS = 900;

// Read at every login's completion: named (store/prepared.ts), planned once per connection.
// Its columns are named: a cached plan of `select *` fails once a migration adds a column under a running process.
const REVIEW_ITEM = prepared(
  'review_item',
  'select login_id, client_id, idp, account_id, score, reasons, status, created_at, deadline, decided_by, note, level, approvals from review_queue where login_id = $1',
);
export class ReviewStore {
  readonly #pool: Pool;
  readonly #audit: AuditLog;
  readonly #laggingReads: LaggingReads;

  /** `laggingReads`: where the listing may read (the replica while it keeps up); the primary when absent. */
  constructor(pool: Pool, audit: AuditLog, laggingReads?: LaggingReads) {
    this.#pool = pool;
    this.#audit = audit;
    this.#laggingReads = laggingReads ?? { pool: () => pool };
  }

  /** Puts a login in the queue (its verified outcome is held sealed by the caller first: `LoginContextStore.holdSealed`). */
  async enqueue(item: {
    loginId: string;
    clientId: string;
    idp: string;
    accountId: string;
    score: number;
    reasons: string[];
    level: number;
  }): Promise<void> {
    await this.#pool.query(
      `insert into review_queue (login_id, client_id, idp, account_id, score, reasons, deadline, level)
       values ($1, $2, $3, $4, $5, $6::jsonb, now() + make_interval(secs => $7), $8) on conflict (login_id) do nothing`,
      [
        item.loginId,
        item.clientId,
        item.idp,
        item.accountId,
        item.score,
        JSON.stringify(item.reasons),
        REVIEW_TIMEOUT_SECONDS,
        item.level,
      ],
    );
    await this.#audit.append({
      sessionId: item.loginId,
      from: null,
      to: 'REVIEW_QUEUED',
      component: 'review',
      details: { score: item.score, reasons: item.reasons, level: item.level },
    });
  }

  async get(loginId: string): Promise<ReviewItem | null> {
    const { rows } = await this.#pool.query<Row>(REVIEW_ITEM.with([loginId]));
    return rows[0] ? toItem(rows[0]) : null;
  }

  /**
   * Pending items, oldest first: an operator's worklist, read where reads may lag (a streaming replica a
   * second behind shows the same list a second later). Deciding reads the item on the primary (`get`, `decide`).
   */
  async pending(limit = 100): Promise<ReviewItem[]> {
    const { rows } = await this.#laggingReads
      .pool()
      .query<Row>(
        `select * from review_queue where status = 'pending' and deadline > now() order by created_at limit $1`,
        [limit],
      );
    return rows.map(toItem);
  }

  /**
   * Records an operator's decision. A denial decides at once; an approval decides once `requiredApprovals`
   * distinct operators approved a level-3 review (one approval otherwise); until then the item stays
   * pending with the approval recorded. Throws `REVIEW_NOT_FOUND` (404), `REVIEW_NOT_PENDING` (409) or
   * `REVIEW_SAME_OPERATOR` (409).
   *
   * @example
   * await reviews.decide('a1b2', 'approved', 'alice', 'called the person back', 2);
   */
  async decide(
    loginId: string,
    status: 'approved' | 'denied',
    operator: string,
    note: string | undefined,
    requiredApprovals: number,
  ): Promise<ReviewItem> {
    // the decision and its audit record in one transaction on one connection: both commit, or neither (whatever
    // makes the record fail, the decision does not take effect without it); the row stays locked meanwhile, so a
    // concurrent decision waits for this one's outcome. The record is inserted last: it holds the audit chain's
    // head until the COMMIT
    return inTransaction(this.#pool, (client) =>
      this.#decideWithin(client, loginId, status, operator, note, requiredApprovals),
    );
  }

  async #decideWithin(
    client: PoolClient,
    loginId: string,
    status: 'approved' | 'denied',
    operator: string,
    note: string | undefined,
    requiredApprovals: number,
  ): Promise<ReviewItem> {
    const { rows } =
      status === 'denied'
        ? await client.query<Row>(
            `update review_queue set status = 'denied', decided_by = $2, decided_at = now(), note = $3
         where login_id = $1 and status = 'pending' and deadline > now() returning *`,
            [loginId, operator, note ?? null],
          )
        : await client.query<Row>(
            `update review_queue set approvals = approvals || jsonb_build_array($2::text),
           status = case when jsonb_array_length(approvals) + 1 >= (case when level >= 3 then $4::int else 1 end) then 'approved' else 'pending' end,
           decided_by = $2, decided_at = now(), note = coalesce($3, note)
         where login_id = $1 and status = 'pending' and deadline > now() and not approvals ? $2 returning *`,
            [loginId, operator, note ?? null, requiredApprovals],
          );
    if (!rows[0]) {
      const existing = await client
        .query<Row>(REVIEW_ITEM.with([loginId]))
        .then((r) => (r.rows[0] ? toItem(r.rows[0]) : null));
      if (!existing) throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
      if (existing.status === 'pending' && existing.approvals.includes(operator)) {
        throw new GatewayError('REVIEW_SAME_OPERATOR', 409, 'this review needs the approval of another operator');
      }
      throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review was already decided or has expired', {
        detail: existing.status,
      });
    }
    const item = toItem(rows[0]);
    const to =
      item.status === 'approved'
        ? 'REVIEW_APPROVED'
        : item.status === 'denied'
          ? 'REVIEW_DENIED'
          : 'REVIEW_APPROVAL_RECORDED';
    await this.#audit.appendWithin(client, {
      sessionId: loginId,
      from: 'MANUAL_REVIEW',
      to,
      component: 'review',
      details: { operator, ...(note ? { note } : {}), ...(status === 'approved' ? { approvals: item.approvals } : {}) },
    });
    return item;
  }

  /** Marks a review whose login already left MANUAL_REVIEW (timed out) as expired. */
  async expire(loginId: string): Promise<void> {
    await this.#pool.query(
      `update review_queue set status = 'expired', decided_at = now() where login_id = $1 and status = 'pending'`,
      [loginId],
    );
  }
}
