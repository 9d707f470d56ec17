/**
 * The login state machine: one record per login in Redis, one audit record per transition in PostgreSQL.
 *
 * - a transition the state table does not allow throws `FLOW_ILLEGAL_TRANSITION` and writes nothing;
 * - a transition is atomic: of two concurrent transitions from the same state, exactly one wins;
 * - the audit record is written before the state changes; if it cannot be written the transition throws
 *   (`AUDIT_UNAVAILABLE`) and the state is unchanged: the login fails closed;
 * - a login past its state's deadline is refused (`FLOW_EXPIRED`) and moved by the sweeper to FAILED, or to
 *   DENIED from FLAGGED / MANUAL_REVIEW, with error code `FLOW_TIMEOUT`; any number of instances may sweep.
 */
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.ts';
import { applyTransition, redisCall } from './apply-transition.ts';
import { FlowError } from './flow-error.ts';
import { deadlinesKey, fromHash, recordKey, SHARDS, startFields, type LoginRecord } from './login-record.ts';
import { canTransition, INITIAL_STATE, parseState, stateRow, type LoginState } from './states.ts';

export type { LoginRecord } from './login-record.ts';

/** The component named in the audit records the sweeper writes. */
export const SWEEPER_COMPONENT = 'flow-sweeper';
/** Logins the sweeper takes from one deadline set per round. */
const SWEEP_BATCH = 100;

export interface LoginFlowOptions {
  redis: Redis;
  audit: AuditLog;
  /** Clock in ms since the epoch (tests inject one). Default `Date.now`. */
  now?: () => number;
  /** Told when a background sweep fails (PostgreSQL or Redis down); the sweeper keeps running. */
  onSweepError?: (error: unknown) => void;
}

export interface TransitionMeta {
  /** Which part of the gateway moves the login (`interaction`, `risk`, `policy`, `oidc`, ...). */
  component: string;
  errorCode?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

export class LoginFlow {
  readonly #deps: { redis: Redis; audit: AuditLog; now: () => number };
  readonly #onSweepError: (error: unknown) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<unknown> | undefined;

  constructor(options: LoginFlowOptions) {
    this.#deps = { redis: options.redis, audit: options.audit, now: options.now ?? Date.now };
    this.#onSweepError = options.onSweepError ?? (() => undefined);
  }

  /**
   * Starts a login in INITIATED (audited as `null → INITIATED`, component `context.component` or `flow`).
   * A login id already in use (or empty) throws `FLOW_ILLEGAL_TRANSITION`; an unwritable audit record
   * throws `AUDIT_UNAVAILABLE` and leaves no login behind.
   *
   * @example
   * await flow.start(interactionUid, { clientId: 'rp-1', requestId: ctx.id, acrValues: ['eidas2'] });
   */
  async start(loginId: string, context: { clientId: string; requestId?: string; acrValues?: string[]; component?: string }): Promise<LoginRecord> {
    if (!loginId || !context.clientId) throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'a login needs an id and a client', { detail: 'empty loginId or clientId' });
    const { at, deadline } = await applyTransition(this.#deps, {
      loginId,
      from: null,
      to: INITIAL_STATE,
      mode: 'live',
      component: context.component ?? 'flow',
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
      details: { clientId: context.clientId, acrValues: context.acrValues ?? [] },
      extraFields: (at) => startFields(context, at),
    });
    return {
      loginId,
      state: INITIAL_STATE,
      clientId: context.clientId,
      requestId: context.requestId ?? null,
      acrValues: context.acrValues ?? [],
      startedAt: at,
      enteredAt: at,
      deadline,
      errorCode: null,
      version: 1,
    };
  }

  /**
   * Moves a login to `to`, if the state table allows it from its current state and its deadline has not
   * passed. Throws `FlowError` (`FLOW_NOT_FOUND`, `FLOW_EXPIRED`, `FLOW_ILLEGAL_TRANSITION`,
   * `FLOW_UNKNOWN_STATE`, `FLOW_STORE_UNAVAILABLE`) or `AuditError` (`AUDIT_UNAVAILABLE`); in every such case
   * the state is unchanged.
   *
   * @example
   * await flow.transition(loginId, 'FRAUD_CHECK', { component: 'interaction', requestId: ctx.id });
   * await flow.transition(loginId, 'FAILED', { component: 'risk', errorCode: 'RISK_DENY' });
   */
  async transition(loginId: string, to: LoginState, meta: TransitionMeta): Promise<LoginRecord> {
    const target = parseState(to);
    const current = await this.get(loginId);
    if (!current) throw new FlowError('FLOW_NOT_FOUND', 'no such login', { loginId });
    if (!canTransition(current.state, target)) {
      throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition not allowed', { loginId, detail: `${current.state} → ${target}` });
    }
    if (current.deadline !== null && current.deadline <= this.#deps.now()) {
      throw new FlowError('FLOW_EXPIRED', 'login timed out', { loginId, detail: `deadline of ${current.state} passed` });
    }
    const { at, deadline } = await applyTransition(this.#deps, {
      component: meta.component,
      ...(meta.errorCode === undefined ? {} : { errorCode: meta.errorCode }),
      ...(meta.requestId === undefined ? {} : { requestId: meta.requestId }),
      ...(meta.details === undefined ? {} : { details: meta.details }),
      loginId,
      from: current.state,
      to: target,
      mode: 'live',
    });
    return { ...current, state: target, enteredAt: at, deadline, errorCode: meta.errorCode ?? null, version: current.version + 1 };
  }

  /** The login's current record, or `null` when there is none (never started, or gone after its TTL). */
  async get(loginId: string): Promise<LoginRecord | null> {
    const hash = await redisCall(loginId, () => this.#deps.redis.hgetall(recordKey(loginId)));
    return fromHash(loginId, hash);
  }

  /**
   * Moves every login whose deadline has passed to its timeout state (table column `onTimeout`), audited
   * with error code `FLOW_TIMEOUT`. Returns how many this call moved. Safe to run on several instances at
   * once: each overdue login is moved, and audited, exactly once.
   */
  async sweepExpired(): Promise<number> {
    let moved = 0;
    for (let shard = 0; shard < SHARDS; shard += 1) {
      const now = this.#deps.now();
      const due = await redisCall(undefined, () => this.#deps.redis.zrangebyscore(deadlinesKey(shard), '-inf', now, 'LIMIT', 0, SWEEP_BATCH));
      for (const loginId of due) {
        if (await this.#expire(loginId, shard)) moved += 1;
      }
    }
    return moved;
  }

  /** Runs {@link sweepExpired} every `intervalMs` (never two rounds at once in this process). */
  startSweeper(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = this.sweepExpired()
        .catch((error: unknown) => this.#onSweepError(error))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the sweeper; resolves when a round in progress has finished. */
  async stopSweeper(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** Times out one login. `false` when another instance or a live transition got there first. */
  async #expire(loginId: string, shard: number): Promise<boolean> {
    const current = await this.get(loginId);
    if (!current) {
      // The hash is gone (no sweeper ran within the grace period): the set entry is all that is left.
      return this.#expireLost(loginId, shard);
    }
    const target = stateRow(current.state).onTimeout;
    if (target === null) return false;
    try {
      await applyTransition(this.#deps, {
        loginId,
        from: current.state,
        to: target,
        mode: 'expired',
        component: SWEEPER_COMPONENT,
        errorCode: 'FLOW_TIMEOUT',
        details: { timedOutIn: current.state, deadline: current.deadline },
      });
      return true;
    } catch (error) {
      if (error instanceof FlowError && error.code !== 'FLOW_STORE_UNAVAILABLE') return false;
      throw error;
    }
  }

  /** A login whose hash expired before any sweep: audited as timed out from an unknown state, once. */
  async #expireLost(loginId: string, shard: number): Promise<boolean> {
    const removed = await redisCall(loginId, () => this.#deps.redis.zrem(deadlinesKey(shard), loginId));
    if (removed !== 1) return false;
    try {
      await this.#deps.audit.append({
        sessionId: loginId,
        from: null,
        to: 'FAILED',
        component: SWEEPER_COMPONENT,
        errorCode: 'FLOW_TIMEOUT',
        details: { recordLost: true },
      });
    } catch (error) {
      // Put it back so that a later sweep records it; never drop the audit record.
      await this.#deps.redis.zadd(deadlinesKey(shard), this.#deps.now(), loginId).catch(() => undefined);
      throw error;
    }
    return true;
  }
}
