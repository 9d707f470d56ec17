/**
 * The timeout sweep: moves every login whose state deadline has passed to the state's `onTimeout` target
 * (FAILED, or DENIED from FLAGGED / MANUAL_REVIEW), audited with error code `FLOW_TIMEOUT`.
 *
 * - safe with many sweepers at once: the claim lets exactly one move, and audit, a given login;
 * - a login moved by a live transition meanwhile is left alone (its claim fails with `NOT_EXPIRED`/`CONFLICT`);
 * - PostgreSQL or Redis down stops the round (nothing is moved unaudited; the next round retries);
 * - one unreadable login (unknown state) does not stop the others: it is reported after the round.
 */
import { AuditError } from '../audit/audit-error.ts';
import { applyTransition, redisCall, type TransitionDeps } from './apply-transition.ts';
import { FlowError } from './flow-error.ts';
import { deadlinesKey, fromHash, recordKey, SHARDS } from './login-record.ts';
import { stateRow } from './states.ts';

/** The component named in the audit records the sweeper writes. */
export const SWEEPER_COMPONENT = 'flow-sweeper';
/** Logins taken from one deadline set per round. */
const SWEEP_BATCH = 100;

/** One round over every deadline set. Returns how many logins this round moved. */
export async function sweepExpired(deps: TransitionDeps): Promise<number> {
  let moved = 0;
  let unreadable: unknown;
  // every deadline set read at once: one round trip (one write per turn) rather than one per set
  const now = deps.now();
  const dueByShard = await redisCall(undefined, () =>
    Promise.all(
      Array.from({ length: SHARDS }, (_, shard) =>
        deps.redis.zrangebyscore(deadlinesKey(shard), '-inf', now, 'LIMIT', 0, SWEEP_BATCH),
      ),
    ),
  );
  for (const [shard, due] of dueByShard.entries()) {
    for (const loginId of due) {
      try {
        if (await expire(deps, loginId, shard)) moved += 1;
      } catch (error) {
        if (error instanceof AuditError || (error instanceof FlowError && error.code === 'FLOW_STORE_UNAVAILABLE'))
          throw error;
        unreadable ??= error;
      }
    }
  }
  if (unreadable !== undefined) throw unreadable;
  return moved;
}

/** Times out one login. `false` when another sweeper or a live transition got there first. */
async function expire(deps: TransitionDeps, loginId: string, shard: number): Promise<boolean> {
  const hash = await redisCall(loginId, () => deps.redis.hgetall(recordKey(loginId)));
  const current = fromHash(loginId, hash);
  if (!current) {
    if (hash.pending) return false; // a start still being audited
    // The hash is gone (no sweep ran within the grace period): the set entry is all that is left.
    return expireLost(deps, loginId, shard);
  }
  const target = stateRow(current.state).onTimeout;
  if (target === null) return false;
  try {
    await applyTransition(deps, {
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

/** A login whose hash expired before any sweep: audited, once, as timed out from an unknown state. */
async function expireLost(deps: TransitionDeps, loginId: string, shard: number): Promise<boolean> {
  const removed = await redisCall(loginId, () => deps.redis.zrem(deadlinesKey(shard), loginId));
  if (removed !== 1) return false;
  try {
    await deps.audit.append({
      sessionId: loginId,
      from: null,
      to: 'FAILED',
      component: SWEEPER_COMPONENT,
      errorCode: 'FLOW_TIMEOUT',
      details: { recordLost: true },
    });
  } catch (error) {
    // Put it back so that a later round records it: the audit record is never dropped.
    await deps.redis.zadd(deadlinesKey(shard), deps.now(), loginId).catch(() => undefined);
    throw error;
  }
  return true;
}
