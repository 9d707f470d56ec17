/**
 * One transition of one login, in the order that never loses an audit record:
 *
 * 1. claim the login in Redis (its state is still `from`, nobody else is moving it, its deadline fits `mode`);
 * 2. write the audit record in PostgreSQL; if that fails, release the claim and throw: the state is unchanged;
 * 3. commit the new state in Redis (TTL = the new state's timeout + grace, deadline in the sorted set).
 *
 * A crash or a Redis failure between 2 and 3 leaves an audit record of a transition the state did not take:
 * the audit log may hold more than happened, never less.
 *
 * Two transitions that follow each other in one request (an SSO login's start and FRAUD_CHECK; TOKEN_GENERATION
 * and COMPLETED) share a Redis call: the first one's commit also claims the login for the second
 * (`claimNext`), which then writes its audit record and commits (`claimed`): 3 calls instead of 4, and still
 * no audit record of a transition that lost a race (the second one's claim is taken atomically with the first
 * one's commit, before its audit record). The second one still refuses a login whose deadline has passed.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditErrorCode } from '../audit-codes.ts';
import { FlowError, type FlowErrorCode } from './flow-error.ts';
import { deadlinesKey, recordKey, shardOf, stateFields } from './login-record.ts';
import { CLAIM, CLAIM_ANY, COMMIT, COMMIT_THEN_CLAIM, RELEASE } from './redis-scripts.ts';
import { INITIAL_STATE, parseState, stateRow, type LoginState } from './states.ts';

/** Seconds a login's hash outlives its deadline, so the sweeper still finds it. */
export const GRACE_SECONDS = 60;
/** Seconds a login in a terminal state stays readable (the interaction reads the outcome). */
export const TERMINAL_TTL_SECONDS = 600;
/** How long a claim protects a transition in progress; above the pool's worst case for one audit insert. */
export const CLAIM_LEASE_MS = 30_000;
/**
 * How long a claim taken ahead of its transition (`held`) may wait for it: past this, the transition is refused
 * before its audit record, so that the audit insert and the commit always have half the lease left (a claim
 * that lapsed meanwhile would leave an audit record of a transition whose commit is then refused).
 */
export const HELD_CLAIM_USABLE_MS = CLAIM_LEASE_MS / 2;

export interface TransitionDeps {
  redis: Redis;
  audit: AuditLog;
  now: () => number;
}

export interface TransitionPlan {
  loginId: string;
  /**
   * The state the login must be in; `null` to create it; or, for a live transition, the states the
   * target may be entered from (the state table's): the claim then reads the login (no read before it).
   */
  from: LoginState | null | readonly LoginState[];
  to: LoginState;
  /** `live`: refuse when the deadline passed; `expired`: only when it passed (the sweeper). */
  mode: 'live' | 'expired';
  component: string;
  errorCode?: AuditErrorCode;
  requestId?: string;
  details?: Record<string, unknown>;
  /** More hash fields to set with the new state (at start: client, acr values), given the transition's time. */
  extraFields?: (at: number) => string[];
  /**
   * A live transition from a list: the error to throw instead of `FLOW_NOT_FOUND` / `FLOW_ILLEGAL_TRANSITION`
   * when there is no login (`null`) or its state is not among the sources (nothing was claimed then).
   */
  refuse?: (state: LoginState | null) => Error;
  /**
   * The commit also claims the login for a transition that follows at once (`COMMIT_THEN_CLAIM`): its token.
   * The caller then applies that transition with {@link TransitionPlan.claimed}.
   */
  claimNext?: string;
  /**
   * Claimed already by the previous transition's commit (`claimNext`), from the state it entered, whose
   * deadline (`null`: none) is checked here as the claim would have: no claim call; the audit record is still
   * written before the commit. The state table's check is the caller's.
   */
  claimed?: { token: string; from: LoginState | null; deadline: number | null; claimedAt?: number };
  /**
   * Writes that belong with the new state, sent in the same round trip as the commit (after the audit record,
   * as the commit): e.g. the login's context saved as the login starts. Not sent when the claim or the audit
   * record failed; sent even if the commit then finds its claim lost (the login's next transition refuses it).
   */
  alongCommit?: () => Promise<unknown>;
}

const REFUSAL: Record<string, [FlowErrorCode, string]> = {
  EXISTS: ['FLOW_ILLEGAL_TRANSITION', 'login already started'],
  NOT_FOUND: ['FLOW_NOT_FOUND', 'no such login'],
  CONFLICT: ['FLOW_ILLEGAL_TRANSITION', 'state changed concurrently'],
  BUSY: ['FLOW_ILLEGAL_TRANSITION', 'another transition in progress'],
  EXPIRED: ['FLOW_EXPIRED', 'deadline passed'],
  NOT_EXPIRED: ['FLOW_ILLEGAL_TRANSITION', 'deadline not passed'],
};

/**
 * Applies one transition the caller has already checked against the state table (or, `from` a list, whose
 * sources the claim checks). Returns the time it took effect, the new deadline and (`from` a list) the
 * login's hash before the transition. Throws `FlowError` when Redis refuses the claim, `AuditError` when the
 * audit record could not be written (and then nothing changed).
 */
export async function applyTransition(
  deps: TransitionDeps,
  plan: TransitionPlan,
): Promise<{ at: number; deadline: number | null; previous: Record<string, string> | null }> {
  const key = recordKey(plan.loginId);
  const token = plan.claimed?.token ?? randomUUID();
  const at = deps.now();
  let from: LoginState | null;
  let previous: Record<string, string> | null = null;
  if (plan.claimed) {
    // the previous transition's commit claimed the login for this one, in the same Redis call: nobody moved it
    // since; the deadline of the state it entered is checked as the claim checks it (CLAIM_ANY)
    from = plan.claimed.from;
    const { claimedAt } = plan.claimed;
    if (claimedAt !== undefined && at - claimedAt >= HELD_CLAIM_USABLE_MS) {
      await RELEASE.run(deps.redis, [key], [token]).catch(() => undefined);
      throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition held its claim too long', {
        loginId: plan.loginId,
        detail: `claim taken ${at - claimedAt} ms before its transition; its lease is ${CLAIM_LEASE_MS} ms`,
        refusal: 'HELD_TOO_LONG',
      });
    }
    if (plan.claimed.deadline !== null && plan.claimed.deadline <= at) {
      await RELEASE.run(deps.redis, [key], [token]).catch(() => undefined);
      throw new FlowError('FLOW_EXPIRED', 'login timed out', {
        loginId: plan.loginId,
        detail: `deadline of ${from} passed`,
      });
    }
  } else if (Array.isArray(plan.from)) {
    previous = await claimFromAny(deps, plan, key, token, at);
    from = parseState(previous.state);
  } else {
    from = plan.from as LoginState | null;
    const claimed = await redisCall(plan.loginId, () =>
      CLAIM.run(deps.redis, [key], [from ?? '', token, at, CLAIM_LEASE_MS, from === null ? 'new' : plan.mode]),
    );
    if (claimed !== 'OK') refuse(plan, from ?? 'new', String(claimed));
  }
  try {
    await deps.audit.append({
      sessionId: plan.loginId,
      from,
      to: plan.to,
      component: plan.component,
      ...(plan.errorCode === undefined ? {} : { errorCode: plan.errorCode }),
      ...(plan.requestId === undefined ? {} : { requestId: plan.requestId }),
      ...(plan.details === undefined ? {} : { details: plan.details }),
    });
  } catch (error) {
    // Best effort: if Redis is also gone, the claim's lease lets the next caller through.
    await RELEASE.run(deps.redis, [key], [token]).catch(() => undefined);
    throw error;
  }
  const timeout = stateRow(plan.to).timeoutSeconds;
  const deadline = timeout === null ? null : at + timeout * 1000;
  const ttl = timeout === null ? TERMINAL_TTL_SECONDS : timeout + GRACE_SECONDS;
  const fields = [...stateFields(plan.to, at, plan.errorCode), ...(plan.extraFields?.(at) ?? [])];
  const keys = [key, deadlinesKey(shardOf(plan.loginId))];
  // issued in the same tick as the commit, so that both leave in one socket write (one write per turn, store/redis.ts)
  const committing = redisCall(plan.loginId, () =>
    plan.claimNext === undefined
      ? COMMIT.run(deps.redis, keys, [token, plan.loginId, deadline ?? '', ttl, ...fields])
      : COMMIT_THEN_CLAIM.run(deps.redis, keys, [
          token,
          plan.loginId,
          deadline ?? '',
          ttl,
          plan.claimNext,
          deps.now(),
          ...fields,
        ]),
  );
  // both waited for: a caller answering a failure never races a write still in flight
  const [commit, along] = await Promise.allSettled([committing, plan.alongCommit?.()]);
  if (commit.status === 'rejected') throw commit.reason;
  if (along.status === 'rejected') throw along.reason;
  if (commit.value !== 1) {
    throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition lost its claim', {
      loginId: plan.loginId,
      detail: 'claim lease expired before commit',
    });
  }
  return { at, deadline, previous };
}

/**
 * The claim of a live transition from any of `plan.from`, alone (`LoginFlow.claim`): the login's hash as it
 * was. The transition is then applied with `claimed`; nothing is audited until it is.
 */
export async function claimLive(
  deps: TransitionDeps,
  plan: TransitionPlan,
  token: string,
): Promise<Record<string, string>> {
  return claimFromAny(deps, plan, recordKey(plan.loginId), token, deps.now());
}

/**
 * The claim of a login's start, alone (`LoginFlow.tryClaimStart`): the id is free and now reserved for this
 * caller, whose start then applies it with `claimed` (`from` null). Refused as a start would be.
 */
export async function claimNew(deps: TransitionDeps, loginId: string, token: string): Promise<void> {
  const answer = await redisCall(loginId, () =>
    CLAIM.run(deps.redis, [recordKey(loginId)], ['', token, deps.now(), CLAIM_LEASE_MS, 'new']),
  );
  if (answer !== 'OK')
    refuse({ loginId, from: null, to: INITIAL_STATE, mode: 'live', component: 'claim' }, 'new', String(answer));
}

function refuse(plan: TransitionPlan, from: string, answer: string): never {
  const refusal = REFUSAL[answer];
  if (!refusal)
    throw new FlowError('FLOW_STORE_UNAVAILABLE', 'unexpected answer from Redis', {
      loginId: plan.loginId,
      detail: answer,
    });
  throw new FlowError(refusal[0], refusal[1], {
    loginId: plan.loginId,
    detail: `${from} → ${plan.to}: ${refusal[1]}`,
    refusal: answer,
  });
}

/**
 * The claim of a live transition from any of `plan.from`: answers the login's hash as it was (its state
 * among them). A state outside them is `FLOW_ILLEGAL_TRANSITION`, or `FLOW_UNKNOWN_STATE` when it is no
 * state at all; nothing was claimed then.
 */
async function claimFromAny(
  deps: TransitionDeps,
  plan: TransitionPlan,
  key: string,
  token: string,
  at: number,
): Promise<Record<string, string>> {
  const answer = (await redisCall(plan.loginId, () =>
    CLAIM_ANY.run(deps.redis, [key], [token, at, CLAIM_LEASE_MS, ...(plan.from as readonly LoginState[])]),
  )) as string[];
  const [verdict, ...rest] = Array.isArray(answer) ? answer : [String(answer)];
  if (verdict === 'OK') {
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < rest.length; i += 2) hash[rest[i]!] = rest[i + 1]!;
    return hash;
  }
  const state = rest[0] ?? '';
  if (plan.refuse && verdict === 'NOT_FOUND') throw plan.refuse(null);
  if (plan.refuse && verdict === 'ILLEGAL') throw plan.refuse(parseState(state)); // an unknown value stays FLOW_UNKNOWN_STATE
  if (verdict === 'NOT_FOUND') throw new FlowError('FLOW_NOT_FOUND', 'no such login', { loginId: plan.loginId });
  if (verdict === 'ILLEGAL')
    throw new FlowError('FLOW_ILLEGAL_TRANSITION', 'transition not allowed', {
      loginId: plan.loginId,
      detail: `${parseState(state)} → ${plan.to}`,
    });
  if (verdict === 'EXPIRED')
    throw new FlowError('FLOW_EXPIRED', 'login timed out', {
      loginId: plan.loginId,
      detail: `deadline of ${state} passed`,
    });
  return refuse(plan, state, String(verdict));
}

/** Runs a Redis call; a failure of Redis itself becomes `FLOW_STORE_UNAVAILABLE`. */
export async function redisCall<T>(loginId: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new FlowError('FLOW_STORE_UNAVAILABLE', 'Redis did not answer', {
      ...(loginId ? { loginId } : {}),
      cause: error,
    });
  }
}
