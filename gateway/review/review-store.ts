/**
 * The manual-review queue (PostgreSQL `review_queue`; the verified outcome waits in Redis meanwhile).
 *
 * - FLAGGED → MANUAL_REVIEW enqueues the login with its score and reasons and a deadline (900 s, the
 *   state's timeout); the person's browser waits on a page that polls;
 * - an operator approves or denies it once (`REVIEW_NOT_PENDING` otherwise): a denial moves the login to
 *   DENIED at once; an approval lets the waiting browser finish (MANUAL_REVIEW → COMPLETED);
 * - the timeout is the flow sweeper's (MANUAL_REVIEW → DENIED, `FLOW_TIMEOUT`); a row still pending past
 *   its deadline reads as `expired`;
 * - every step writes an audit record (component `review`).
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { AuditLog } from '../audit/audit-log.ts';
import { GatewayError } from '../errors.ts';
import type { LoginOutcome } from '../session/login-context.ts';

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
});

export const REVIEW_TIMEOUT_SECONDS = 900;

export class ReviewStore {
  readonly #pool: Pool;
  readonly #redis: Redis;
  readonly #audit: AuditLog;

  constructor(pool: Pool, redis: Redis, audit: AuditLog) {
    this.#pool = pool;
    this.#redis = redis;
    this.#audit = audit;
  }

  /** Puts a login in the queue and keeps its verified outcome until it is decided. */
  async enqueue(item: { loginId: string; clientId: string; idp: string; accountId: string; score: number; reasons: string[] }, outcome: LoginOutcome): Promise<void> {
    await this.#redis.set(`review:outcome:${item.loginId}`, JSON.stringify(outcome), 'EX', REVIEW_TIMEOUT_SECONDS + 120);
    await this.#pool.query(
      `insert into review_queue (login_id, client_id, idp, account_id, score, reasons, deadline)
       values ($1, $2, $3, $4, $5, $6::jsonb, now() + make_interval(secs => $7)) on conflict (login_id) do nothing`,
      [item.loginId, item.clientId, item.idp, item.accountId, item.score, JSON.stringify(item.reasons), REVIEW_TIMEOUT_SECONDS],
    );
    await this.#audit.append({ sessionId: item.loginId, from: null, to: 'REVIEW_QUEUED', component: 'review', details: { score: item.score, reasons: item.reasons } });
  }

  async get(loginId: string): Promise<ReviewItem | null> {
    const { rows } = await this.#pool.query<Row>('select * from review_queue where login_id = $1', [loginId]);
    return rows[0] ? toItem(rows[0]) : null;
  }

  /** Pending items, oldest first. */
  async pending(limit = 100): Promise<ReviewItem[]> {
    const { rows } = await this.#pool.query<Row>(`select * from review_queue where status = 'pending' and deadline > now() order by created_at limit $1`, [limit]);
    return rows.map(toItem);
  }

  /**
   * Records an operator's decision (once). Throws `REVIEW_NOT_FOUND` or `REVIEW_NOT_PENDING` (409).
   *
   * @example
   * await reviews.decide('a1b2', 'approved', 'operator:alice', 'called the person back');
   */
  async decide(loginId: string, status: 'approved' | 'denied', operator: string, note?: string): Promise<ReviewItem> {
    const { rows } = await this.#pool.query<Row>(
      `update review_queue set status = $2, decided_by = $3, decided_at = now(), note = $4
       where login_id = $1 and status = 'pending' and deadline > now() returning *`,
      [loginId, status, operator, note ?? null],
    );
    if (!rows[0]) {
      const existing = await this.get(loginId);
      if (!existing) throw new GatewayError('REVIEW_NOT_FOUND', 404, 'no such review');
      throw new GatewayError('REVIEW_NOT_PENDING', 409, 'this review was already decided or has expired', { detail: existing.status });
    }
    await this.#audit.append({
      sessionId: loginId,
      from: 'MANUAL_REVIEW',
      to: status === 'approved' ? 'REVIEW_APPROVED' : 'REVIEW_DENIED',
      component: 'review',
      details: { operator, ...(note ? { note } : {}) },
    });
    return toItem(rows[0]);
  }

  /** Marks a review whose login already left MANUAL_REVIEW (timed out) as expired. */
  async expire(loginId: string): Promise<void> {
    await this.#pool.query(`update review_queue set status = 'expired', decided_at = now() where login_id = $1 and status = 'pending'`, [loginId]);
  }

  /** Takes the held outcome (once) after an approval. */
  async takeOutcome(loginId: string): Promise<LoginOutcome | null> {
    const raw = (await this.#redis.getdel(`review:outcome:${loginId}`)) as string | null;
    return raw ? (JSON.parse(raw) as LoginOutcome) : null;
  }
}
