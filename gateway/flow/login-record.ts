/**
 * The record of one login in Redis: its shape, its keys, and its conversion to and from a Redis hash.
 *
 * - one hash per login; the deadlines of all logins in sorted sets (score = deadline in ms);
 * - keys carry a hash tag (`{s<n>}`) so that a login's hash and the deadline set it belongs to live in the
 *   same Redis Cluster slot: the Lua scripts that touch both stay legal on a cluster; the sweeper walks the
 *   {@link SHARDS} sets;
 * - a state read back from Redis goes through `parseState`: an unknown value throws, it is never guessed.
 */
import { parseState, type LoginState } from './states.ts';

/** A login as the state machine knows it. Times are milliseconds since the epoch. */
export interface LoginRecord {
  loginId: string;
  state: LoginState;
  /** The relying party that asked for this login. */
  clientId: string;
  /** The request that started the login, when known. */
  requestId: string | null;
  /** The `acr_values` the relying party asked for. */
  acrValues: string[];
  startedAt: number;
  /** When the current state was entered. */
  enteredAt: number;
  /** When the current state times out; `null` in a terminal state. */
  deadline: number | null;
  /** The error code of the transition into the current state, if it had one. */
  errorCode: string | null;
  /** Number of transitions applied so far (1 after `start`). */
  version: number;
}

/** Deadline sets: a power of two, fixed for a deployment (changing it orphans deadlines in flight). */
export const SHARDS = 16;

/** The shard of a login (FNV-1a of its id). */
export function shardOf(loginId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < loginId.length; i += 1) {
    hash ^= loginId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SHARDS;
}

/** The Redis key of a login's hash. */
export function recordKey(loginId: string): string {
  return `flow:{s${shardOf(loginId)}}:login:${loginId}`;
}

/** The Redis key of the deadline set of one shard. */
export function deadlinesKey(shard: number): string {
  return `flow:{s${shard}}:deadlines`;
}

/** The hash fields that describe a state just entered, as the flat list `HSET` takes. */
export function stateFields(state: LoginState, enteredAt: number, errorCode: string | undefined): string[] {
  return ['state', state, 'enteredAt', String(enteredAt), 'errorCode', errorCode ?? ''];
}

/** The hash fields set once, at start. */
export function startFields(
  context: { clientId: string; requestId?: string; acrValues?: string[] },
  startedAt: number,
): string[] {
  return [
    'clientId',
    context.clientId,
    'requestId',
    context.requestId ?? '',
    'acrValues',
    JSON.stringify(context.acrValues ?? []),
    'startedAt',
    String(startedAt),
  ];
}

/** Reads a login's hash; `null` when there is no login (or only a start still being audited). */
export function fromHash(loginId: string, hash: Record<string, string>): LoginRecord | null {
  if (!hash.state) return null;
  return {
    loginId,
    state: parseState(hash.state),
    clientId: hash.clientId ?? '',
    requestId: hash.requestId || null,
    acrValues: JSON.parse(hash.acrValues ?? '[]') as string[],
    startedAt: Number(hash.startedAt),
    enteredAt: Number(hash.enteredAt),
    deadline: hash.deadline ? Number(hash.deadline) : null,
    errorCode: hash.errorCode || null,
    version: Number(hash.version ?? 0),
  };
}
