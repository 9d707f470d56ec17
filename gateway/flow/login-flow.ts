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
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditErrorCode } from '../audit-codes.ts';
import { applyTransition, claimLive, claimNew, redisCall } from './apply-transition.ts';
import { RELEASE } from './redis-scripts.ts';
import { FlowError } from './flow-error.ts';
import { fromHash, recordKey, startFields, type LoginRecord } from './login-record.ts';
import { canTransition, INITIAL_STATE, LOGIN_STATES, parseState, type LoginState } from './states.ts';
import { sweepExpired } from './sweep.ts';

export type { LoginRecord } from './login-record.ts';

/** The states each state may be entered from (the state table, read once). */
const SOURCES = new Map<LoginState, readonly LoginState[]>(
  LOGIN_STATES.map((to) => [to, LOGIN_STATES.filter((from) => canTransition(from, to))]),
);
const sourcesOf = (to: LoginState): readonly LoginState[] => SOURCES.get(to)!;

export { SWEEPER_COMPONENT } from './sweep.ts';

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
  errorCode?: AuditErrorCode;
  requestId?: string;
  details?: Record<string, unknown>;
  /**
   * The error to throw when there is no such login (`null`) or its state may not lead to the target (nothing
   * changed then); without it, `FLOW_NOT_FOUND` / `FLOW_ILLEGAL_TRANSITION`. Lets a caller refuse with its
   * own code without reading the login first.
   */
  refuse?: (state: LoginState | null) => Error;
}

/** A claim ahead of its transition ({@link LoginFlow.claim}): `from` narrows the table's sources (never widens). */
export interface ClaimMeta extends Pick<TransitionMeta, 'refuse'> {
  from?: readonly LoginState[];
}

/**
 * A login claimed by one transition's commit for the transition that follows it in the same request
 * ({@link LoginFlow.transitionHolding}): pass it to {@link LoginFlow.transition} as `held`, or give it back
 * with {@link LoginFlow.release} when the request ends otherwise.
 */
export interface HeldClaim {
  readonly token: string;
  /** The login as the holding transition left it (its state is the next transition's source). */
  readonly record: LoginRecord;
  /** When the claim was sent (this instance's clock): a transition later than half its lease is refused. */
  readonly claimedAt: number;
}

/** A login id reserved by {@link LoginFlow.tryClaimStart} for the start this request may make. */
export interface HeldStart {
  readonly token: string;
  /** When the reservation was sent (this instance's clock). */
  readonly claimedAt: number;
}

/** What a transition may do besides moving the state (see `TransitionPlan`). */
export interface TransitionExtras {
  /** Writes sent in the same round trip as the commit, once the audit record is written. */
  alongCommit?: () => Promise<unknown>;
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
  async start(
    loginId: string,
    context: { clientId: string; requestId?: string; acrValues?: string[]; component?: string },
    extras: TransitionExtras & { held?: HeldStart } = {},
  ): Promise<LoginRecord> {
    return this.#start(loginId, context, undefined, extras);
  }

  /**
   * Reserves a login id for a start this request may make, so that the claim travels with the request's first
   * reads (one round trip less): `{ held }` to pass to {@link start}, or `{ error }` as the start would have
   * thrown it (the login exists: `FLOW_ILLEGAL_TRANSITION`; Redis: `FLOW_STORE_UNAVAILABLE`). Nothing is
   * audited; a request that does not start gives it back with {@link releaseStart} (the lease is its bound).
   */
  async tryClaimStart(loginId: string): Promise<{ held: HeldStart } | { error: unknown }> {
    const token = randomUUID();
    const claimedAt = this.#deps.now();
    return claimNew(this.#deps, loginId, token).then(
      () => ({ held: { token, claimedAt } }),
      (error: unknown) => ({ error }),
    );
  }

  /** Gives back a reservation of {@link tryClaimStart} not used: nothing of the login is left. Best effort. */
  async releaseStart(loginId: string, held: HeldStart): Promise<void> {
    await RELEASE.run(this.#deps.redis, [recordKey(loginId)], [held.token]).catch(() => undefined);
  }

  /** {@link start}; with `claimNext`, its commit also claims the login for the transition that follows. */
  async #start(
    loginId: string,
    context: { clientId: string; requestId?: string; acrValues?: string[]; component?: string },
    claimNext?: string,
    extras: TransitionExtras & { held?: HeldStart } = {},
  ): Promise<LoginRecord> {
    if (!loginId || !context.clientId)
      throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'a login needs an id and a client', {
        detail: 'empty loginId or clientId',
      });
    const { at, deadline } = await applyTransition(this.#deps, {
      loginId,
      from: null,
      to: INITIAL_STATE,
      mode: 'live',
      component: context.component ?? 'flow',
      ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
      details: { clientId: context.clientId, acrValues: context.acrValues ?? [] },
      extraFields: (at) => startFields(context, at),
      ...(claimNext === undefined ? {} : { claimNext }),
      ...(extras.alongCommit === undefined ? {} : { alongCommit: extras.alongCommit }),
      ...(extras.held === undefined
        ? {}
        : { claimed: { token: extras.held.token, from: null, deadline: null, claimedAt: extras.held.claimedAt } }),
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
   * Starts a login and moves it at once to `to` (an SSO login: INITIATED, then FRAUD_CHECK), each transition
   * audited before its state changes, as {@link start} then {@link transition} would, in 3 Redis calls instead
   * of 4: the start's commit also claims the login for the second transition, so nothing moves it in between.
   * If the second one's audit record cannot be written, the login stays INITIATED (it throws, as
   * {@link transition} does); a target the state table does not allow from INITIATED throws
   * `FLOW_ILLEGAL_TRANSITION` before anything is written.
   *
   * @example
   * await flow.startThen(uid, { clientId, requestId, acrValues: [acr], component: 'sso' }, 'FRAUD_CHECK', {
   *   component: 'sso',
   *   requestId,
   * });
   */
  async startThen(
    loginId: string,
    context: { clientId: string; requestId?: string; acrValues?: string[]; component?: string },
    to: LoginState,
    meta: Omit<TransitionMeta, 'refuse'>,
  ): Promise<LoginRecord> {
    const target = parseState(to);
    if (!canTransition(INITIAL_STATE, target))
      throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition not allowed', {
        loginId,
        detail: `${INITIAL_STATE} → ${target}`,
      });
    const next = randomUUID();
    const started = await this.#start(loginId, context, next);
    const { at, deadline } = await applyTransition(this.#deps, {
      component: meta.component,
      ...(meta.errorCode === undefined ? {} : { errorCode: meta.errorCode }),
      ...(meta.requestId === undefined ? {} : { requestId: meta.requestId }),
      ...(meta.details === undefined ? {} : { details: meta.details }),
      loginId,
      from: INITIAL_STATE,
      to: target,
      mode: 'live',
      claimed: { token: next, from: INITIAL_STATE, deadline: started.deadline },
    });
    return { ...started, state: target, enteredAt: at, deadline, errorCode: meta.errorCode ?? null, version: 2 };
  }

  /**
   * Moves a login to `to`, if the state table allows it from its current state and its deadline has not
   * passed. Throws `FlowError` (`FLOW_NOT_FOUND`, `FLOW_EXPIRED`, `FLOW_ILLEGAL_TRANSITION`,
   * `FLOW_UNKNOWN_STATE`, `FLOW_STORE_UNAVAILABLE`) or `AuditError` (`AUDIT_UNAVAILABLE`); in every such case
   * the state is unchanged.
   *
   * @example
   * await flow.transition(loginId, 'FRAUD_CHECK', { component: 'interaction', requestId: ctx.id });
   * await flow.transition(loginId, 'FAILED', { component: 'risk', errorCode: 'RISK_TOO_HIGH' });
   */
  async transition(
    loginId: string,
    to: LoginState,
    meta: TransitionMeta & TransitionExtras & { held?: HeldClaim },
  ): Promise<LoginRecord> {
    return (await this.#transition(loginId, to, meta)).record;
  }

  /**
   * {@link transition}, whose commit also claims the login for the transition that follows in this request
   * (TOKEN_GENERATION, then COMPLETED once the code is stored): that one is then applied with `held` and
   * makes no claim call of its own (one Redis round trip less), still audited before its commit, still refused
   * once the deadline of the state entered here has passed. Until then nobody else moves the login (the
   * sweeper included). A request that will not apply it gives it back with {@link release}; if it cannot (its
   * process died), the claim lapses after its lease and the sweeper times the login out.
   *
   * @example
   * const held = await flow.transitionHolding(uid, 'TOKEN_GENERATION', { component: 'policy', requestId });
   * try { await storeTheCode(); } catch (error) { await flow.release(uid, held); throw error; }
   * await flow.transition(uid, 'COMPLETED', { component: 'oidc', requestId, held });
   */
  async transitionHolding(
    loginId: string,
    to: LoginState,
    meta: TransitionMeta & { held?: HeldClaim },
  ): Promise<HeldClaim> {
    const token = randomUUID();
    const claimedAt = this.#deps.now(); // the commit that claims is sent after this
    const { record } = await this.#transition(loginId, to, meta, token);
    return { token, record, claimedAt };
  }

  /**
   * Claims a login for a transition to `to` that this request will apply once other work is done, so that the
   * claim travels with that work's first Redis write (one round trip less): the state table's sources (narrowed by
   * `meta.from`) and the deadline are checked now (refused with `meta.refuse`'s error, or `FLOW_NOT_FOUND`,
   * `FLOW_ILLEGAL_TRANSITION`, `FLOW_EXPIRED`, `FLOW_UNKNOWN_STATE`), nothing is audited until {@link transition}
   * is called with `held`. Until then nobody else moves the login; a request that ends otherwise gives it back
   * with {@link release}. Example: `start-upstream.ts`.
   */
  async claim(loginId: string, to: LoginState, meta: ClaimMeta = {}): Promise<HeldClaim> {
    const target = parseState(to);
    const token = randomUUID();
    const claimedAt = this.#deps.now();
    const previous = await claimLive(
      this.#deps,
      {
        loginId,
        from: sourcesOf(target).filter((s) => meta.from?.includes(s) ?? true),
        to: target,
        mode: 'live',
        component: 'claim',
        ...(meta.refuse === undefined ? {} : { refuse: meta.refuse }),
      },
      token,
    );
    try {
      return { token, record: fromHash(loginId, previous)!, claimedAt };
    } catch (error) {
      // a record this code cannot read (its acr values corrupted): the claim is given back, not left to its lease
      await RELEASE.run(this.#deps.redis, [recordKey(loginId)], [token]).catch(() => undefined);
      throw error;
    }
  }

  /**
   * {@link claim}, its refusal answered rather than thrown: for a claim awaited beside another call whose answer
   * is looked at first (a rate limit).
   */
  async tryClaim(
    loginId: string,
    to: LoginState,
    meta: ClaimMeta = {},
  ): Promise<{ held: HeldClaim } | { error: unknown }> {
    return this.claim(loginId, to, meta).then(
      (held) => ({ held }),
      (error: unknown) => ({ error }),
    );
  }

  /** Gives back a claim taken by {@link claim} or {@link transitionHolding} and not used; the state stays as it is. Best effort. */
  async release(loginId: string, held: HeldClaim): Promise<void> {
    await RELEASE.run(this.#deps.redis, [recordKey(loginId)], [held.token]).catch(() => undefined);
  }

  async #transition(
    loginId: string,
    to: LoginState,
    meta: TransitionMeta & TransitionExtras & { held?: HeldClaim },
    claimNext?: string,
  ): Promise<{ record: LoginRecord }> {
    const target = parseState(to);
    const { held } = meta;
    if (held && !canTransition(held.record.state, target)) {
      await this.release(loginId, held);
      throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition not allowed', {
        loginId,
        detail: `${held.record.state} → ${target}`,
      });
    }
    // the state table's check, the deadline and the claim in one Redis call (CLAIM_ANY): no read before it;
    // or no claim call at all when the previous transition's commit claimed the login for this one (`held`)
    const { at, deadline, previous } = await applyTransition(this.#deps, {
      component: meta.component,
      ...(meta.errorCode === undefined ? {} : { errorCode: meta.errorCode }),
      ...(meta.requestId === undefined ? {} : { requestId: meta.requestId }),
      ...(meta.details === undefined ? {} : { details: meta.details }),
      ...(meta.refuse === undefined ? {} : { refuse: meta.refuse }),
      ...(meta.alongCommit === undefined ? {} : { alongCommit: meta.alongCommit }),
      ...(claimNext === undefined ? {} : { claimNext }),
      ...(held === undefined
        ? {}
        : {
            claimed: {
              token: held.token,
              from: held.record.state,
              deadline: held.record.deadline,
              claimedAt: held.claimedAt,
            },
          }),
      loginId,
      from: sourcesOf(target),
      to: target,
      mode: 'live',
    });
    const current = held ? held.record : fromHash(loginId, previous!)!;
    return {
      record: {
        ...current,
        state: target,
        enteredAt: at,
        deadline,
        errorCode: meta.errorCode ?? null,
        version: current.version + 1,
      },
    };
  }

  /** The login's current record, or `null` when there is none (never started, or gone after its TTL). */
  async get(loginId: string): Promise<LoginRecord | null> {
    const hash = await redisCall(loginId, () => this.#deps.redis.hgetall(recordKey(loginId)));
    return fromHash(loginId, hash);
  }

  /**
   * Moves every login whose deadline has passed to its timeout state (table column `onTimeout`), audited
   * with error code `FLOW_TIMEOUT`. Returns how many this call moved. Safe to run on several instances at
   * once: each overdue login is moved, and audited, exactly once. Throws `AUDIT_UNAVAILABLE` or
   * `FLOW_STORE_UNAVAILABLE` when a store is down (nothing is moved unaudited; the next round retries).
   */
  async sweepExpired(): Promise<number> {
    return sweepExpired(this.#deps);
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
}
